"""Screenshots of the main pages to look at, at 1280 and 390 px wide (full page), and page 1 of a certificate.

Only when ``CALIBER_TEST_SCREENSHOTS`` names a folder (the PNGs are written there); without it the test skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.demo_site import DemoSite
from tests.browser.test_every_page import logged_in_context

FOLDER = os.environ.get("CALIBER_TEST_SCREENSHOTS", "")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not FOLDER, reason="CALIBER_TEST_SCREENSHOTS names no folder to write the screenshots to"),
]
WIDTHS = (1280, 390)
PNG = b"\x89PNG\r\n\x1a\n"
PAGES = {
    "intake-form": "/items/new",
    "scan-as-you-go": "/items/intake",
    "destruction-manifest": "/destructions/{planned_event}",
    "site-verification": "/scan/?mode=verify&event={approved_event}",
    "reports-dashboard": "/reports/",
    "ledger": "/ledger/",
}
"""Name of the picture: the page, seen by the admin (the destruction's is a planned one with two records on its manifest)."""
AS_OTHERS = {
    "ledger-depot-clerk": ("depot_clerk", "/ledger/"),
    "home-depot-clerk": ("depot_clerk", "/"),
    **{f"tracing-queue-{role}": (role, "/tracing/") for role in ("depot_clerk", "depot_manager", "inspector")},
    **{f"tracing-trace-{role}": (role, "/tracing/weapons/{trace_code}") for role in ("depot_clerk", "depot_manager", "inspector")},
    **{f"tracing-request-{role}": (role, "/tracing/requests/{request_id}") for role in ("depot_clerk", "depot_manager", "inspector")},
    "tracing-request-answered-late-inspector": ("inspector", "/tracing/requests/{answered_request}"),
    **{f"tracing-incoming-{role}": (role, "/tracing/incoming/{incoming_id}") for role in ("depot_clerk", "depot_manager", "inspector")},
    **{f"tracing-incoming-new-{role}": (role, "/tracing/incoming/new") for role in ("depot_clerk", "depot_manager")},
}
"""Pictures of pages as another role sees them (a clerk's ledger: the scoped bundle's explanation; the clerk's home
page with its reminder; the tracing pages as a clerk, a manager and an inspector)."""


@pytest.fixture
def folder() -> Path:
    path = Path(FOLDER)
    path.mkdir(parents=True, exist_ok=True)
    return path


def assert_png(path: Path) -> None:
    assert path.stat().st_size > len(PNG), f"{path} is empty"
    assert path.read_bytes().startswith(PNG), f"{path} is not a PNG"


def test_screenshots_of_the_main_pages_at_desktop_and_phone_width(folder: Path, browser: Browser, demo: DemoSite) -> None:
    wanted = [("admin", name, path) for name, path in PAGES.items()] + [(role, name, path) for name, (role, path) in AS_OTHERS.items()]
    for width in WIDTHS:
        for role in dict.fromkeys(role for role, _, _ in wanted):
            context = logged_in_context(browser, demo, role, width)
            tab = context.pages[0]
            try:
                for name, path in [(name, path) for who, name, path in wanted if who == role]:
                    answer = tab.goto(demo.server.url + path.format(**demo.records))
                    assert answer is not None
                    assert answer.status == 200, path
                    shot = folder / f"{name}-{width}.png"
                    tab.screenshot(path=str(shot), full_page=True)
                    assert_png(shot)
            finally:
                context.close()


def test_page_one_of_the_certificate_of_destruction(folder: Path, browser: Browser, demo: DemoSite) -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: apt-get install poppler-utils"
    context = logged_in_context(browser, demo, "admin", WIDTHS[0])
    try:
        answer = context.request.get(f"{demo.server.url}/destructions/{demo.records['certified_event']}/certificate.pdf")
        assert answer.status == 200
        pdf = answer.body()
    finally:
        context.close()
    assert pdf.startswith(b"%PDF")
    source = folder / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [pdftoppm, "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(source), str(folder / "certificate-page-1")], check=True
    )
    assert_png(folder / "certificate-page-1.png")
