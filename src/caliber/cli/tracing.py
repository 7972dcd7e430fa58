"""``caliber tracing``: what is due in tracing, for a cron job to mail."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from caliber.cli.base import main, prepared, run_with_database

if TYPE_CHECKING:
    from caliber.db import Database
    from caliber.tracing.progress import DueLine


@main.group()
def tracing() -> None:
    """Tracing seized, found and surrendered weapons: trace requests out and in."""


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
