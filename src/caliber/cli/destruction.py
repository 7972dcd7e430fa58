"""``caliber destruction``: approving a manifest from the server, and the rule of which weapons are traced before."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from caliber.cli.base import data_file, ledger_of, main, run_with_database, writable

if TYPE_CHECKING:
    from caliber.db import Database


@main.group()
def destruction() -> None:
    """Destruction events: approving a manifest, the tracing rule approval follows."""


@destruction.command("approve")
@click.argument("code")
def destruction_approve(code: str) -> None:
    """Approve the manifest of the destruction with label CODE (as the operator, an admin), as a depot manager would."""
    import getpass

    from caliber.accounts.actor import Actor
    from caliber.destruction.service import DestructionService
    from caliber.destruction.trace_rule import TraceRuleError, load_trace_rule
    from caliber.items.service import ItemService
    from caliber.labels.codes import find_code

    settings = writable("refusing to approve")
    try:
        rule = load_trace_rule(settings.data_dir)
    except TraceRuleError as exc:
        raise click.ClickException(f"the tracing rule file cannot be used: {exc}") from None
    operator = Actor.operator(getpass.getuser())

    async def work(db: Database) -> tuple[str, int]:
        ledger = ledger_of(db, settings)
        photos = settings.data_dir / "photos"
        destructions = DestructionService(ledger, ItemService(ledger, photos), photos, settings.zone, rule)
        view = await destructions.by_code(operator, find_code(code) or code)
        event = await destructions.approve(operator, view.event.id)
        return event.code, view.open_records

    approved, records = run_with_database(settings, work)
    click.echo(f"approved the manifest of destruction {approved}: {records:,} records")


@destruction.command("trace-rule")
@click.option("--init", is_flag=True, help="copy the shipped rule into the data dir, to edit there")
def destruction_trace_rule(init: bool) -> None:
    """Which weapons are traced (or excepted) before a destruction is approved, per jurisdiction, and the file it comes from."""
    from rich.console import Console
    from rich.table import Table

    from caliber.destruction.trace_rule import RULE_FILE, TraceRuleError, load_trace_rule, shipped_rule_file

    rule = data_file(init, shipped_rule_file(), RULE_FILE, load_trace_rule, TraceRuleError)
    table = Table("jurisdiction", "traced before destruction (intake sources)", title=f"Tracing rule from {rule.source}")
    for jurisdiction, sources in rule.sources.items():
        table.add_row(jurisdiction, ", ".join(sorted(s.value for s in sources)) or "(none: nothing held back)")
    Console().print(table)
