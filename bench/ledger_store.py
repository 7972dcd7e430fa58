"""Ledger appends and proofs from the database, on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.ledger_store [--quick] [--postgres URL]``
(``--postgres`` defaults to ``CALIBER_TEST_POSTGRES_URL``; a scratch database
is created and dropped). Prints, per database:

- single appends/s (one event per transaction and commit) against raw Core
  inserts of the same bytes, one row per transaction, in the same run;
- batched appends/s (1,000 events sharing one lock and one commit) against
  raw Core executemany of 1,000 rows per transaction;
- inclusion and consistency proofs read from the stored subtree hashes at
  1,000,000 entries (100,000 with ``--quick``): median and p99, goal under 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from bench.figures import figure
from caliber import migrate
from caliber.accounts.actor import Actor
from caliber.db import Database, create_engine
from caliber.ledger import canonical, store
from caliber.ledger.events import Event, Recorded
from caliber.ledger.registry import Appliers, Registry
from caliber.ledger.store import Ledger

ORIGIN = "bench.caliber/ledger"
OPERATOR = Actor.operator("bench")
BATCH = 1000
scratch = Table("bench_raw", MetaData(), Column("id", Integer, primary_key=True), Column("data", LargeBinary))


class Noted(Event, frozen=True, kw_only=True):
    """A benchmark event, of the size of an item move."""

    type = "bench.noted"
    serial: str
    source: str
    to: str
    reason: str


BENCH = Appliers("bench")


@BENCH.on(Noted)
async def _noted(_session: AsyncSession, _event: Recorded[Noted]) -> None:
    """Benchmark events change no state table: only the ledger is measured."""


def data(n: int) -> Noted:
    """A payload of the size of an item move."""
    return Noted(serial=f"AK{n:08d}", source="Building A / Room 1 / Rack 2", to="Magazine 3", reason="consolidation")


async def appends(ledger: Ledger, single: int, batched: int) -> tuple[float, float]:
    """Events/s appended one per transaction, and in transactions of BATCH."""
    start = time.perf_counter()
    for n in range(single):
        async with ledger.write(OPERATOR) as tx:
            await tx.record(data(n), [f"1{n % 500:011d}"])
    one = single / (time.perf_counter() - start)
    start = time.perf_counter()
    for b in range(batched // BATCH):
        async with ledger.write(OPERATOR) as tx:
            for n in range(BATCH):
                await tx.record(data(n), [f"1{(b * BATCH + n) % 50_000:011d}"])
    return one, batched / (time.perf_counter() - start)


async def raw_inserts(db: Database, single: int, batched: int) -> tuple[float, float]:
    """Rows/s of plain Core inserts of event-sized bytes: one per transaction, and executemany per BATCH."""
    async with db.engine.begin() as connection:
        await connection.run_sync(scratch.create)
    payload = canonical.encode({"v": 1, "data": data(0).encode(), "pad": "x" * 200})
    start = time.perf_counter()
    for n in range(single):
        async with db.write() as session:
            await session.execute(insert(scratch).values(id=n, data=payload))
    one = single / (time.perf_counter() - start)
    start = time.perf_counter()
    for b in range(batched // BATCH):
        async with db.write() as session:
            await session.execute(insert(scratch), [{"id": single + b * BATCH + n, "data": payload} for n in range(BATCH)])
    return one, batched / (time.perf_counter() - start)


async def grow(ledger: Ledger, size: int) -> None:
    """Append benchmark events until the log holds ``size`` entries."""
    current = await ledger.size()
    while current < size:
        count = min(5000, size - current)
        async with ledger.write(OPERATOR) as tx:
            for n in range(count):
                await tx.record(data(current + n), [f"1{(current + n) % 50_000:011d}"])
        current += count


async def proofs(ledger: Ledger, size: int, samples: int = 1000) -> dict[str, tuple[float, float]]:
    """Median and p99 milliseconds of inclusion and consistency proofs, as the proof endpoints make them."""
    timings: dict[str, list[float]] = {"inclusion": [], "consistency": []}
    rng = random.Random(7)
    for _ in range(samples):
        index = rng.randrange(size)
        start = time.perf_counter()
        await store.prove_inclusion(ledger.db, index, size)
        timings["inclusion"].append((time.perf_counter() - start) * 1000)
        old = rng.randrange(1, size)
        start = time.perf_counter()
        await store.prove_consistency(ledger.db, old, size)
        timings["consistency"].append((time.perf_counter() - start) * 1000)
    return {name: (statistics.median(values), statistics.quantiles(values, n=100)[98]) for name, values in timings.items()}


async def measure(url: str, single: int, batched: int, proof_size: int) -> dict[str, Any]:
    """Every figure for one database."""
    db = Database(create_engine(url))
    ledger = Ledger(db, ORIGIN, Registry([BENCH]))
    try:
        results: dict[str, Any] = {}
        results["append"] = await appends(ledger, single, batched)
        results["raw"] = await raw_inserts(db, single, batched)
        start = time.perf_counter()
        await grow(ledger, proof_size)
        results["grow_seconds"] = time.perf_counter() - start
        results["proofs"] = await proofs(ledger, proof_size)
        return results
    finally:
        await db.dispose()


def in_thread(function: Any, *args: Any) -> Any:
    """Run ``function`` in a thread of its own (Alembic starts its own event loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def report(name: str, results: dict[str, Any], proof_size: int) -> None:
    """Print one database's figures."""
    (one, many), (raw_one, raw_many) = results["append"], results["raw"]
    print(f"{name}")
    print(f"  single appends   {one:>9,.0f} events/s   raw Core insert {raw_one:>9,.0f} rows/s   ratio {one / raw_one:.2f}")
    print(f"  batched appends  {many:>9,.0f} events/s   raw Core insert {raw_many:>9,.0f} rows/s   ratio {many / raw_many:.2f}")
    print(f"  grew the log to {proof_size:,} entries in {results['grow_seconds']:.0f} s")
    for kind, (median, p99) in results["proofs"].items():
        print(f"  {kind:<11} proof at {proof_size:,}: median {median:.2f} ms, p99 {p99:.2f} ms   goal < 2 ms")
        figure(
            "ledger_store",
            f"{name}: {kind} proof at {proof_size:,} (p99 {p99:.2f} ms)",
            median,
            "ms",
            ratio=median / 2,
            goal="< 2 ms",
            met=p99 < 2,
        )
    figure(
        "ledger_store", f"{name}: single appends", one, "events/s", reference=f"raw Core insert {raw_one:,.0f} rows/s", ratio=one / raw_one
    )
    figure(
        "ledger_store",
        f"{name}: batched appends",
        many,
        "events/s",
        reference=f"raw Core insert {raw_many:,.0f} rows/s",
        ratio=many / raw_many,
    )


async def pg_admin(url: str, statement: str) -> None:
    """Run one statement on the PostgreSQL server's maintenance connection."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def main() -> None:
    """Measure SQLite, and PostgreSQL when a server is given."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (100,000 entries for proofs)")
    parser.add_argument("--postgres", default=os.environ.get("CALIBER_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    single, batched, proof_size = (200, 10_000, 100_000) if args.quick else (1000, 50_000, 1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        in_thread(migrate.upgrade, url)
        report("SQLite (WAL, synchronous=FULL)", asyncio.run(measure(url, single, batched, proof_size)), proof_size)
    if args.postgres:
        name = f"caliber_bench_{secrets.token_hex(4)}"
        base = args.postgres.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0]
        asyncio.run(pg_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        try:
            in_thread(migrate.upgrade, f"{base}/{name}")
            report("PostgreSQL", asyncio.run(measure(f"{base}/{name}", single, batched, proof_size)), proof_size)
        finally:
            asyncio.run(pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
