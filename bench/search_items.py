"""Item search at 1,000,000 items: partial serial and filters, median and p99, on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.search_items [--items 1000000] [--quick] [--postgres URL]``
(``--postgres`` defaults to ``CALIBER_TEST_POSTGRES_URL``; a scratch database
is created and dropped). The items are written with Core inserts straight into
the migrated schema (the search reads only the ``item`` table and its
indexes); then ``ItemService.search`` runs each kind of query many times with
different values. Goal: under 100 ms at the median and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.databases import scratch_postgres, scratch_sqlite
from bench.figures import figure
from bench.import_items import MAKERS, SOURCES
from caliber.accounts.actor import Actor
from caliber.db import Database, create_engine, insert_many
from caliber.depots.models import Depot
from caliber.domains import registry
from caliber.items.models import Item
from caliber.items.records import identity_key, serial_key
from caliber.items.service import ItemService
from caliber.labels.codes import make_code
from caliber.ledger.store import Ledger

STATUSES = ["awaiting_decision"] * 6 + ["surplus"] * 3 + ["evidence_hold", "approved_for_destruction", "destroyed"]
QUERIES = 40


def rows(count: int, depots: list[uuid.UUID], chooser: random.Random) -> Any:
    """Item rows in batches of 10,000."""
    now = datetime.now(UTC)
    batch = []
    for n in range(count):
        maker, model, calibre, un_type, country = chooser.choice(MAKERS)
        serial = f"{chooser.choice('ABCDEFGHKMNPRSTZ')}{chooser.randint(0, 99_999_999):08d}"
        batch.append(
            {
                "id": uuid.uuid4(),
                "code": make_code("weapon", n + 1),
                "kind": "weapon",
                "manufacturer": maker,
                "model": model,
                "calibre": calibre,
                "serial": serial,
                "serial_key": serial_key(serial),
                "identity_key": identity_key(maker, model, calibre, serial),
                "un_type": un_type,
                "country_of_manufacture": country,
                "year_of_manufacture": 1950 + n % 40,
                "intake_source": chooser.choice(SOURCES),
                "case_reference": f"K-{n % 5000}/2025" if n % 7 == 0 else "",
                "condition": "serviceable",
                "depot_id": chooser.choice(depots),
                "status": chooser.choice(STATUSES),
                "registered_at": now,
                "status_changed_at": now,
            }
        )
        if len(batch) == 10_000:
            yield batch
            batch = []
    if batch:
        yield batch


async def fill(db: Database, count: int) -> list[uuid.UUID]:
    """A migrated database with 20 depots and ``count`` items."""
    depots = [uuid.uuid4() for _ in range(20)]
    async with db.write() as session:
        for n, depot_id in enumerate(depots):
            session.add(Depot(id=depot_id, code=f"D-{n:02d}", name=f"Depot {n}", kind="army_depot", jurisdiction_code="RS"))
    chooser = random.Random(4)
    for batch in rows(count, depots, chooser):
        async with db.write() as session:
            await insert_many(session, Item.__table__, batch)
    if not db.is_sqlite:
        async with db.write() as session:
            from sqlalchemy import text

            await session.execute(text("ANALYZE item"))
    return depots


async def timed(runs: list[Callable[[], Any]]) -> tuple[float, float]:
    """Median and p99 in ms of running each query once (after one warm-up)."""
    await runs[0]()
    times = []
    for run in runs:
        start = time.perf_counter()
        await run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(len(times) * 0.99))]


async def measure(db: Database, count: int, label: str) -> None:
    """Fill, then time each kind of search."""
    start = time.perf_counter()
    depots = await fill(db, count)
    built = time.perf_counter() - start
    items = ItemService(Ledger(db, "bench.caliber/ledger", registry()), Path("/nonexistent"))
    operator = Actor.operator("bench")
    chooser = random.Random(9)

    def search(filters: dict[str, Any]) -> Callable[[], Any]:
        return lambda: items.search(operator, filters, limit=50)

    kinds = {
        "partial serial (5 digits)": [search({"q": f"{chooser.randint(0, 99_999):05d}"}) for _ in range(QUERIES)],
        "partial serial, rare (8 digits)": [search({"q": f"{chooser.randint(0, 99_999_999):08d}"}) for _ in range(QUERIES)],
        "label code": [search({"q": make_code("weapon", chooser.randint(1, count))}) for _ in range(QUERIES)],
        "depot and status": [search({"depot_id": chooser.choice(depots), "status": "surplus"}) for _ in range(QUERIES)],
        "maker, calibre, status": [
            search({"manufacturer": m[0], "calibre": m[2], "status": chooser.choice(STATUSES)}) for m in chooser.choices(MAKERS, k=QUERIES)
        ],
        "case reference": [search({"case_reference": f"K-{chooser.randint(0, 4999)}/2025"}) for _ in range(QUERIES)],
        "partial serial in a depot": [
            search({"q": f"{chooser.randint(0, 9999):04d}", "depot_id": chooser.choice(depots)}) for _ in range(QUERIES)
        ],
    }
    print(f"{label}: {count:,} items (written in {built:.0f} s)")
    for name, runs in kinds.items():
        median, p99 = await timed(runs)
        print(f"  {name:34s} median {median:7.2f} ms   p99 {p99:7.2f} ms   goal < 100 ms")
        figure(
            "search_items",
            f"{label}, {count:,} items: {name} (p99 {p99:.1f} ms)",
            median,
            "ms",
            ratio=median / 100,
            goal="< 100 ms",
            met=p99 < 100,
        )


async def main() -> None:
    """SQLite, then PostgreSQL when a URL is given."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 items")
    parser.add_argument("--postgres", default=os.environ.get("CALIBER_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    count = 100_000 if args.quick else args.items
    async with scratch_sqlite("search.db") as (url, _):
        db = Database(create_engine(url))
        await measure(db, count, "SQLite")
        await db.dispose()
    if args.postgres:
        async with scratch_postgres(args.postgres) as url:
            db = Database(create_engine(url))
            await measure(db, count, "PostgreSQL")
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
