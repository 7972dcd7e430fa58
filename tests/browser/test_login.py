"""In a real browser: log in, see the home page, create a depot, add a location without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_wrong_password_stays_on_the_login_page(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, "not the password")
    expect(page.get_by_role("alert")).to_contain_text("wrong username or password")


def test_admin_logs_in_creates_a_depot_and_adds_a_location(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Browser Admin")

    page.get_by_role("link", name="New depot").click()
    page.get_by_label("Code").fill("mk-sko-99")
    page.get_by_label("Jurisdiction").select_option("MK")
    page.get_by_label("Name").fill("Skopje Test Store")
    page.get_by_label("Kind").select_option("police_evidence_store")
    page.get_by_role("button", name="Create depot").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Skopje Test Store")
    expect(page.get_by_role("heading", level=1)).to_contain_text("MK-SKO-99")
    depot_url = page.url

    page.locator("#locations select[name=kind]").select_option("room")
    page.get_by_label("Name").fill("Evidence room")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#locations")).to_contain_text("Evidence room")
    assert page.url == depot_url  # swapped in by htmx, no navigation

    page.goto(f"{live_server.url}/depots/")
    expect(page.get_by_role("link", name="MK-SKO-99")).to_be_visible()


def test_logging_out_returns_to_the_login_page(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    page.goto(f"{live_server.url}/depots/")
    expect(page).to_have_url(f"{live_server.url}/login?next=/depots")
