"""In a real browser at a phone's width: an inspector finds a weapon's custody chain from a scanned label on the ledger
page and opens one of its entries with its proof, every page fitting the screen."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from caliber.labels.codes import format_code
from tests.browser.conftest import LiveServer, log_in
from tests.browser.test_inventory import make_depot, take_in
from tests.browser.test_labels import assert_fits

pytestmark = pytest.mark.browser

INSPECTOR_PASSWORD = "inspector password 1"
CLERK_PASSWORD = "clerk password 22"


def test_an_inspector_searches_a_scanned_code_and_reaches_its_timeline_and_an_entry(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-LED-01", "Ledger shelf")
    code = take_in(page, live_server, "RS-LED-01", "LEDGER-1", shelf="Ledger shelf")
    live_server.caliber("user", "create", "inspector1", "--role", "inspector", "--name", "Ina Inspector", stdin=INSPECTOR_PASSWORD + "\n")
    page.context.clear_cookies()

    log_in(page, live_server, "inspector1", INSPECTOR_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ledger").click()
    expect(page.get_by_role("heading", name="Custody ledger")).to_be_visible()
    expect(page.locator("#verify-command")).to_contain_text("caliber-verify caliber-bundle-")
    assert_fits(page)

    page.get_by_label("Find a record's timeline").fill(f"хттпсЖ//цалибер.еџампле/с/{code}")  # the label's link through a Serbian layout
    page.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(rf"/ledger/timeline\?subject={code}$"))
    expect(page.get_by_role("heading", name="Custody timeline")).to_be_visible()
    expect(page.locator("main")).to_contain_text("item.registered")
    assert_fits(page)

    page.goto(f"{live_server.url}/ledger/")
    registered = page.locator(".ledger-entries li", has_text="item.registered").filter(has_text=code)
    registered.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Entry \d+$"))).to_be_visible()
    expect(page.locator("#event-json")).to_contain_text('"serial": "LEDGER-1"')
    expect(page.locator("#proof li").first).to_be_visible()
    assert_fits(page)
    page.get_by_role("link", name=code).click()
    expect(page.get_by_role("heading", name="Custody timeline")).to_be_visible()


def test_a_depot_clerk_downloads_the_bundle_of_what_they_may_read_and_it_verifies_offline_with_the_command_shown(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-LED-02", "Clerk's shelf")
    make_depot(page, live_server, "RS-LED-03", "Other shelf")
    mine = take_in(page, live_server, "RS-LED-02", "MINE-2", shelf="Clerk's shelf")
    take_in(page, live_server, "RS-LED-03", "OTHER-SECRET-3", shelf="Other shelf")
    live_server.caliber(
        "user", "create", "clerk2", "--role", "depot_clerk", "--name", "Dara Clerk", "--depot", "RS-LED-02", stdin=CLERK_PASSWORD + "\n"
    )
    page.context.clear_cookies()

    log_in(page, live_server, "clerk2", CLERK_PASSWORD)
    page.goto(f"{live_server.url}/ledger/")
    expect(page.locator("#bundle-scope")).to_contain_text("only its hash")
    assert_fits(page)
    with page.expect_download() as download:
        page.locator("#bundle-link").click()
    command = shlex.split(page.locator("#verify-command").inner_text())
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert command[1] == saved.name
    bundle = saved.read_text()
    assert "OTHER-SECRET-3" not in bundle
    assert "MINE-2" in bundle
    verified = subprocess.run(
        [sys.executable, "-m", "caliber.ledger.verify", *command[1:], "--whole", format_code(mine)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert re.search(r"^OK: .* entries \(\d+ of them withheld: outside the reader's scope", verified.stdout, re.M), verified.stdout
