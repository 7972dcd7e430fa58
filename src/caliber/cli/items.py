"""``caliber items``: weapons records out of Caliber (the iARMS export), and the reference list of makers and models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from caliber.cli.base import data_file, main, prepared, run_with_database

if TYPE_CHECKING:
    from caliber.db import Database


@main.group()
def items() -> None:
    """Weapons, components and ammunition lots: the iARMS export, the makers and models."""


@items.command("iarms-export")
@click.option("--format", "form", type=click.Choice(["csv", "xml"]), default="csv", show_default=True, help="the file's format")
@click.option("--depot", "depot_code", default=None, help="only this depot's weapons (its code); default every depot")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def items_iarms_export(form: str, depot_code: str | None, file: Path) -> None:
    """Write the iARMS records (lost, seized, found and surrendered weapons; docs/iarms.md) to FILE."""
    import csv
    import datetime as dt

    from sqlalchemy import select

    from caliber.accounts.actor import Actor
    from caliber.depots.models import Depot
    from caliber.errors import NotFound
    from caliber.items.iarms import iarms_csv, iarms_xml
    from caliber.items.makers import load_makers

    settings = prepared()
    actor = Actor.operator("items iarms-export")

    async def work(db: Database) -> None:
        filters: dict[str, object] = {}
        if depot_code:
            async with db.read() as session:
                depot_id = await session.scalar(select(Depot.id).where(Depot.code == depot_code))
            if depot_id is None:
                raise NotFound(f"no depot with code {depot_code}")
            filters["depot_id"] = depot_id
        makers = load_makers(settings.data_dir)
        if form == "csv":
            chunks = iarms_csv(db, actor, filters, settings.zone, makers)
        else:
            chunks = iarms_xml(db, actor, filters, settings.zone, dt.datetime.now(dt.UTC), makers=makers)
        with file.open("w", encoding="utf-8", newline="") as out:
            async for chunk in chunks:
                out.write(chunk)

    run_with_database(settings, work)
    with file.open(encoding="utf-8", newline="") as written:
        records = written.read().count("<firearmRecord>") if form == "xml" else sum(1 for _ in csv.reader(written)) - 1
    click.echo(f"wrote {file}: iARMS records of {records:,} weapons ({form.upper()})")


@items.command("makers")
@click.option("--init", is_flag=True, help="copy the shipped list into the data dir, to edit there")
def items_makers(init: bool) -> None:
    """The makers and models in force (their spellings and calibres), and the file they come from."""
    from rich.console import Console
    from rich.table import Table

    from caliber.items.makers import MAKER_FILE, MakerFileError, load_makers, shipped_maker_file

    makers = data_file(init, shipped_maker_file(), MAKER_FILE, load_makers, MakerFileError)
    table = Table("maker", "also written", "models (calibres)", title=f"Makers from {makers.source}")
    for maker in makers.makers:
        models = ", ".join(f"{m.name} ({', '.join(m.calibres)})" for m in maker.models)
        table.add_row(maker.name, "; ".join(maker.variants), models)
    Console().print(table)
