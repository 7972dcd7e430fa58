"""``caliber tracing``: what is due in tracing (for a cron job to mail), and the answers of iARMS queries (hits) read
back and linked to the weapons they concern."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from caliber.cli.base import ledger_of, main, prepared, print_import_errors, progress_bar, run_with_database, writable

if TYPE_CHECKING:
    from caliber.db import Database
    from caliber.tracing.progress import DueLine

SHOWN = 50


@main.group()
def tracing() -> None:
    """Tracing seized, found and surrendered weapons: trace requests out and in, iARMS hits."""


@tracing.command("due")
@click.option("--days", type=click.IntRange(0, 366), default=7, show_default=True, help="also list requests due within this many days")
def tracing_due(days: int) -> None:
    """Print the trace requests of every depot that are overdue or due soon: those we sent awaiting an answer and
    those from other states we must answer (exit code 0 either way)."""
    import datetime as dt

    from caliber.tracing.progress import due_lines

    settings = prepared()
    today = dt.datetime.now(settings.zone).date()

    async def work(db: Database) -> list[DueLine]:
        return list(await due_lines(db, today, days))

    lines = run_with_database(settings, work)
    overdue = [line for line in lines if line.stands.overdue]
    soon = [line for line in lines if not line.stands.overdue]
    click.echo(f"Trace requests on {today:%Y-%m-%d}: {len(overdue)} overdue, {len(soon)} due within {days} days.")
    base = settings.base_url.rstrip("/")
    for title, group in (("Overdue", overdue), (f"Due within {days} days", soon)):
        if not group:
            continue
        click.echo(f"\n{title}:")
        for line in group:
            kind = "we sent, awaiting an answer" if line.kind == "sent" else "to answer"
            click.echo(f"  {line.depot}  due {line.due:%Y-%m-%d}, {line.stands.words}: {kind}, {line.what}")
            click.echo(f"    {base}{line.path}")


@tracing.command("iarms-hits")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def tracing_iarms_hits(file: Path) -> None:
    """Link the hits of an iARMS CSV (columns in docs/iarms.md) to the weapons they concern; a bad cell refuses the whole file."""
    import datetime as dt

    from caliber.accounts.actor import Actor
    from caliber.imports.importer import ImportReport
    from caliber.items.makers import load_makers
    from caliber.tracing.hits_file import HitFileRefused, read_hits
    from caliber.tracing.service import TracingService

    settings = writable("refusing to import")
    operator = Actor.operator(getpass.getuser())

    async def work(db: Database) -> Any:
        tracing = TracingService(ledger_of(db, settings), settings.zone, load_makers(settings.data_dir))
        progress, advance = progress_bar("checking rows", None)
        try:
            with progress, file.open(encoding="utf-8-sig", newline="") as lines:
                hits = read_hits(lines, dt.datetime.now(settings.zone).date(), advance)
        except HitFileRefused as exc:
            print_import_errors(ImportReport("", errors=exc.rows, error_count=exc.error_count))
            raise
        progress, advance = progress_bar("linking hits", len(hits))
        with progress:
            return await tracing.record_iarms_hits(operator, hits, advance)

    _print(run_with_database(settings, work))


def _print(report: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    unmatched: list[tuple[str, str, str]] = [(str(h.row), h.reference, h.reason) for h in report.unmatched]
    ambiguous: list[tuple[str, str, str]] = [(str(h.row), h.reference, "matches " + ", ".join(h.codes)) for h in report.ambiguous]
    for title, rows in (("unmatched (not linked)", unmatched), ("ambiguous (not linked)", ambiguous)):
        if rows:
            table = Table("row", "hit reference", "why", title=f"{len(rows)} {title}")
            for row in rows[:SHOWN]:
                table.add_row(*(escape(cell) for cell in row))  # a file's cells are text, not markup
            console.print(table)
            if len(rows) > SHOWN:
                click.echo(f"... and {len(rows) - SHOWN} more {title.partition(' ')[0]}: rows {_rows(rows[SHOWN:])}")
    click.echo(
        f"{report.rows:,} hits: {len(report.linked):,} linked ({report.queried:,} recorded the trace's iARMS query), "
        f"{len(report.known):,} already known, {len(report.unmatched):,} unmatched, {len(report.ambiguous):,} ambiguous"
    )
    if unmatched:
        click.echo(f"unmatched rows: {_rows(unmatched)}")
    if ambiguous:
        click.echo(f"ambiguous rows: {_rows(ambiguous)}")


def _rows(rows: list[tuple[str, str, str]]) -> str:
    return ", ".join(row[0] for row in rows)
