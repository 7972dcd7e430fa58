"""In a real browser: take a weapon in, scan as you go, move by scanning a location label and an item."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from caliber.labels.render import LabelContent, label_url, png
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, log_in
from tests.labels.layouts import typed

pytestmark = pytest.mark.browser
CODE = re.compile(r"\d{4} \d{4} \d{2}")


def make_depot(page: Page, server: LiveServer, code: str, location: str) -> str:
    """Create a depot with one location through the pages; returns the location's label code."""
    page.goto(f"{server.url}/depots/new")
    page.get_by_label("Code").fill(code)
    page.get_by_label("Jurisdiction").select_option("RS")
    page.get_by_label("Name").fill(f"Depot {code}")
    page.get_by_label("Kind").select_option("army_depot")
    page.get_by_role("button", name="Create depot").click()
    page.locator("#locations select[name=kind]").select_option("room")
    page.get_by_label("Name").fill(location)
    page.get_by_role("button", name="Add").click()
    row = page.locator("#locations li", has_text=location)
    expect(row.locator(".code")).to_have_text(CODE)
    return row.locator(".code").inner_text().replace(" ", "")


def fill_weapon(page: Page, depot: str, serial: str) -> None:
    page.get_by_label("Depot").select_option(label=f"{depot} · Depot {depot}")
    page.get_by_label("Manufacturer").fill("Zastava")
    page.get_by_label("Model").fill("M70")
    page.get_by_label("Calibre").fill("7.62x39mm")
    page.get_by_label("UN SALW type").select_option("assault_rifle")
    page.get_by_label("Intake source").select_option("voluntarily_surrendered")
    page.get_by_label("Kind").select_option("weapon")
    page.get_by_label("Condition").select_option("serviceable")
    page.get_by_label("Serial number").fill(serial)


