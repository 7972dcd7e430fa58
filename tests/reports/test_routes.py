"""The Roadmap dashboard and the figures API: every jurisdiction, charts with their numbers, depot staff scoped."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from litestar import Litestar

from caliber.accounts.models import Role
from caliber.destruction.service import DestructionService
from caliber.ledger.store import Ledger
from caliber.reports.pages import current_period
from caliber.reports.schemas import TargetInput
from caliber.reports.service import ReportService
from tests.destruction.helpers import approved, cast, through_the_day
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def test_an_official_sees_every_jurisdiction_and_staff_their_depots(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=3)
    event = await approved(destructions, day)
    await through_the_day(destructions, day, event)
    await factory.item(await factory.depot(jurisdiction="AL"))
    year = dt.datetime.now(dt.UTC).year
    await login(client, (await factory.user(Role.MINISTRY_OFFICIAL)).user.username)
    figures = (await client.get(f"/api/reports/figures?period={year}")).json()
    assert set(figures["jurisdictions"]) == {"AL", "BA", "XK", "ME", "MK", "RS"}
    serbia = figures["jurisdictions"]["RS"]
    assert (serbia["declared"], serbia["destroyed"], serbia["surplus_end"]) == (3, 3, 0)
    assert serbia["destroyed_by_method"] == {"smelting": 3}
    assert figures["period"]["time_zone"] == "Europe/Belgrade"
    page = (await client.get(f"/reports/?period={year}")).text
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 7  # two over time, two by jurisdiction, by type, by method, traced
    assert "Smelting: destroyed 3" in page
    assert "Serbia: destroyed 3" in page  # the chart's description carries its numbers
    assert "Kosovo*" in page
    assert (await client.get("/api/reports/figures?period=2026-H3")).status_code == 422
    client.cookies.clear()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[await factory.depot()])).user.username)
    mine = (await client.get(f"/api/reports/figures?period={year}")).json()["jurisdictions"]
    assert mine["RS"]["destroyed"] == 0


async def test_the_dashboard_draws_destruction_over_time_against_the_target_and_the_surplus_burning_down(
    app: Litestar, client: httpx.AsyncClient, factory: Factory, destructions: DestructionService, ledger: Ledger
) -> None:
    year = dt.datetime.now(dt.UTC).year
    ledger.clock = lambda: dt.datetime(year, 3, 10, 9, tzinfo=dt.UTC)
    day = await cast(factory, items=3)
    await through_the_day(destructions, day, await approved(destructions, day))
    ledger.clock = lambda: dt.datetime.now(dt.UTC)
    found = await ReportService(ledger.db).timeline(
        OPERATOR, [dt.datetime(year, m, 1, tzinfo=dt.UTC) for m in (1, 3, 4)] + [dt.datetime.now(dt.UTC)], ["RS"]
    )
    assert found["RS"] == ([0, 0, 3, 3], [0, 0, 0, 0])
    admin = await factory.actor(Role.ADMIN)
    await app.state.targets.set(admin, TargetInput("RS", "6.1", year, "decision 3/26", amount="12"))
    await login(client, (await factory.user(Role.MINISTRY_OFFICIAL)).user.username)
    page = (await client.get(f"/reports/?period={year}")).text
    assert f"Share of the {year} destruction target reached, month by month (%)" in page
    assert "Where each jurisdiction stands against its targets" in page
    assert (
        page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 8 + 1
    )  # 3 over time, 5 by jurisdiction, type, method, traced; a progress bar
    assert re.search(r"Serbia: 1 Jan 0, Feb 0, Mar 0, Apr 25", page)  # 3 of 12
    assert re.search(r"Serbia: 1 Jan 0, Feb 0, Mar 0, Apr 3", page)


async def test_an_official_assigned_jurisdictions_reads_only_those(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)  # in Serbia
    await through_the_day(destructions, day, await approved(destructions, day))
    albania = await factory.depot(jurisdiction="AL")
    await factory.item(albania)
    year = dt.datetime.now(dt.UTC).year
    official = await factory.user(Role.MINISTRY_OFFICIAL, jurisdictions=["ME", "AL"])
    assert official.jurisdictions == ["AL", "ME"]
    await login(client, official.user.username)
    figures = (await client.get(f"/api/reports/figures?period={year}")).json()["jurisdictions"]
    assert list(figures) == ["AL", "ME"]
    report = (await client.get(f"/reports/{year}")).text
    assert "Albania" in report
    assert "Serbia" not in report
    assert "The jurisdictions assigned to the reader only." in report
    listed = (await client.get("/api/reports/records", params={"period": str(year), "jurisdiction": "RS", "measure": "destroyed"})).json()
    assert listed["records"] == []
    assert (await client.get(f"/items/{day.codes[0]}")).status_code == 403
    depots = (await client.get("/api/depots")).json()
    assert {d["jurisdiction"] for d in depots} == {"AL"}


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (dt.date(2026, 12, 15), "2026-H2"),
        (dt.date(2026, 7, 1), "2026-H2"),
        (dt.date(2026, 6, 30), "2026-H1"),
        (dt.date(2027, 1, 1), "2027-H1"),
    ],
)
def test_the_current_period_is_the_half_year_under_way(today: dt.date, period: str) -> None:
    assert current_period(today) == period


async def test_the_dashboard_opens_on_the_half_year_under_way_by_the_ledgers_clock(
    app: Litestar, client: httpx.AsyncClient, factory: Factory
) -> None:
    await login(client, (await factory.user(Role.MINISTRY_OFFICIAL)).user.username)
    ledger: Ledger = app.state["ledger"]
    ledger.clock = lambda: dt.datetime(2026, 12, 15, 9, tzinfo=dt.UTC)
    page = (await client.get("/reports/")).text
    assert "<h1>Roadmap figures · 1 July – 31 December 2026</h1>" in page
    assert '<option value="2026-H2" selected>' in page
    ledger.clock = lambda: dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC)  # still 30 June in UTC, 1 July in Belgrade (UTC+2)
    assert "<h1>Roadmap figures · 1 July – 31 December 2026</h1>" in (await client.get("/reports/")).text
    ledger.clock = lambda: dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC) - dt.timedelta(hours=1)
    assert "<h1>Roadmap figures · 1 January – 30 June 2026</h1>" in (await client.get("/reports/")).text
