"""The demo: every demo user logs in and sees only what the role allows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from caliber import demo
from caliber.db import Database
from caliber.depots.models import Depot
from caliber.destruction.models import DestructionEvent
from caliber.domains import registry
from caliber.items.models import AmmunitionLot, Item
from caliber.ledger.store import Ledger
from caliber.reports.kpis import load_roadmap
from caliber.reports.periods import parse_period
from caliber.reports.service import ReportService
from caliber.reports.targets import TargetService
from caliber.stockchecks.models import StockCheck
from caliber.transfers.models import Transfer
from tests.conftest import TEST_ORIGIN, replay_differences
from tests.factories import OPERATOR, login

BELGRADE = ZoneInfo("Europe/Belgrade")


async def test_each_demo_user_logs_in_and_sees_their_scope(db: Database, client: httpx.AsyncClient, tmp_path: Path) -> None:
    logins = await demo.ensure_demo(Ledger(db, TEST_ORIGIN, registry()), tmp_path, scale=0.02)
    assert {role for _, role, _ in logins} == {"admin", "depot_clerk", "depot_manager", "witness", "inspector", "ministry_official"}
    all_codes = {depot.code for depot in demo.DEMO_DEPOTS}
    assigned = {username: set(codes) for username, _, _, _, codes in demo.DEMO_USERS}
    for username, role, password in logins:
        client.cookies.clear()
        response = await login(client, username, password)
        assert response.status_code == 302, (username, response.text)
        seen = {d["code"] for d in (await client.get("/api/depots")).json()}
        assert seen == (assigned[username] if role in {"depot_clerk", "depot_manager"} else all_codes), username
        users_page = await client.get("/users/")
        assert users_page.status_code == (200 if role == "admin" else 403), username


async def test_demo_data_is_created_once(db: Database, tmp_path: Path) -> None:
    first = await demo.ensure_demo(Ledger(db, TEST_ORIGIN, registry()), tmp_path, scale=0.02)
    assert await demo.ensure_demo(Ledger(db, TEST_ORIGIN, registry()), tmp_path, scale=0.02) == first


async def test_the_demo_stock_looks_like_the_region(db: Database, tmp_path: Path, empty_sqlite: Path) -> None:
    await demo.ensure_demo(Ledger(db, TEST_ORIGIN, registry()), tmp_path, scale=0.05)
    async with db.read() as session:
        by_jurisdiction = dict(
            (
                await session.execute(
                    select(Depot.jurisdiction_code, func.count()).join(Item, Item.depot_id == Depot.id).group_by(Depot.jurisdiction_code)
                )
            ).all()
        )
        statuses = set(await session.scalars(select(Item.status).distinct()))
        lots = await session.scalar(select(func.count()).select_from(AmmunitionLot))
        transfers = list(await session.scalars(select(Transfer.status)))
        checks = list(await session.scalars(select(StockCheck.status)))
        destructions = sorted(await session.scalars(select(DestructionEvent.status)))
    assert set(by_jurisdiction) == {"AL", "BA", "XK", "ME", "MK", "RS"}
    assert by_jurisdiction["RS"] == max(by_jurisdiction.values())
    assert {"evidence_hold", "surplus", "approved_for_destruction", "in_transit", "awaiting_decision"} <= statuses
    assert (lots or 0) > 10
    assert (transfers, checks) == (["in_transit"], ["open"])
    assert destructions.count("approved") == 1
    assert destructions.count("certified") >= 6  # the history's, in every jurisdiction, and this week's
    assert "certified" in statuses
    assert await replay_differences(db, empty_sqlite, tmp_path) == []


async def test_the_demo_history_spreads_over_the_years_with_targets(db: Database, tmp_path: Path) -> None:
    await demo.ensure_demo(Ledger(db, TEST_ORIGIN, registry()), tmp_path, scale=0.05)
    reports = ReportService(db)
    years = {year: await reports.figures(OPERATOR, parse_period(str(year), BELGRADE)) for year in (2023, 2024, 2025)}
    assert all(sum(f.declared for f in found.values()) > 0 for found in years.values())
    destroyed = {j for found in years.values() for j, f in found.items() if f.destroyed}
    assert len(destroyed) >= 5
    days = [f.days_from_intake for found in years.values() for f in found.values() if f.days_from_intake]
    assert days
    assert max(median for median, _ in days) > 30
    targets = TargetService(Ledger(db, TEST_ORIGIN, registry()), reports, load_roadmap(tmp_path), BELGRADE)
    progress = await targets.progress(OPERATOR, dt.datetime.now(dt.UTC))
    assert len(progress) == len(demo.TARGETS) + 1
