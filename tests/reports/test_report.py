"""The half-year and yearly report: by goal then jurisdiction, drill-down to the records, PDF and CSV that agree with the page."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
from html import unescape

import httpx
import pypdfium2
import pytest
from openpyxl import load_workbook

from caliber.accounts.models import Role
from caliber.destruction.service import DestructionService
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.schemas import StatusChange
from caliber.ledger.store import Ledger
from tests.destruction.helpers import approved, cast, through_the_day
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")
LINK = re.compile(r'href="(/reports/records\?[^"]+)"')


async def _history(factory: Factory, destructions: DestructionService) -> tuple[list[str], str]:
    """Three weapons destroyed in Serbia, a seized weapon (on evidence hold from intake), a surplus weapon left in stock."""
    day = await cast(factory, items=3)
    await through_the_day(destructions, day, await approved(destructions, day))
    seized = await factory.item(day.depot, intake_source=IntakeSource.SEIZED, case_reference="K-7/26")
    spare = await factory.item(day.depot)
    await factory.items.change_status(OPERATOR, "item", spare.code, StatusChange(Action.DECLARE_SURPLUS, "surplus to needs"))
    return day.codes, seized.code


async def test_the_report_links_every_number_to_its_records_and_its_files_agree(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService, ledger: Ledger
) -> None:
    destroyed, seized = await _history(factory, destructions)
    year = dt.datetime.now(dt.UTC).year
    await login(client, (await factory.user(Role.MINISTRY_OFFICIAL)).user.username)
    page = (await client.get(f"/reports/{year}")).text
    for heading in (
        "Goal 5: Illicit possession",
        "Goal 6: Surplus destruction",
        "Goal 7: Stockpile security",
        "Weapons destroyed by UN SALW type",
    ):
        assert heading in page
    links = {unescape(link) for link in LINK.findall(page)}
    destroyed_link = f"/reports/records?period={year}&jurisdiction=RS&measure=destroyed"
    assert destroyed_link in links
    listed = (await client.get(destroyed_link)).text
    assert sorted(re.findall(r'href="/s/(\d+)"', listed)) == sorted(destroyed)
    held = (await client.get(f"/reports/records?period={year}&jurisdiction=RS&measure=taken_in_held")).text
    assert re.findall(r'href="/s/(\d+)"', held) == [seized]
    api = (await client.get("/api/reports/records", params={"period": str(year), "jurisdiction": "RS", "measure": "surplus_end"})).json()
    assert len(api["records"]) == 1
    assert api["next_after"] is None

    rows = list(csv.DictReader(io.StringIO((await client.get(f"/reports/{year}/csv")).text)))
    size = await ledger.size()
    assert {row["tree_size"] for row in rows} == {str(size)}
    serbia = {(row["table"], row["column"]): row["value"] for row in rows if row["row"] == "Serbia"}
    assert serbia["surplus", "Destroyed"] == "3"
    assert serbia["surplus", "Stock at the end"] == "1"
    assert serbia["taken-in", "Of them on evidence hold"] == "1"
    table = list(csv.reader(io.StringIO((await client.get(f"/reports/{year}/csv/surplus")).text)))
    assert table[0] == ["", "Stock at the start", "Declared", "Destroyed", "Stock at the end"]
    assert ["Serbia", "0", "4", "3", "1"] in table
    assert (await client.get(f"/reports/{year}/csv/nonsense")).status_code == 404

    book = load_workbook(io.BytesIO((await client.get(f"/reports/{year}/xlsx")).content))
    surplus = next(book[name] for name in book.sheetnames if name.endswith(" surplus"))
    assert ["Serbia", 0, 4, 3, 1] in [[c.value for c in row] for row in surplus.iter_rows(min_row=3)]
    assert book["Report"]["B4"].value == size

    answer = await client.get(f"/reports/{year}/pdf")
    assert answer.headers["content-type"] == "application/pdf"
    text = "\n".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(answer.content))
    for shown in ("Roadmap report", "Weapons destroyed by method", f"tree size {size:,}", "Signed checkpoint", "Kosovo*"):
        assert shown in text
    async with ledger.db.read() as session:
        from caliber.ledger.store import root_at

        root = base64.b64encode(await root_at(session, size)).decode()
    assert root in text.replace("\r", "").replace("\n", "")


async def test_depot_staff_see_their_depots_in_the_report_and_bad_periods_are_refused(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    await _history(factory, destructions)
    year = dt.datetime.now(dt.UTC).year
    elsewhere = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[elsewhere])).user.username)
    rows = list(csv.DictReader(io.StringIO((await client.get(f"/reports/{year}/csv")).text)))
    assert {row["value"] for row in rows if row["table"] == "surplus"} == {"0"}
    assert "depots assigned to the reader" in (await client.get(f"/reports/{year}")).text
    listed = await client.get(f"/reports/records?period={year}&jurisdiction=RS&measure=destroyed")
    assert 'href="/s/' not in listed.text
    assert (await client.get("/reports/2026-H3")).status_code == 422
    assert (await client.get(f"/reports/records?period={year}&jurisdiction=RS&measure=everything")).status_code == 422
