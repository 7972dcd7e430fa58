"""In a real browser: a small destruction from plan to certificate, with two witnesses on their own logins."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from caliber.labels.codes import format_code
from tests.browser.conftest import LiveServer, log_in
from tests.browser.test_inventory import make_depot, take_in
from tests.destruction.helpers import mistyped

pytestmark = pytest.mark.browser
WITNESS_PASSWORD = "witness long password"
ZONE = ZoneInfo(os.environ.get("CALIBER_TIME_ZONE", "Europe/Belgrade"))
"""The live server's time zone: times are typed in it."""


def approve_for_destruction(page: Page, server: LiveServer, code: str) -> None:
    for action in ("declare_surplus", "approve_destruction"):
        page.goto(f"{server.url}/items/{code}")
        page.get_by_label("Action").select_option(action)
        page.get_by_label("Why").first.fill("surplus to needs")
        page.get_by_role("button", name="Record").click()
        page.wait_for_load_state()


def witness_page(browser: Browser, server: LiveServer, username: str) -> Page:
    tab = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(tab, server, username, WITNESS_PASSWORD)
    return tab


def attest(tab: Page, event_url: str, stage: str) -> None:
    tab.goto(event_url)
    expect(tab.get_by_role("heading", name=f"Attest {stage} destruction")).to_be_visible()
    tab.get_by_role("button", name="Attest as").click()
    expect(tab.get_by_role("status")).to_contain_text("Attestation recorded")
    expect(tab.get_by_role("heading", name=f"You attested {stage} destruction")).to_be_visible()
    expect(tab.get_by_role("button", name="Attest as")).to_have_count(0)


def plan_destruction(page: Page, server: LiveServer, depot: str) -> str:
    """Plan a smelting today through the form, organised by ``depot``; returns the event page's address."""
    page.goto(f"{server.url}/destructions/new")
    page.get_by_label("Organising depot").select_option(label=f"{depot} · Depot {depot}")
    page.locator("#f-site_name").fill("Zeljezara Smederevo")
    page.get_by_label("Planned date").fill(dt.date.today().isoformat())
    page.get_by_label("Smelting").check()
    page.get_by_label("Legal authority (decision number)").fill("Odluka 02-17/26")
    page.get_by_label("Decision date").fill(dt.date.today().isoformat())
    page.get_by_label("Organiser").fill("Ministry of Interior")
    page.get_by_label("Name").first.fill("A. Observer")
    page.get_by_label("Organisation").first.fill("OSCE")
    page.get_by_role("button", name="Plan the destruction").click()
    expect(page.get_by_role("status")).to_contain_text("Destruction planned")
    return page.url.split("?")[0]


