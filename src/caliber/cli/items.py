"""``caliber items``: the reference list of makers and models that weapon intake suggests and records by."""

from __future__ import annotations

import click

from caliber.cli.base import copy_shipped, main
from caliber.config import load_or_exit


@main.group()
def items() -> None:
    """Weapons, components and ammunition lots."""


@items.command("makers")
@click.option("--init", is_flag=True, help="copy the shipped list into the data dir, to edit there")
def items_makers(init: bool) -> None:
    """The makers and models in force (their spellings and calibres), and the file they come from."""
    from rich.console import Console
    from rich.table import Table

    from caliber.items.makers import MAKER_FILE, MakerFileError, load_makers, shipped_maker_file

    settings = load_or_exit()
    if init:
        copy_shipped(shipped_maker_file(), settings.data_dir / MAKER_FILE)
    try:
        makers = load_makers(settings.data_dir)
    except MakerFileError as exc:
        raise click.ClickException(str(exc)) from None
    table = Table("maker", "also written", "models (calibres)", title=f"Makers from {makers.source}")
    for maker in makers.makers:
        models = ", ".join(f"{m.name} ({', '.join(m.calibres)})" for m in maker.models)
        table.add_row(maker.name, "; ".join(maker.variants), models)
    Console().print(table)
