"""The Roadmap dashboard and the figures API: every jurisdiction, charts with their numbers, depot staff scoped."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.destruction.service import DestructionService
from tests.destruction.helpers import approved, cast, through_the_day
from tests.factories import Factory, login

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
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert "Serbia: destroyed 3" in page  # the chart's description carries its numbers
    assert "Kosovo*" in page
    assert (await client.get("/api/reports/figures?period=2026-H3")).status_code == 422
    client.cookies.clear()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[await factory.depot()])).user.username)
    mine = (await client.get(f"/api/reports/figures?period={year}")).json()["jurisdictions"]
    assert mine["RS"]["destroyed"] == 0
