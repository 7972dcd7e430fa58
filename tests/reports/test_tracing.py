"""SDG 16.4.2 and tracing activity in every output: the API, the dashboard, the drill-down, the report's CSV and PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape
from zoneinfo import ZoneInfo

import httpx
import pypdfium2
import pytest
from sqlalchemy import delete

from caliber.accounts.models import Role
from caliber.items.lifecycle import IntakeSource
from caliber.ledger.store import Ledger
from caliber.reports.models import ReportDay, ReportMonth, ReportRecord, ReportRequest
from caliber.reports.periods import parse_period
from caliber.reports.projection import rebuild
from caliber.reports.service import ReportService, Tracing
from caliber.tracing.events import Recipient
from caliber.tracing.lifecycle import ExceptionReason
from caliber.tracing.schemas import IdentifiersIn, NewIncoming, NewRequest, StepIn, TraceExceptionIn
from caliber.tracing.service import TracingService
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def _traced(factory: Factory, ledger: Ledger) -> dict[str, str]:
    """In Serbia: three weapons seized, one traced to its origin, one excepted, one with a request overdue; a surplus
    weapon (not counted); a request from another state; the codes by what became of them."""
    tracing = TracingService(ledger, dt.UTC)
    today = dt.datetime.now(dt.UTC).date()
    depot = await factory.depot(jurisdiction="RS")
    seized = [(await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="K-3/26")).code for _ in range(3)]
    await factory.item(depot, intake_source=IntakeSource.SURPLUS)
    found, excepted, asked = seized
    await tracing.record_step(OPERATOR, found, StepIn("domestic_check"))
    await tracing.record_step(OPERATOR, found, StepIn("origin_established", origin_country="RS"))
    await tracing.record_exception(OPERATOR, excepted, TraceExceptionIn(ExceptionReason.INSUFFICIENT_MARKINGS, "serial ground off"))
    await tracing.record_step(OPERATOR, asked, StepIn("domestic_check"))
    await tracing.record_step(OPERATOR, asked, StepIn("iarms_query"))
    sent_on = max(dt.date(today.year, 1, 1), today - dt.timedelta(days=20))
    await tracing.send_request(OPERATOR, asked, NewRequest(Recipient.INTERPOL, sent_on + dt.timedelta(days=1), sent_on=sent_on))
    await tracing.register_incoming(OPERATOR, NewIncoming(depot.id, "AT", "BK-2", today + dt.timedelta(days=30), IdentifiersIn("777")))
    return {"established": found, "excepted": excepted, "open": asked}


async def test_the_share_traced_and_the_requests_reach_the_api_dashboard_drill_down_csv_and_pdf(
    client: httpx.AsyncClient, factory: Factory, ledger: Ledger
) -> None:
    codes = await _traced(factory, ledger)
    year = dt.datetime.now(dt.UTC).year
    await login(client, (await factory.user(Role.MINISTRY_OFFICIAL)).user.username)
    serbia = (await client.get(f"/api/reports/figures?period={year}")).json()["jurisdictions"]["RS"]["tracing"]
    assert (serbia["taken_in"], serbia["established"], serbia["share"], serbia["open"], serbia["not_started"]) == (3, 1, 33.3, 1, 0)
    assert serbia["excepted"] == {"insufficient_markings": 1}
    assert (serbia["requests_sent"], serbia["requests_overdue"], serbia["incoming_received"], serbia["incoming_overdue"]) == (1, 1, 1, 0)
    assert serbia["origins_established"] == 1

    page = (await client.get(f"/reports/?period={year}")).text
    assert "Goal 5: weapons traced (SDG 16.4.2)" in page
    assert "Serbia: share 33.3%" in page  # the chart's description carries its numbers
    links = {unescape(link) for link in re.findall(r'href="(/reports/records\?[^"]+)"', page)}
    for measure, code in (("traced_established", codes["established"]), ("traced_open", codes["open"])):
        link = f"/reports/records?period={year}&jurisdiction=RS&measure={measure}"
        assert link in links
        assert re.findall(r'href="/s/(\d+)"', (await client.get(link)).text) == [code]
    overdue = (await client.get(f"/reports/records?period={year}&jurisdiction=RS&measure=requests_overdue")).text
    assert len(re.findall(r'href="/tracing/requests/[0-9a-f-]+"', overdue)) == 1
    assert re.findall(r'href="/s/(\d+)"', overdue) == [codes["open"]]
    api = await client.get("/api/reports/records", params={"period": str(year), "jurisdiction": "RS", "measure": "incoming_received"})
    assert [request["direction"] for request in api.json()["requests"]] == ["received"]

    rows = list(csv.DictReader(io.StringIO((await client.get(f"/reports/{year}/csv")).text)))
    row = {(r["table"], r["column"]): r["value"] for r in rows if r["row"] == "Serbia"}
    assert row["tracing", "Share established (%)"] == "33.3"
    assert row["tracing", "Excepted: insufficient markings"] == "1"
    assert row["trace-requests", "Sent: overdue at the end"] == "1"
    assert row["goal-5-kpis", "5.3 Seized, found and surrendered weapons traced: origin established (SDG 16.4.2) (%)"] == "33.3"
    answer = await client.get(f"/reports/{year}/pdf")
    text = "\n".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(answer.content))
    for shown in ("Weapons traced (SDG 16.4.2)", "Tracing activity", "33.3", "Roadmap 2018-2024"):
        assert shown in text


async def test_depot_staff_count_the_traces_of_their_own_depots(client: httpx.AsyncClient, factory: Factory, ledger: Ledger) -> None:
    await _traced(factory, ledger)
    year = dt.datetime.now(dt.UTC).year
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=[await factory.depot(jurisdiction="RS")])).user.username)
    serbia = (await client.get(f"/api/reports/figures?period={year}")).json()["jurisdictions"]["RS"]["tracing"]
    assert (serbia["taken_in"], serbia["share"], serbia["requests_sent"], serbia["incoming_received"]) == (0, None, 0, 0)
    listed = await client.get(f"/reports/records?period={year}&jurisdiction=RS&measure=requests_overdue")
    assert "/tracing/requests/" not in listed.text


async def test_an_emptied_projection_is_rebuilt_with_its_traces_and_requests(factory: Factory, ledger: Ledger) -> None:
    await _traced(factory, ledger)
    year = parse_period(str(dt.datetime.now(dt.UTC).year), ZoneInfo("Europe/Belgrade"))
    before = await ReportService(ledger.db).figures(OPERATOR, year)
    assert before["RS"].tracing.requests_sent == 1
    async with ledger.db.write() as session:
        for table in (ReportRequest, ReportDay, ReportMonth, ReportRecord):
            await session.execute(delete(table))
    assert (await ReportService(ledger.db).figures(OPERATOR, year))["RS"].tracing == Tracing()
    await rebuild(ledger)
    assert await ReportService(ledger.db).figures(OPERATOR, year) == before
