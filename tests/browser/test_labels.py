"""In a real browser at a phone's width: the printer pages, the print page and a custody timeline fit the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.test_inventory import make_depot, take_in

pytestmark = pytest.mark.browser


def assert_fits(page: Page) -> None:
    """Nothing on the page makes it scroll sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"  # type: ignore[index]


def test_printer_print_and_timeline_pages_fit_a_phone_and_say_what_is_wrong_beside_the_field(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-PRN-01", "Print shelf")
    code = take_in(page, live_server, "RS-PRN-01", "PRINT-1", shelf="Print shelf")

    page.goto(f"{live_server.url}/printers/new")
    assert_fits(page)
    page.locator("select[name=depot_id]").select_option(label="RS-PRN-01 · Depot RS-PRN-01")
    page.locator("input[name=name]").fill("Intake desk")
    page.locator("input[name=host]").fill("127.0.0.1")
    page.locator("input[name=port]").fill("99999")
    page.locator("input[name=model]").fill("Zebra ZD421")
    page.get_by_role("button", name="Register printer").click()
    expect(page.locator("#e-port")).to_contain_text("Port")
    expect(page.locator("input[name=name]")).to_have_value("Intake desk")
    assert_fits(page)
    page.locator("input[name=port]").fill("9100")
    page.get_by_role("button", name="Register printer").click()
    expect(page.get_by_role("table")).to_contain_text("127.0.0.1:9100")
    assert_fits(page)
    assert page.locator(".table-wrap").evaluate("table => table.scrollWidth <= table.clientWidth"), "the status is off the screen"
    page.get_by_role("link", name="Intake desk").click()
    expect(page.get_by_label("In service")).to_be_checked()
    assert_fits(page)

    page.goto(f"{live_server.url}/print/")
    assert_fits(page)
    page.goto(f"{live_server.url}/ledger/timeline?subject={code}")
    expect(page.get_by_role("table")).to_contain_text("item.registered")
    assert_fits(page)
