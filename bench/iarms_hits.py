"""iARMS hits linked to weapons: 10,000 hits matched by serial and maker, recorded with their custody events.

Run: ``.venv/bin/python -m bench.iarms_hits [--weapons 50000] [--hits 10000] [--quick]``.
Takes weapons in with ``caliber import`` (the reference: intake of the same number of rows, each with its
event, timed in the same run), then links a file of hits to them in this process: most by serial written
otherwise (small letters, a dash) and the maker in capitals, some matching nothing, and the file again
(all already known). Prints hits/s, the ratio to the intake's rows/s (goal: at least 1, a hit writes less
than an intake), and the SQL statements per 1,000 hits (goal: under 100: set queries in batches, never one
per row).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from bench.figures import figure
from bench.import_items import timed_import, weapon_rows
from caliber.accounts.actor import Actor
from caliber.config import Settings
from caliber.db import Database, create_engine
from caliber.domains import registry
from caliber.ledger.store import Ledger
from caliber.tracing.hits import HitsReport
from caliber.tracing.hits_file import HIT_COLUMNS, read_hits
from caliber.tracing.service import TracingService


def write_hits(path: Path, weapons: int, hits: int) -> None:
    """``hits`` rows: nine in ten a weapon of :func:`weapon_rows` (serial in small letters with a dash), the rest none."""
    chooser = random.Random(11)
    rows = list(weapon_rows(weapons))
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([c.name for c in HIT_COLUMNS if c.name != "record_reference"])
        for n in range(hits):
            if n % 10:
                weapon = rows[chooser.randrange(weapons)]
                serial, make = weapon["serial"], weapon["manufacturer"]
                serial = f"{serial[:2]}-{serial[2:]}".lower()
            else:
                serial, make = f"NONE{n:06d}", "Zastava"
            writer.writerow([f"IA-{n:07d}", serial, make.upper(), "", "", "DE", "stolen", "2019-03-08", "2026-11-30"])


async def link(data_dir: Path, path: Path) -> tuple[float, int, HitsReport, HitsReport]:
    """Seconds and SQL statements of linking the file, its report, and the report of the same file again."""
    settings = Settings.from_env({"CALIBER_DATA_DIR": str(data_dir)})
    db = Database(create_engine(settings.database_url))
    tracing = TracingService(Ledger(db, settings.log_origin, registry()), dt.UTC)
    operator = Actor.operator("bench")
    with path.open(encoding="utf-8", newline="") as lines:
        hits = read_hits(lines, dt.date(2026, 12, 4))
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    start = time.perf_counter()
    report = await tracing.record_iarms_hits(operator, hits)
    seconds = time.perf_counter() - start
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    again = await tracing.record_iarms_hits(operator, hits)
    await db.dispose()
    return seconds, statements[0], report, again


def main() -> None:
    """Intake the weapons, link the hits twice, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weapons", type=int, default=50_000)
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="5,000 weapons and 2,000 hits")
    args = parser.parse_args()
    weapons, hits = (5_000, 2_000) if args.quick else (args.weapons, args.hits)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        intake_seconds, _peak = timed_import(folder, weapons)
        path = folder / "hits.csv"
        write_hits(path, weapons, hits)
        seconds, statements, report, again = asyncio.run(link(folder / f"data-{weapons}", path))
    intake_rate, rate = weapons / intake_seconds, hits / seconds
    per_thousand = statements / hits * 1000
    print(f"iARMS hits linked to {weapons:,} weapons in SQLite, {hits:,} hits")
    print(f"  linked {len(report.linked):,}, unmatched {len(report.unmatched):,}, ambiguous {len(report.ambiguous):,}")
    print(f"  again: {len(again.known):,} already known, {len(again.linked):,} linked")
    print(f"  linking           {seconds:8.2f} s {rate:>10,.0f} hits/s   {statements:,} SQL statements ({per_thousand:.0f} per 1,000 hits)")
    print(f"  caliber import    {intake_seconds:8.2f} s {intake_rate:>10,.0f} rows/s   (reference)")
    print(f"  ratio hits / intake {rate / intake_rate:6.2f}   goal >= 1")
    figure(
        "iarms_hits",
        f"iARMS hits linked, {hits:,} hits over {weapons:,} weapons",
        rate,
        "hits/s",
        reference=f"caliber import {intake_rate:,.0f} rows/s",
        ratio=rate / intake_rate,
        goal=">= 1 of intake",
        met=rate >= intake_rate,
    )
    figure(
        "iarms_hits",
        "SQL statements per 1,000 hits",
        per_thousand,
        "statements",
        reference=f"{hits:,} rows",
        ratio=statements / hits,
        goal="< 100 per 1,000 hits",
        met=per_thousand < 100,
    )


if __name__ == "__main__":
    main()
