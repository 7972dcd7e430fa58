"""Bulk import of weapons from CSV into SQLite, against a raw Core insert of the same rows, with peak memory.

Run: ``.venv/bin/python -m bench.import_items [--rows 100000] [--quick]``.
Writes a CSV of realistic weapons, imports it with ``caliber import`` in a
child process (checking pass and importing pass, each row its custody event,
leaf and stored subtree hashes) and, in the same run, inserts the same rows
into the same ``item`` table of an empty database with SQLAlchemy Core
``executemany`` in transactions of 1,000 rows. Prints rows/s, the ratio
(goal at least 0.25 of raw) and the child's peak resident memory for the full
size and for a tenth of it (goal: flat, under 200 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.figures import figure
from caliber import migrate
from caliber.db import Database, create_engine
from caliber.domains import registry
from caliber.imports.importer import SHEETS
from caliber.items.models import Item
from caliber.items.records import identity_key, serial_key

MAKERS = [
    ("Zastava", "M70", "7.62x39mm", "assault_rifle", "YU"),
    ("Zastava", "M57", "7.62x25mm", "self_loading_pistol", "YU"),
    ("Zastava", "M84", "7.62x54mmR", "light_machine_gun", "YU"),
    ("Izhmash", "AKM", "7.62x39mm", "assault_rifle", "SU"),
    ("CZ", "vz. 58", "7.62x39mm", "assault_rifle", "CS"),
    ("Crvena Zastava", "M48", "7.92x57mm", "rifle", "YU"),
    ("Tokarev", "TT-33", "7.62x25mm", "self_loading_pistol", "SU"),
    ("Beretta", "92", "9x19mm", "self_loading_pistol", "IT"),
]
SOURCES = ["surplus", "surplus", "surplus", "found", "voluntarily_surrendered", "collection_programme"]
FILLED = {"serial", "manufacturer", "model", "calibre", "un_type", "intake_source", "country_of_manufacture"}
FILLED |= {"year_of_manufacture", "condition", "location"}
COLUMNS = [column for column in SHEETS["weapons"].columns if column in FILLED]
"""The columns of the weapons template :func:`weapon_rows` fills, in the template's order."""


def weapon_rows(rows: int) -> Iterator[dict[str, Any]]:
    """Realistic weapons as import rows: a handful of makers and models, distinct serials, a location each."""
    chooser = random.Random(7)
    for n in range(rows):
        maker, model, calibre, un_type, country = chooser.choice(MAKERS)
        yield {
            "serial": f"{model[:2].upper()}{n:07d}",
            "manufacturer": maker,
            "model": model,
            "calibre": calibre,
            "un_type": un_type,
            "intake_source": chooser.choice(SOURCES),
            "country_of_manufacture": country,
            "year_of_manufacture": 1950 + n % 40,
            "condition": "serviceable",
            "location": f"Building {'AB'[n % 2]}",
        }


