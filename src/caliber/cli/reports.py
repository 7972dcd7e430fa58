"""``caliber reports``: rebuild the reports' projection, the KPI file."""

from __future__ import annotations

from typing import Any

import click

from caliber.cli.base import data_file, ledger_of, main, prepare_database, progress_bar, run_with_database
from caliber.config import load_or_exit


@main.group()
def reports() -> None:
    """The Roadmap reports' figures."""


@reports.command("rebuild")
def reports_rebuild() -> None:
    """Rebuild the reports' projection from the whole ledger (a database from before the reports, or after a projection changed)."""
    from caliber.reports.projection import rebuild

    settings = load_or_exit()
    prepare_database(settings)

    async def work(db: Any) -> int:
        log = ledger_of(db, settings)
        progress, advance = progress_bar("projecting entries", await log.size())
        with progress:
            return await rebuild(log, advance)

    entries = run_with_database(settings, work)
    click.echo(f"reports rebuilt from {entries:,} ledger entries")


@reports.command("kpis")
@click.option("--init", is_flag=True, help="copy a shipped KPI set into the data dir, to edit there: the set in force from then on")
@click.option(
    "--set",
    "kpi_set",
    type=click.Choice(["2018-2024", "2025-2030"]),
    default="2018-2024",
    show_default=True,
    help="with --init: which Roadmap's KPI set",
)
def reports_kpis(init: bool, kpi_set: str) -> None:
    """The Roadmap goals and KPIs in force, and the file they come from."""
    from rich.console import Console
    from rich.table import Table

    from caliber.reports.kpis import KPI_FILE, KpiFileError, load_roadmap, shipped_kpi_file

    roadmap = data_file(init, shipped_kpi_file(kpi_set), KPI_FILE, load_roadmap, KpiFileError)
    table = Table("goal", "KPI", "name", "measure", "unit", "reported", "target", title=f"{roadmap.title}: KPIs from {roadmap.source}")
    for kpi in roadmap.kpis:
        table.add_row(str(kpi.goal), kpi.key, kpi.name, kpi.measure, kpi.unit, kpi.period, kpi.target)
    Console().print(table)