def test_a_batch_with_one_mistyped_label_adds_the_rest_when_asked_and_keeps_that_line(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-BRW-07", "Cage 7")
    codes = [take_in(page, live_server, "RS-BRW-07", f"MANIFEST-{n}", shelf="Cage 7") for n in (1, 2, 3)]
    for code in codes:
        approve_for_destruction(page, live_server, code)
    plan_destruction(page, live_server, "RS-BRW-07")
    misread = format_code(mistyped(codes[1]))  # grouped, as read off the label
    box = page.get_by_label("Scan or type labels")
    typed = f"{codes[0]}\n{misread}\n{codes[2]}"

    box.fill(typed)
    page.get_by_role("button", name="Change the manifest").click()
    expect(page.locator("p.error")).to_contain_text("Nothing was changed")
    expect(page.locator(".warning li")).to_have_text([f"{misread}: check digit does not match: a digit was mistyped or misread"])
    expect(box).to_have_value(typed)

    page.get_by_label("Add what can be added and list the rest").check()
    page.get_by_role("button", name="Change the manifest").click()
    expect(page.get_by_role("status")).to_have_text("Added 2.")
    warning = page.locator(".warning")
    expect(warning).to_contain_text("1 not added")
    expect(warning.locator("li")).to_have_text([f"{misread}: check digit does not match: a digit was mistyped or misread"])
    expect(box).to_have_value(misread)
    expect(page.locator(".progress-line")).to_contain_text("2 on the manifest")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone


def test_a_small_destruction_from_plan_to_certificate(page: Page, browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    for name in ("wone", "wtwo"):
        live_server.caliber("user", "create", name, "--role", "witness", "--name", f"Witness {name}", stdin=WITNESS_PASSWORD + "\n")
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-BRW-06", "Cage 1")
    codes = [take_in(page, live_server, "RS-BRW-06", f"DESTROY-{n}", shelf="Cage 1") for n in (1, 2)]
    for code in codes:
        approve_for_destruction(page, live_server, code)

    event_url = plan_destruction(page, live_server, "RS-BRW-06")

    page.get_by_label("Scan or type labels").fill("\n".join(codes))
    page.get_by_role("button", name="Change the manifest").click()
    expect(page.get_by_role("status")).to_contain_text("Added 2")
    page.get_by_role("button", name="Approve the manifest").click()
    expect(page.get_by_role("status")).to_contain_text("Manifest approved")

    page.get_by_role("link", name="Verify at the site").click()
    for code in codes:
        scan = page.get_by_label("Scan a label")
        scan.fill(f"{live_server.url}/s/{code}")
        scan.press("Enter")
        expect(page.locator("#scan")).to_have_attribute("data-outcome", "done")
    expect(page.locator(".progress-remaining")).to_have_text("0 remaining")

    first, second = witness_page(browser, live_server, "wone"), witness_page(browser, live_server, "wtwo")
    first.goto(f"{live_server.url}/destructions/")
    first.get_by_role("region", name="Waiting for your attestation").get_by_role("link").click()
    for tab in (first, second):
        attest(tab, event_url, "before")
    attested = dt.datetime.now(ZONE).replace(second=0, microsecond=0)  # the minute the witnesses attested in, or later

    image = tmp_path / "photo.png"
    Image.new("RGB", (32, 32), "gray").save(image)
    page.goto(event_url)
    for stage in ("before", "after"):
        page.get_by_label("Photograph").set_input_files(str(image) if stage == "before" else _other_photo(tmp_path))
        page.get_by_label("Taken").select_option(stage)
        page.get_by_role("button", name="Add the photo").click()
        expect(page.get_by_role("status")).to_contain_text("Photo added")
    page.get_by_label("Started", exact=True).fill(f"{attested - dt.timedelta(hours=1):%Y-%m-%dT%H:%M}")
    page.get_by_label("Ended", exact=True).fill(f"{attested:%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Record the result").click()
    expect(page.get_by_role("alert")).to_contain_text("before the last before-destruction attestation")
    started = page.locator("#f-started_at")  # its label now carries the refusal beside the box
    expect(started).to_have_value(f"{attested - dt.timedelta(hours=1):%Y-%m-%dT%H:%M}")  # kept as typed
    expect(started).to_have_attribute("aria-invalid", "true")
    ended = attested + dt.timedelta(minutes=1)
    started.fill(f"{attested:%Y-%m-%dT%H:%M}")
    page.locator("#f-ended_at").fill(f"{ended:%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Record the result").click()
    expect(page.get_by_role("status")).to_contain_text("Destruction completed")
    time.sleep(max(0.0, (ended - dt.datetime.now(ZONE)).total_seconds()))  # the residue and the result are attested after the end

    second.goto(event_url)
    second.get_by_label("Residue inspection").fill("receivers cut through, then melted")
    second.get_by_role("button", name="Record the residue check").click()
    expect(second.get_by_role("status")).to_contain_text("Residue check recorded")
    for tab in (first, second):
        attest(tab, event_url, "after")

    page.goto(event_url)
    page.get_by_role("button", name="Issue the certificate").click()
    expect(page.get_by_role("status")).to_contain_text("Certificate issued")
    pdf = page.request.get(page.get_by_role("link", name="PDF").get_attribute("href").join([live_server.url, ""])).body()
    text = "".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(pdf))
    assert "DESTROY-1" in text
    assert "DESTROY-2" in text

    anonymous = browser.new_context().new_page()
    anonymous.goto(page.get_by_role("link", name="verification page").get_attribute("href").join([live_server.url, ""]))
    expect(anonymous.get_by_role("status")).to_contain_text("is on the custody ledger")
    for tab in (first, second, anonymous):
        tab.context.close()


def _other_photo(folder: Path) -> str:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "black").save(out, format="PNG")
    path = folder / "after.png"
    path.write_bytes(out.getvalue())
    return str(path)