def write_csv(path: Path, rows: int) -> None:
    """:func:`weapon_rows` as a CSV in the weapons template's columns."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, COLUMNS)
        writer.writeheader()
        writer.writerows(weapon_rows(rows))


def caliber(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a caliber command against ``data_dir``."""
    env = {**os.environ, "CALIBER_DATA_DIR": str(data_dir)}
    env.pop("CALIBER_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "caliber", *args], env=env, capture_output=True, text=True, check=True)


async def make_depot(data_dir: Path) -> None:
    """A depot with the two buildings the CSV names."""
    from caliber.accounts.actor import Actor
    from caliber.config import Settings
    from caliber.depots.models import DepotKind, LocationKind
    from caliber.depots.schemas import NewDepot, NewLocation
    from caliber.depots.service import DepotService
    from caliber.ledger.store import Ledger

    settings = Settings.from_env({"CALIBER_DATA_DIR": str(data_dir)})
    db = Database(create_engine(settings.database_url))
    inventory = DepotService(Ledger(db, settings.log_origin, registry()))
    operator = Actor.operator("bench")
    depot = await inventory.create_depot(operator, NewDepot("RS-BENCH", "Bench depot", DepotKind.ARMY_DEPOT, "RS"))
    for name in ("Building A", "Building B"):
        await inventory.create_location(operator, depot.id, NewLocation(LocationKind.BUILDING, name))
    await db.dispose()


def timed_import(folder: Path, rows: int) -> tuple[float, float]:
    """Seconds and peak MB of ``caliber import`` of ``rows`` weapons into a fresh data dir."""
    data_dir = folder / f"data-{rows}"
    caliber(data_dir, "db", "upgrade")
    asyncio.run(make_depot(data_dir))
    path = folder / f"weapons-{rows}.csv"
    write_csv(path, rows)
    env = {**os.environ, "CALIBER_DATA_DIR": str(data_dir)}
    env.pop("CALIBER_DATABASE_URL", None)
    command = [sys.executable, "-m", "caliber", "import", str(path), "--depot", "RS-BENCH"]
    output = folder / f"import-{rows}.out"
    start = time.perf_counter()
    with output.open("w") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # the child's own peak memory, not the largest of all children
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    text = output.read_text()
    if f"imported {rows} new records" not in text:
        raise SystemExit(f"import did not take every row: {text}")
    return elapsed, usage.ru_maxrss / 1024


def raw_rows(rows: int, depot_id: uuid.UUID) -> list[dict[str, Any]]:
    """The item rows the import writes of :func:`weapon_rows`, ready for a Core insert."""
    now = datetime.now(UTC)
    out = []
    for n, row in enumerate(weapon_rows(rows)):
        row.pop("location")
        out.append(
            {
                **row,
                "id": uuid.uuid4(),
                "code": f"{n:010d}",
                "kind": "weapon",
                "serial_key": serial_key(row["serial"]),
                "identity_key": identity_key(row["manufacturer"], row["model"], row["calibre"], row["serial"]),
                "depot_id": depot_id,
                "status": "awaiting_decision",
                "registered_at": now,
                "status_changed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return out


async def raw_insert(folder: Path, rows: int) -> float:
    """Seconds for Core executemany of the same rows into the same schema, 1,000 rows per transaction."""
    url = f"sqlite+aiosqlite:///{folder / 'raw.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(create_engine(url))
    depot_id = uuid.uuid4()
    async with db.write() as session:
        from caliber.depots.models import Depot

        session.add(Depot(id=depot_id, code="RAW", name="Raw", kind="army_depot", jurisdiction_code="RS"))
    prepared = raw_rows(rows, depot_id)
    start = time.perf_counter()
    for lo in range(0, rows, 1000):
        async with db.write() as session:
            await session.execute(insert(Item.__table__), prepared[lo : lo + 1000])
    elapsed = time.perf_counter() - start
    await db.dispose()
    return elapsed


def main() -> None:
    """Import at full size and at a tenth, raw insert at full size, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 rows")
    args = parser.parse_args()
    rows = 10_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        small_seconds, small_peak = timed_import(folder, max(rows // 10, 1000))
        seconds, peak = timed_import(folder, rows)
        raw = asyncio.run(raw_insert(folder, rows))
    print(f"import of weapons from CSV into SQLite, {rows:,} rows (each with its custody event)")
    print(f"  caliber import       {seconds:8.2f} s {rows / seconds:>10,.0f} rows/s   peak {peak:6.0f} MB")
    print(f"  raw Core executemany {raw:8.2f} s {rows / raw:>10,.0f} rows/s   (reference)")
    print(f"  ratio import / raw   {raw / seconds:8.3f}   goal >= 0.25")
    print(f"  peak memory at {max(rows // 10, 1000):,} rows {small_peak:.0f} MB, at {rows:,} rows {peak:.0f} MB   goal: flat, under 200 MB")
    del small_seconds
    reference = f"raw Core executemany {rows / raw:,.0f} rows/s"
    figure(
        "import_items",
        f"caliber import, {rows:,} rows",
        rows / seconds,
        "rows/s",
        reference=reference,
        ratio=raw / seconds,
        goal=">= 0.25 of raw",
        met=raw / seconds >= 0.25,
    )
    flat = peak < 200 and peak < small_peak * 1.5 + 20
    figure(
        "import_items",
        "peak memory",
        peak,
        "MB",
        reference=f"{small_peak:.0f} MB at a tenth of the rows",
        ratio=peak / small_peak,
        goal="flat, < 200 MB",
        met=flat,
    )


if __name__ == "__main__":
    main()
