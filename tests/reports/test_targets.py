"""Roadmap targets: KPIs as data, targets set by admins as custody events, progress (done, remaining, rate needed, on track)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.destruction.service import DestructionService
from caliber.errors import InvalidInput, PermissionDenied
from caliber.items.lifecycle import Action
from caliber.items.schemas import StatusChange
from caliber.ledger.store import Ledger
from caliber.reports.kpis import load_roadmap
from caliber.reports.schemas import TargetInput
from caliber.reports.service import ReportService
from caliber.reports.targets import TargetService
from tests.destruction.helpers import approved, cast, through_the_day
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")
BELGRADE = "Europe/Belgrade"


def targets_of(ledger: Ledger, data_dir: Path) -> TargetService:
    from zoneinfo import ZoneInfo

    return TargetService(ledger, ReportService(ledger.db), load_roadmap(data_dir), ZoneInfo(BELGRADE))


async def test_annual_and_clearance_progress(factory: Factory, ledger: Ledger, destructions: DestructionService, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    ledger.clock = lambda: dt.datetime(now.year, 1, 20, 10, tzinfo=dt.UTC)
    day = await cast(factory, items=3)
    spare = await factory.item(day.depot)
    await factory.items.change_status(OPERATOR, "item", spare.code, StatusChange(Action.DECLARE_SURPLUS, "surplus to needs"))
    ledger.clock = lambda: dt.datetime.now(dt.UTC)
    await through_the_day(destructions, day, await approved(destructions, day))
    targets = targets_of(ledger, tmp_path)
    admin = await factory.actor(Role.ADMIN)
    jurisdiction = day.depot.jurisdiction_code
    await targets.set(admin, TargetInput(jurisdiction, "6.1", now.year, "need 4", amount="4"))
    await targets.set(admin, TargetInput(jurisdiction, "6.1", now.year, "decision 12/26", amount="2"))  # replaces the first
    await targets.set(admin, TargetInput(jurisdiction, "6.2", now.year, "decision 13/26", declared_before=dt.date(now.year, 2, 1)))
    await targets.set(admin, TargetInput(jurisdiction, "6.1", now.year + 1, "decision 14/26", amount="100"))
    now = dt.datetime.now(dt.UTC)
    found = {(p.kpi.key, p.target.year): p for p in await targets.progress(OPERATOR, now)}
    assert set(found) == {("6.1", now.year), ("6.2", now.year), ("6.1", now.year + 1)}
    annual = found["6.1", now.year]
    assert (annual.amount, annual.done, annual.remaining, annual.state, annual.target.reason) == (2, 3, 0, "met", "decision 12/26")
    clearance = found["6.2", now.year]
    assert (clearance.amount, clearance.done, clearance.remaining) == (4, 3, 1)
    months_left = (dt.datetime(now.year + 1, 1, 1, tzinfo=dt.UTC) - now).days / 30.44
    assert clearance.needed_per_month == pytest.approx(1 / max(months_left, 1), rel=0.05)  # all of it, in the last month
    assert clearance.pace_per_month is not None
    assert clearance.pace_per_month < 3
    assert clearance.state == ("behind" if clearance.pace_per_month < clearance.needed_per_month else "on track")
    future = found["6.1", now.year + 1]
    assert (future.done, future.state, future.time_gone) == (0, "not started", 0)
    assert len(await targets.history()) == 4
    await targets.set(admin, TargetInput(jurisdiction, "6.1", now.year + 1, "cancelled", withdrawn=True))
    assert ("6.1", now.year + 1) not in {(p.kpi.key, p.target.year) for p in await targets.progress(OPERATOR, now)}


async def test_annual_progress_is_behind_when_short_of_the_years_pace(factory: Factory, ledger: Ledger, tmp_path: Path) -> None:
    targets = targets_of(ledger, tmp_path)
    admin = await factory.actor(Role.ADMIN)
    await targets.set(admin, TargetInput("AL", "6.1", 2026, "decision", amount="1200"))
    at = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    (progress,) = await targets.progress(OPERATOR, at)
    assert (progress.done, progress.remaining, progress.state) == (0, 1200, "behind")
    assert progress.time_gone == pytest.approx(90 / 365, abs=0.01)
    assert progress.needed_per_month == pytest.approx(1200 / 9, rel=0.02)
    (late,) = await targets.progress(OPERATOR, dt.datetime(2027, 2, 1, tzinfo=dt.UTC))
    assert (late.state, late.needed_per_month) == ("missed", None)


@pytest.mark.parametrize(
    ("wanted", "field"),
    [
        (TargetInput("RS", "6.1", 2026, "x y z"), "amount"),
        (TargetInput("RS", "6.1", 2026, "x y z", amount="0"), "amount"),
        (TargetInput("RS", "6.2", 2026, "x y z"), "declared_before"),
        (TargetInput("RS", "6.2", 2026, "x y z", declared_before=dt.date(2027, 1, 1)), "declared_before"),
        (TargetInput("RS", "5.1", 2026, "x y z", amount="5"), "kpi"),
        (TargetInput("ZZ", "6.1", 2026, "x y z", amount="5"), "jurisdiction"),
    ],
)
async def test_a_target_that_does_not_fit_its_kpi_is_refused(
    factory: Factory, ledger: Ledger, tmp_path: Path, wanted: TargetInput, field: str
) -> None:
    targets = targets_of(ledger, tmp_path)
    with pytest.raises(InvalidInput) as refused:
        await targets.set(await factory.actor(Role.ADMIN), wanted)
    assert refused.value.field == field
    assert await targets.history() == []


async def test_only_admins_set_targets(factory: Factory, ledger: Ledger, tmp_path: Path) -> None:
    targets = targets_of(ledger, tmp_path)
    for role in (Role.MINISTRY_OFFICIAL, Role.INSPECTOR, Role.DEPOT_MANAGER):
        with pytest.raises(PermissionDenied):
            await targets.set(await factory.actor(role), TargetInput("RS", "6.1", 2026, "x y z", amount="5"))


async def test_an_admin_sets_a_target_on_the_page_and_an_official_reads_it(client: httpx.AsyncClient, factory: Factory) -> None:
    year = dt.datetime.now(dt.UTC).year
    await login(client, (await factory.user(Role.ADMIN)).user.username)
    form = {"jurisdiction": "ME", "kpi": "6.5", "year": str(year), "amount": "12.5", "reason": "Government decision 7/26"}
    token = client.cookies.get("caliber_csrf") or ""
    answer = await client.post("/reports/targets", data={**form, "_csrf_token": token})
    assert answer.status_code == 302, answer.text
    wrong = await client.post("/reports/targets", data={**form, "amount": "", "_csrf_token": token})
    assert wrong.status_code == 422
    assert "takes a number per year" in wrong.text
    client.cookies.clear()
    await login(client, (await factory.user(Role.MINISTRY_OFFICIAL)).user.username)
    (progress,) = (await client.get("/api/reports/targets")).json()
    assert (progress["jurisdiction"], progress["kpi"], progress["amount"], progress["unit"]) == ("ME", "6.5", 12.5, "t")
    assert progress["state"] in {"behind", "on track"}
    page = (await client.get("/reports/targets")).text
    for shown in ("Montenegro", "12.500 t in", "Government decision 7/26"):
        assert shown in page
    assert "Set a target" not in page
    kpis = (await client.get("/api/reports/kpis")).json()
    assert {goal["number"] for goal in kpis["goals"]} == {5, 6, 7}
    refused = await client.post(
        "/api/reports/targets", json={"jurisdiction": "ME", "kpi": "6.1", "year": year, "reason": "x y z", "amount": "5"}
    )
    assert refused.status_code == 403
