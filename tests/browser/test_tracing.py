"""In a real browser, at a desktop's and a phone's width: a clerk traces a weapon step by step and sends a trace
request; a request answered after its due day shows so; a request from another state finds the weapon and is
answered. No page scrolls sideways."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.test_inventory import make_depot, take_in

pytestmark = pytest.mark.browser
DEPOT = "RS-TRC-01"
CLERK, CLERK_PASSWORD = "tracer", "tracer long password"
WIDTHS = [1280, 390]
_serials = itertools.count(1)


@pytest.fixture(scope="module")
def tracing_depot(browser: Browser, live_server: LiveServer) -> str:
    """A depot with one shelf, made by the admin, and a clerk assigned to it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    log_in(tab, live_server, live_server.admin, live_server.admin_password)
    make_depot(tab, live_server, DEPOT, "Shelf 1")
    context.close()
    live_server.caliber(
        "user", "create", CLERK, "--role", "depot_clerk", "--name", "Tina Tracer", "--depot", DEPOT, stdin=CLERK_PASSWORD + "\n"
    )
    return DEPOT


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def clerk(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer, tracing_depot: str) -> Iterator[Page]:
    """The clerk's tab, logged in, at the parametrised width."""
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    tab = context.new_page()
    log_in(tab, live_server, CLERK, CLERK_PASSWORD)
    yield tab
    context.close()


def fits(page: Page) -> None:
    """The page does not scroll sideways (a table may scroll inside its own ``.table-wrap``)."""
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width} px wide in a window of {inner} px"


def section(page: Page, heading: str) -> Locator:
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def checked_and_queried(page: Page, server: LiveServer, serial: str) -> str:
    """Take a surrendered weapon in, open its trace from its record and record both checks; returns its code."""
    code = take_in(page, server, DEPOT, serial)
    page.locator("#trace-link").click()
    expect(page.locator("#trace-state")).to_have_text("Not started")
    fits(page)
    check = section(page, "Domestic record check")
    check.get_by_label("Reference").fill("MUP RS 2026/7")
    check.get_by_label("What it found").fill("not in the national registers")
    check.get_by_role("button").click()
    expect(page.get_by_role("status")).to_have_text("Step recorded.")
    expect(page.locator("#trace-state")).to_have_text("Domestic record check done")
    query = section(page, "iARMS query")
    query.get_by_label("iARMS query number").fill("IA-77")
    query.get_by_role("button").click()
    expect(page.locator("#trace-state")).to_have_text("iARMS query done")
    expect(page.locator("#steps")).to_contain_text("MUP RS 2026/7")
    expect(page.locator("#steps")).to_contain_text("IA-77")
    fits(page)
    return code


def send(page: Page, *, sent_on: dt.date | None, due: dt.date) -> None:
    form = section(page, "Send a trace request")
    form.get_by_label("Send to").select_option("interpol")
    form.get_by_label("Case reference").fill("KU 5/26")
    if sent_on is not None:
        form.get_by_label("Sent on").fill(sent_on.isoformat())
    form.get_by_label("Answer due by").fill(due.isoformat())
    form.get_by_role("button", name="Record the request as sent").click()
    expect(page.get_by_role("status")).to_have_text("Trace request recorded as sent.")


def test_a_clerk_checks_queries_and_sends_a_trace_request(clerk: Page, live_server: LiveServer) -> None:
    serial = f"TRACE-A{next(_serials)}"
    checked_and_queried(clerk, live_server, serial)
    expect(section(clerk, "Send a trace request")).to_contain_text(serial)  # what goes with it
    send(clerk, sent_on=None, due=dt.date.today() + dt.timedelta(days=30))
    expect(clerk.locator("#standing")).to_contain_text("awaiting an answer")
    expect(clerk.locator("#standing")).to_contain_text(r"due in")
    expect(clerk.locator("main")).to_contain_text(serial)
    fits(clerk)
    clerk.goto(f"{live_server.url}/tracing/")
    expect(clerk.locator("#outgoing + .table-wrap")).to_contain_text(serial)
    fits(clerk)


def test_a_request_answered_after_its_due_day_shows_answered_late(clerk: Page, live_server: LiveServer) -> None:
    today = dt.date.today()
    checked_and_queried(clerk, live_server, f"TRACE-B{next(_serials)}")
    send(clerk, sent_on=today - dt.timedelta(days=40), due=today - dt.timedelta(days=10))
    expect(clerk.locator("#standing")).to_contain_text("overdue")
    clerk.get_by_label("Answer").fill("Sold to a dealer in 1999")
    clerk.get_by_role("button", name="Record the answer").click()
    expect(clerk.get_by_role("status")).to_have_text("Answer recorded.")
    expect(clerk.locator("#standing")).to_contain_text("answered late")
    expect(clerk.locator("#answer")).to_have_text("Sold to a dealer in 1999")
    fits(clerk)


def test_a_request_from_another_state_finds_the_weapon_and_is_answered(clerk: Page, live_server: LiveServer) -> None:
    serial = f"ASKED-{next(_serials)}77"
    code = take_in(clerk, live_server, DEPOT, serial)
    clerk.goto(f"{live_server.url}/tracing/")
    clerk.get_by_role("link", name="Register a request from another state").click()
    fits(clerk)
    clerk.get_by_label("Depot that answers").select_option(label=f"{DEPOT} · Depot {DEPOT}")
    clerk.get_by_label("Requesting state").fill("AT")
    clerk.get_by_label("Their reference").fill("BK-2026/1")
    clerk.get_by_label("Answer due by").fill((dt.date.today() + dt.timedelta(days=20)).isoformat())
    clerk.get_by_label("Serial number").fill(serial[2:])  # part of the serial, as another state may read it
    clerk.get_by_label("Manufacturer").fill("Zastava Arms")  # another spelling of the maker on record
    clerk.get_by_role("button", name="Register the request").click()
    expect(clerk.get_by_role("status")).to_contain_text("Request registered.")
    match = clerk.locator(f'input[name=codes][value="{code}"]')
    expect(match).to_have_count(1)
    fits(clerk)
    match.check()
    clerk.locator("#f-answer").fill("Held at Depot RS-TRC-01 since its surrender")
    clerk.get_by_role("button", name="Send the answer").click()
    expect(clerk.get_by_role("status")).to_have_text("Answer recorded.")
    expect(clerk.locator("#answer")).to_have_text("Held at Depot RS-TRC-01 since its surrender")
    expect(clerk.locator(f'a[href="/ledger/timeline?subject={code}"]')).to_have_count(1)
    fits(clerk)
