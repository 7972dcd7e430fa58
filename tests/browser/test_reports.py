"""In a real browser: a ministry official reads where each jurisdiction stands, downloads the half-year report as PDF
and CSV, and follows a figure back to the custody events behind it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.live import LiveServer, new_server, serving

pytestmark = pytest.mark.browser
STATES = {"met", "on track", "behind", "missed", "not started"}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """``caliber serve`` over a small demo (four years of history, targets set), and the demo's passwords by role."""
    server = new_server(tmp_path_factory.mktemp("demo"))
    server.caliber("demo", "--no-serve", "--scale", "0.05")
    logins = (server.data_dir / "demo-logins.txt").read_text().splitlines()
    passwords = {role: (username, password) for username, role, password in (line.split("\t") for line in logins)}
    with serving(server):
        yield server, passwords


def _pdf_text(path: Path) -> str:
    document = pypdfium2.PdfDocument(path)
    try:
        return "\n".join(document[n].get_textpage().get_text_range() for n in range(len(document)))
    finally:
        document.close()


def test_an_official_reads_the_half_year_report_and_traces_a_figure(page: Page, demo_server: tuple[LiveServer, dict[str, str]]) -> None:
    server, logins = demo_server
    username, password = logins["ministry_official"]
    log_in(page, server, username, password)

    # where each jurisdiction stands against its targets (the demo sets this year's)
    year = dt.date.today().year
    page.goto(f"{server.url}/reports/?period={year}")
    standing = page.locator("table", has=page.get_by_text("Where each jurisdiction stands against its targets"))
    rows = standing.locator("tbody tr")
    expect(rows).to_have_count(7)  # an annual target in each of the six, and Serbia's clearance
    for n in range(rows.count()):
        assert rows.nth(n).locator(".state").inner_text() in STATES
    expect(standing).to_contain_text("Serbia")
    expect(page.locator("figure.timeline svg").first).to_be_visible()

    # the half-year report: the half-year under way is the default period
    page.goto(f"{server.url}/reports/")
    page.get_by_role("link", name=re.compile("The half-year report")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Roadmap report")
    key = page.url.rstrip("/").rsplit("/", 1)[1]
    assert re.fullmatch(r"\d{4}-H[12]", key)
    tree_size = int(re.search(r"ledger tree size ([\d,]+)", page.content()).group(1).replace(",", ""))  # type: ignore[union-attr]

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF", exact=True).click()
    pdf = Path(pdf_download.value.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert f"Roadmap report {key}" in text
    assert f"ledger tree size {tree_size:,}" in text
    assert "Signed checkpoint" in text
    assert re.search(rf"^{tree_size}\s*$", text, re.MULTILINE), text[-600:]  # the signed note's tree size line

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV of every figure").click()
    figures = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert figures
    assert {row["period"] for row in figures} == {key}
    assert {int(row["tree_size"]) for row in figures} == {tree_size}
    destroyed = {row["row"]: row["value"] for row in figures if row["table"] == "surplus" and row["column"] == "Destroyed"}
    assert len(destroyed) == 6, destroyed

    # the figure on the page is the figure in the CSV, and its link lists exactly that many records
    jurisdiction, value = next((name, int(v)) for name, v in destroyed.items() if v and int(v) > 0)
    cell = page.locator("table#surplus tbody tr", has=page.get_by_role("rowheader", name=jurisdiction)).locator("td").nth(2)
    expect(cell).to_have_text(f"{value:,}")
    cell.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weapons destroyed")
    listed = page.locator("table tbody tr")
    expect(listed).to_have_count(min(value, 200))

    # and a record's page shows the custody events, the destruction among them
    listed.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Custody timeline")).to_be_visible()
    events = page.locator("table.timeline tbody tr td:nth-child(3)").all_inner_texts()
    assert any(e.startswith("Destroyed in destruction") and e.rstrip().endswith("destruction.destroyed") for e in events), events


def test_the_dashboard_shows_where_tracing_stands_at_desk_and_phone_width(
    page: Page, demo_server: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    server, logins = demo_server
    log_in(page, server, *logins["admin"])
    listed = page.request.get(f"{server.url}/api/items/?intake_source=found&kind=weapon&limit=50").json()["items"]
    states = {item["code"]: page.request.get(f"{server.url}/api/tracing/weapons/{item['code']}").json()["state"] for item in listed}
    found = next(code for code, state in states.items() if state == "not_started")  # the demo traces a few found weapons itself
    csrf = {"x-csrftoken": next(c["value"] for c in page.context.cookies() if c["name"] == "caliber_csrf")}
    for step in ({"step": "domestic_check"}, {"step": "origin_established", "origin_country": "ME"}):
        answer = page.request.post(f"{server.url}/api/tracing/weapons/{found}/steps", data=step, headers=csrf)
        assert answer.ok, answer.text()
    page.context.clear_cookies()
    log_in(page, server, *logins["ministry_official"])

    year = dt.date.today().year
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{server.url}/reports/?period={year}")
        section = page.locator("section.tracing")
        expect(section.get_by_role("heading", level=2)).to_have_text("Goal 5: weapons traced (SDG 16.4.2)")
        expect(section.locator("figure svg")).to_be_visible()
        section.scroll_into_view_if_needed()
        page.screenshot(path=tmp_path / f"tracing-{width}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"  # the table scrolls in .table-wrap
    row = section.locator("tbody tr", has=page.get_by_role("rowheader", name="Origins established in the period"))
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weapons whose origin was established")
    expect(page.locator("table tbody tr a", has_text=found)).to_have_count(1)
