"""The Roadmap dashboard, the reports and the figures API at 1,000,000 records: time per page on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.reports [--records 1000000] [--quick] [--postgres URL] [--only sqlite|postgresql]``
(``--postgres`` defaults to ``CALIBER_TEST_POSTGRES_URL``; a scratch database
is created and dropped).

The pages read the report projection (``report_record``, ``report_hold``,
its daily counts ``report_day``, the trace requests ``report_request``),
the targets, the stock checks and the missing records of ``item``; they never
read the ledger's entries. So the benchmark writes those tables straight
into the migrated schema, as the projection would have them after a history
of about three events per record (intake, declaration, destruction; holds
and releases for the seized): 1,000,000 items and records over 60 depots in
the six jurisdictions from 2019 to now, with annual targets set. The weapons
taken in (seized, found, surrendered: three in eight) are traced as a ministry
would report them: about 30% not started, 15% open, 25% origin established,
15% not established, 15% excepted; a trace request is sent in about one in five
of the traces started (about 55,000, three in four answered, some late, some
overdue), and about 5,000 requests come from other states. Then a logged-in ministry official asks for
the dashboard (with its tracing section), the yearly and half-year report, and
the figures of the year from the API, through the whole app (routing, session,
queries, templates), and the median and p95 are printed against the goal of 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.databases import scratch_postgres, scratch_sqlite
from bench.figures import figure
from bench.search_items import rows as item_rows
from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.accounts.schemas import NewUser
from caliber.accounts.service import AccountService
from caliber.app import create_app
from caliber.config import Settings
from caliber.db import Database, create_engine, insert_many
from caliber.depots.models import Depot
from caliber.domains import registry
from caliber.items.models import Item
from caliber.ledger.store import Ledger
from caliber.reports.kpis import load_roadmap
from caliber.reports.models import ReportHold, ReportRecord, ReportRequest
from caliber.reports.schemas import TargetInput
from caliber.reports.service import JURISDICTIONS, ReportService
from caliber.reports.summary import count as add_to_daily_counts
from caliber.reports.targets import TargetService

GOAL_MS = 300
RUNS = 15
ORIGIN = "bench.caliber/ledger"
START = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
METHODS = ["smelting", "cutting_plasma", "hydraulic_shear", "smelting,cutting_torch"]
TYPES = ["assault_rifle", "self_loading_pistol", "rifle", "carbine", "light_machine_gun", "sub_machine_gun", "revolver", "shotgun"]
SOURCES = ["surplus"] * 5 + ["seized", "found", "voluntarily_surrendered"]
TRACE_ENDS = ["", "", "open", "origin_established", "origin_not_established", "excepted"]
"""How the traces of the weapons taken in stand (empty: not started), about in these shares (see ``trace``)."""
REASONS = ["undue_delay", "insufficient_markings", "made_before_1946", "amnesty"]


def trace(row: dict[str, Any], chooser: random.Random, now: dt.datetime) -> list[dict[str, Any]]:
    """Trace a weapon taken in, as :mod:`caliber.reports.traces` would have it; the trace requests sent about it."""
    end = chooser.choices(TRACE_ENDS, weights=[15, 15, 15, 25, 15, 15])[0]
    started = row["registered_at"] + dt.timedelta(days=chooser.randint(1, 60))
    if not end or started >= now:
        return []
    row["trace_started_at"] = started
    requests = []
    if chooser.random() < 0.22:  # of the weapons whose trace started
        sent_on = started.date() + dt.timedelta(days=chooser.randint(5, 40))
        due = sent_on + dt.timedelta(days=chooser.choice([30, 60, 90]))
        answered = sent_on + dt.timedelta(days=chooser.randint(10, 120)) if chooser.random() < 0.75 else None
        if sent_on < now.date():
            answered = answered if answered is not None and answered < now.date() else None
            at = dt.datetime.combine(answered, dt.time(10), tzinfo=dt.UTC) if answered else None
            requests.append(
                {
                    "id": uuid.uuid4(),
                    "direction": "sent",
                    "code": row["code"],
                    "depot_id": row["depot_id"],
                    "jurisdiction": row["jurisdiction"],
                    "opened_on": sent_on,
                    "due": due,
                    "answered_on": answered,
                    "answered_at": at,
                }
            )
    ended = started + dt.timedelta(days=chooser.randint(1, 300))
    if end != "open" and ended < now:
        row["trace_ended_at"], row["trace_end"] = ended, end
        row["exception_reason"] = chooser.choice(REASONS) if end == "excepted" else ""
    return requests


def incoming(depots: dict[uuid.UUID, str], chooser: random.Random, now: dt.datetime, count: int) -> list[dict[str, Any]]:
    """``count`` trace requests from other states, since 2019, most answered."""
    span = (now - START).days
    rows = []
    for depot_id in chooser.choices(list(depots), k=count):
        received = START.date() + dt.timedelta(days=chooser.randint(0, span - 1))
        answered = dt.datetime.combine(received, dt.time(11), tzinfo=dt.UTC) + dt.timedelta(days=chooser.randint(2, 90))
        rows.append(
            {
                "id": uuid.uuid4(),
                "direction": "received",
                "code": "",
                "depot_id": depot_id,
                "jurisdiction": depots[depot_id],
                "opened_on": received,
                "due": received + dt.timedelta(days=60),
                "answered_on": None,
                "answered_at": answered if answered < now and chooser.random() < 0.8 else None,
            }
        )
    return rows


def report_rows(
    items: list[dict[str, Any]], where: dict[uuid.UUID, str], chooser: random.Random, now: dt.datetime
) -> tuple[list[Any], list[Any], list[Any]]:
    """The projection of a batch of items: when each was taken in, declared surplus, left the surplus or was destroyed,
    how its trace stands, and the trace requests sent about it."""
    span = (now - START).total_seconds()
    records, holds, requests = [], [], []
    for item in items:
        registered = START + dt.timedelta(seconds=chooser.random() * span * 0.97)
        source = chooser.choice(SOURCES)
        row = {
            "code": item["code"],
            "kind": "weapon" if chooser.random() < 0.95 else "lot",
            "category": chooser.choice(TYPES),
            "intake_source": source,
            "depot_id": item["depot_id"],
            "jurisdiction": where[item["depot_id"]],
            "registered_at": registered,
            "declared_at": None,
            "left_surplus_at": None,
            "destroyed_at": None,
            "surplus_until": None,
            "methods": "",
            "days_from_intake": None,
            "days_from_declaration": None,
            "pieces": 1,
            "net_g": 0,
            "gross_g": 0,
            "trace_started_at": None,
            "trace_ended_at": None,
            "trace_end": "",
            "exception_reason": "",
        }
        if row["kind"] == "lot":
            row |= {"category": "ammunition", "pieces": chooser.randint(500, 50_000), "net_g": chooser.randint(1_000, 90_000)}
            row["gross_g"] = row["net_g"] * 8
        if source == "seized":
            released = registered + dt.timedelta(days=chooser.randint(30, 900))
            holds.append({"code": item["code"], "held_at": registered, "released_at": released if released < now else None})
        if chooser.random() < 0.6:
            declared = registered + dt.timedelta(days=chooser.randint(10, 400))
            if declared < now:
                row["declared_at"] = declared
                ending = declared + dt.timedelta(days=chooser.randint(30, 900))
                if ending < now and chooser.random() < 0.7:
                    row["destroyed_at"], row["methods"], row["surplus_until"] = ending, chooser.choice(METHODS), ending
                    row["days_from_intake"] = (ending - registered).total_seconds() / 86400
                    row["days_from_declaration"] = (ending - declared).total_seconds() / 86400
                elif ending < now and chooser.random() < 0.1:
                    row["left_surplus_at"] = row["surplus_until"] = ending
        if row["kind"] == "weapon" and source != "surplus":
            requests += trace(row, chooser, now)
        records.append(row)
    return records, holds, requests


async def fill(db: Database, count: int) -> tuple[int, int]:
    """60 depots in the six jurisdictions, ``count`` items and their report records, trace requests sent and received;
    returns the holds and the trace requests written."""
    depots = {uuid.uuid4(): JURISDICTIONS[n % 6] for n in range(60)}
    async with db.write() as session:
        for n, (depot_id, jurisdiction) in enumerate(depots.items()):
            session.add(Depot(id=depot_id, code=f"D-{n:02d}", name=f"Depot {n}", kind="army_depot", jurisdiction_code=jurisdiction))
    chooser = random.Random(6)
    now = dt.datetime.now(dt.UTC)
    held = asked = 0
    async with db.write() as session:
        received = incoming(depots, chooser, now, count // 200)
        await insert_many(session, ReportRequest.__table__, received)
        asked += len(received)
    for batch in item_rows(count, list(depots), chooser):
        records, holds, requests = report_rows(batch, depots, chooser, now)
        held += len(holds)
        asked += len(requests)
        async with db.write() as session:
            await insert_many(session, Item.__table__, batch)
            await insert_many(session, ReportRecord.__table__, records)
            await insert_many(session, ReportHold.__table__, holds)
            await insert_many(session, ReportRequest.__table__, requests)
            spans = {hold["code"]: [(hold["held_at"], hold["released_at"])] for hold in holds}
            await add_to_daily_counts(session, [], [{**row, "holds": spans.get(row["code"], [])} for row in records])
    # as autovacuum leaves a table after a bulk load: statistics, and on PostgreSQL the visibility map index-only scans need
    async with db.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE" if db.is_sqlite else "VACUUM ANALYZE"))
    return held, asked


async def timed(client: httpx.AsyncClient, path: str) -> tuple[float, float]:
    """Median and p95 in ms of ``RUNS`` requests for ``path`` (after one warm-up)."""
    answer = await client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[round(0.95 * (len(times) - 1))]


async def prepare(url: str, folder: Path, count: int, label: str) -> None:
    """Fill the migrated database at ``url`` and set this year's targets; the official's account is made here too."""
    db = Database(create_engine(url))
    start = time.perf_counter()
    held, asked = await fill(db, count)
    built = time.perf_counter() - start
    ledger = Ledger(db, ORIGIN, registry())
    operator = Actor.operator("bench")
    accounts = AccountService(ledger)
    await accounts.create_user(operator, NewUser("official", "Bench Official", Role.MINISTRY_OFFICIAL, "bench-password-1"))
    year = dt.date.today().year
    targets = TargetService(ledger, ReportService(db), load_roadmap(folder), dt.UTC)
    for n, jurisdiction in enumerate(JURISDICTIONS):
        await targets.set(operator, TargetInput(jurisdiction, "6.1", year, "bench", amount=str(10_000 + n * 1000)))
    await targets.set(operator, TargetInput("RS", "6.2", year + 1, "bench", declared_before=dt.date(year - 1, 1, 1)))
    await db.dispose()
    print(f"{label}: {count:,} items and report records, {held:,} holds, {asked:,} trace requests (written in {built:.0f} s)", flush=True)


async def time_pages(url: str, folder: Path) -> None:
    """Time the pages through the whole app as the ministry official :func:`prepare` made."""
    settings = Settings(folder, url, "http://127.0.0.1:8000", "bench-secret-" + "x" * 40, log_origin=ORIGIN)
    app = create_app(settings)
    year = dt.date.today().year
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        await client.get("/login")
        form = {"username": "official", "password": "bench-password-1", "_csrf_token": client.cookies.get("caliber_csrf") or ""}
        assert (await client.post("/login", data=form)).status_code == 302
        for name, path in (
            ("dashboard", f"/reports/?period={year}"),
            ("yearly report", f"/reports/{year}"),
            ("half-year report", f"/reports/{year}-H1"),
            ("figures API", f"/api/reports/figures?period={year}"),
        ):
            median, p95 = await timed(client, path)
            print(
                f"  {name:18s} median {median:7.1f} ms   p95 {p95:7.1f} ms   goal < {GOAL_MS} ms   ratio {median / GOAL_MS:.2f}", flush=True
            )
            where = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            figure(
                "reports",
                f"{name}, {where} (p95 {p95:.0f} ms)",
                median,
                "ms",
                ratio=median / GOAL_MS,
                goal=f"< {GOAL_MS} ms",
                met=median < GOAL_MS,
            )


async def measure(url: str, folder: Path, count: int, label: str) -> None:
    """Fill the database at ``url``, then time the pages."""
    await prepare(url, folder, count, label)
    await time_pages(url, folder)


async def main() -> None:
    """SQLite, then PostgreSQL when a URL is given."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the figures
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 records")
    parser.add_argument("--postgres", default=os.environ.get("CALIBER_TEST_POSTGRES_URL", ""))
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    args = parser.parse_args()
    count = 100_000 if args.quick else args.records
    if args.only != "postgresql":
        async with scratch_sqlite("reports.db") as (url, folder):
            await measure(url, folder, count, "SQLite")
    if args.only == "postgresql" and not args.postgres:
        parser.error("--only postgresql needs --postgres URL (or CALIBER_TEST_POSTGRES_URL)")
    if args.postgres and args.only != "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            async with scratch_postgres(args.postgres) as url:
                await measure(url, Path(folder), count, "PostgreSQL")


if __name__ == "__main__":
    asyncio.run(main())