def test_a_clerk_takes_in_scans_as_they_go_and_moves_by_scanning(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    rack = make_depot(page, live_server, "RS-BRW-01", "Rack A")

    page.goto(f"{live_server.url}/items/new")
    fill_weapon(page, "RS-BRW-01", "SINGLE-1")
    page.get_by_role("button", name="Take in and issue a label code").click()
    expect(page.get_by_role("status")).to_contain_text("Taken in")
    expect(page.locator(".label-line")).to_contain_text("SINGLE-1")
    label = page.locator(".label-line .code").inner_text().replace(" ", "")

    page.goto(f"{live_server.url}/items/intake")
    fill_weapon(page, "RS-BRW-01", "BATCH-1")
    page.get_by_label("Serial number").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved 1 in this run")
    serial = page.get_by_label("Serial number")
    expect(serial).to_have_value("")
    expect(serial).to_be_focused()
    expect(page.get_by_label("Manufacturer")).to_have_value("Zastava")  # carried over
    serial.type("BATCH-2")
    serial.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved 2 in this run")
    expect(page.get_by_role("table")).to_contain_text("BATCH-1")
    expect(page.get_by_role("table")).to_contain_text("BATCH-2")
    assert page.url.endswith("/items/intake")

    page.goto(f"{live_server.url}/scan/?mode=move")
    scan = page.get_by_label("Scan a label")
    scan.fill(f"{live_server.url}/s/{rack}")  # a phone scan gives the whole URL
    scan.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("now in Rack A")
    scan = page.get_by_label("Scan a label")
    expect(scan).to_be_focused()
    scan.fill(label)
    scan.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("moved to Rack A")
    assert page.url.endswith("/scan/?mode=move")  # answered in place, no page load

    page.goto(f"{live_server.url}/s/{label}")
    expect(page.locator("dl.facts")).to_contain_text("Rack A")
    expect(page.locator("table.timeline")).to_contain_text("item.moved")


def test_search_finds_a_partial_serial_and_exports_csv(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-BRW-02", "Room 1")
    page.goto(f"{live_server.url}/items/new")
    fill_weapon(page, "RS-BRW-02", "FIND ME 777")
    page.get_by_role("button", name="Take in and issue a label code").click()
    page.goto(f"{live_server.url}/items/")
    page.get_by_label("Serial (part of it) or label code").fill("me777")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table")).to_contain_text("FIND ME 777")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export all results as CSV").click()
    content = download.value.path().read_text()
    assert "FIND ME 777" in content
    assert content.splitlines()[0].startswith("code,kind")


def test_scan_as_you_go_makes_no_choice_and_warns_of_a_duplicate_at_phone_width(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-DUP-01", "Dup shelf")
    page.goto(f"{live_server.url}/items/intake")
    choices = ("UN SALW type", "Kind", "Intake source", "Condition")  # the depot is chosen when it is the only one
    for label in choices:
        expect(page.get_by_label(label, exact=False).first).to_have_value("")
    fill_weapon(page, "RS-DUP-01", "DUP-1")
    page.get_by_label("UN SALW type").select_option("")
    page.locator("#intake form").evaluate("form => { form.noValidate = true; }")  # what a browser without `required` sends
    page.get_by_label("Serial number").press("Enter")
    expect(page.locator("#e-un_type, #un_type-problem")).to_have_text("Choose the type of weapon")
    expect(page.get_by_label("Serial number")).to_have_value("DUP-1")
    expect(page.get_by_label("Manufacturer")).to_have_value("Zastava")
    expect(page.get_by_label("Intake source")).to_have_value("voluntarily_surrendered")
    expect(page.get_by_role("status")).to_have_count(0)  # nothing saved
    page.get_by_label("UN SALW type").select_option("assault_rifle")
    page.get_by_label("Serial number").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved 1 in this run")
    first = page.locator("table a").first.get_attribute("href")
    serial = page.get_by_label("Serial number")
    serial.fill("dup-1")  # the same serial, scanned again
    serial.press("Enter")
    warning = page.locator("#duplicate")
    expect(warning).to_have_class("warning")
    expect(warning).to_contain_text("Saved, but serial dup-1 by Zastava M70 matches a record already held")
    expect(warning).to_contain_text("flagged for review as a possible duplicate")
    expect(warning.get_by_role("link")).to_have_attribute("href", str(first))
    expect(page.locator("p.notice")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    warning.get_by_role("link").click()
    expect(page.locator(".label-line")).to_contain_text("DUP-1")


def take_in(page: Page, server: LiveServer, depot: str, serial: str, shelf: str = "Shelf 1") -> str:
    """Take one weapon in through the form onto ``shelf``; returns its label code."""
    page.goto(f"{server.url}/items/new")
    fill_weapon(page, depot, serial)
    page.get_by_label("Location").select_option(label=shelf)
    page.get_by_role("button", name="Take in and issue a label code").click()
    expect(page.get_by_role("status").or_(page.locator("#duplicate"))).to_contain_text(re.compile("Taken in|Saved, but"))
    expect(page.locator(".label-line")).to_contain_text(serial)
    return page.locator(".label-line .code").inner_text().replace(" ", "")


def test_a_stock_check_is_counted_by_one_and_closed_by_another(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    shelf = make_depot(page, live_server, "RS-BRW-03", "Shelf 1")
    found, lost = take_in(page, live_server, "RS-BRW-03", "COUNT-1"), take_in(page, live_server, "RS-BRW-03", "COUNT-2")

    page.goto(f"{live_server.url}/stockchecks/")
    page.locator("select[name=depot_id]").select_option(label="RS-BRW-03 · Depot RS-BRW-03")
    page.get_by_role("button", name="Open a count").click()
    expect(page.get_by_role("status")).to_contain_text("expected 2")
    check_url = page.url
    page.get_by_role("link", name="Count with the scanner").click()
    scan = page.get_by_label("Scan a label")
    scan.fill(shelf)
    scan.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("now in Shelf 1")
    page.get_by_label("Scan a label").fill(found)
    page.get_by_label("Scan a label").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("counted")
    expect(page.get_by_role("note")).to_contain_text("1 scanned of 2 expected")
    page.goto(check_url)
    page.get_by_role("button", name="I have finished counting").click()
    expect(page.locator(".card", has_text="Missing")).to_contain_text("1")
    expect(page.get_by_text("A depot manager who did not count")).to_be_visible()

    live_server.caliber("user", "create", "closer", "--role", "depot_manager", "--depot", "RS-BRW-03", stdin="closer password long\n")
    page.context.clear_cookies()
    log_in(page, live_server, "closer", "closer password long")
    page.goto(check_url)
    page.get_by_role("button", name="Confirm and close").click()
    expect(page.locator("h1 + p .badge")).to_have_text("closed")
    page.goto(f"{live_server.url}/s/{lost}")
    expect(page.locator(".label-line")).to_contain_text("missing")


def test_the_scan_page_reads_a_wrong_layout_and_names_a_wrong_check_digit(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-BRW-04", "Shelf 4")
    code = take_in(page, live_server, "RS-BRW-04", "LAYOUT-1", shelf="Shelf 4")
    page.goto(f"{live_server.url}/scan/")
    scan = page.get_by_label("Scan a label")
    scan.fill(typed(f"{live_server.url}/s/{code}", "serbian_cyrillic"))
    scan.press("Enter")
    expect(page.locator(".scan-result")).to_contain_text("S/N LAYOUT-1")
    expect(page.locator("#scan")).to_have_attribute("data-outcome", "found")
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    page.get_by_label("Scan a label").fill(wrong)
    page.get_by_label("Scan a label").press("Enter")
    expect(page.locator(".scan-result")).to_contain_text("check digit wrong: re-scan or type the code")
    expect(page.locator("#scan")).to_have_attribute("data-outcome", "wrong_check")
    expect(page.locator("ol.recent")).to_contain_text("LAYOUT-1")
    expect(page.get_by_label("Scan a label")).to_be_focused()


def write_y4m(path: Path, image: Image.Image, width: int = 640, height: int = 480) -> None:
    """A one-frame YUV4MPEG2 video of ``image`` on white: what Chromium's fake camera plays in a loop."""
    frame = Image.new("L", (width, height), 255)
    image = image.convert("L")
    image.thumbnail((width - 40, height - 40))
    frame.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\nFRAME\n".encode() + frame.tobytes() + chroma + chroma)


def test_the_camera_reads_a_label_with_the_vendored_decoder(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-BRW-05", "Shelf 5")
    code = take_in(page, live_server, "RS-BRW-05", "CAMERA-1", shelf="Shelf 5")
    url = label_url(live_server.url, code)
    write_y4m(tmp_path / "label.y4m", Image.open(io.BytesIO(png(LabelContent(code, url, "Assault rifle", ("CAMERA-1",)), dpi=200))))
    fake_camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={tmp_path / 'label.y4m'}",
    ]
    assert page.context.browser is not None
    camera = page.context.browser.browser_type.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *fake_camera], headless=True)
    try:
        context = camera.new_context(viewport={"width": 390, "height": 844}, permissions=["camera"])
        context.add_init_script("delete window.BarcodeDetector;")  # the path every browser without one takes
        tab = context.new_page()
        log_in(tab, live_server, live_server.admin, live_server.admin_password)
        tab.goto(f"{live_server.url}/scan/")
        tab.get_by_role("button", name="Camera").click()
        expect(tab.locator(".scan-result")).to_contain_text("S/N CAMERA-1", timeout=20_000)
        expect(tab.locator("#camera-toggle")).to_have_attribute("data-decoder", "jsqr")
        assert not [
            r for r in tab.evaluate("performance.getEntriesByType('resource').map(e => e.name)") if not r.startswith(live_server.url)
        ]
    finally:
        camera.close()


def test_a_refused_intake_form_lists_every_error_beside_its_field_with_what_was_typed_kept(page: Page, live_server: LiveServer) -> None:
    from tests.browser.test_labels import assert_fits

    log_in(page, live_server, live_server.admin, live_server.admin_password)
    make_depot(page, live_server, "RS-ERR-01", "Error shelf")
    page.goto(f"{live_server.url}/items/new")
    page.get_by_label("Depot").select_option(label="RS-ERR-01 · Depot RS-ERR-01")
    page.get_by_label("Manufacturer").fill("Zastava")
    page.get_by_label("Model").fill("M70")
    page.get_by_label("Calibre").fill("7.62x39mm")
    page.get_by_label("Serial number").fill("ERR-1")
    page.get_by_label("Year of manufacture").fill("19x7")
    page.get_by_label("Notes").fill("kept as typed")
    page.locator("form:has(input[name=serial])").evaluate("form => { form.noValidate = true }")  # the server decides
    page.get_by_role("button", name="Take in and issue a label code").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("things to fix")
    for field, words in (("year_of_manufacture", "Year of manufacture must be a year"), ("un_type", "Choose"), ("intake_source", "Choose")):
        expect(page.locator(f"#e-{field}")).to_contain_text(words)
        expect(page.locator(f"[name={field}]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main")).not_to_contain_text("Expected")
    expect(page.get_by_label("Year of manufacture")).to_have_value("19x7")
    expect(page.get_by_label("Serial number")).to_have_value("ERR-1")
    expect(page.get_by_label("Notes")).to_have_value("kept as typed")
    assert_fits(page)
