"""In a real browser: the item page shows its whole label, not a square cut out of it, on a desk and on a phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, log_in
from tests.browser.test_inventory import make_depot, take_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CALIBER_TEST_SCREENSHOTS")
"""A folder to keep screenshots in for people to look at; none kept when unset."""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_item_page_shows_the_whole_label(page: Page, live_server: LiveServer, width: int, tmp_path: Path) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, live_server, live_server.admin, live_server.admin_password)
    depot = f"RS-LBV-{width}"
    make_depot(page, live_server, depot, f"Preview shelf {width}")
    code = take_in(page, live_server, depot, f"ЛБЛ-{width}", shelf=f"Preview shelf {width}")
    page.goto(f"{live_server.url}/items/{code}")
    label = page.locator("figure.label img")
    label.evaluate("img => img.decode()")
    shown = label.evaluate(
        "img => ({w: img.clientWidth, h: img.clientHeight, fit: getComputedStyle(img).objectFit,"
        " nw: img.naturalWidth, nh: img.naturalHeight})"
    )
    assert shown["fit"] != "cover"
    assert shown["w"] / shown["h"] == pytest.approx(shown["nw"] / shown["nh"], rel=0.02), shown  # the label's own 2:1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"item-page-{width}.png"), full_page=True)
