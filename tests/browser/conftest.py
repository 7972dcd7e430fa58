"""A real browser against a real server: Debian's Chromium driven by Playwright.

``live_server`` runs ``caliber serve`` on a free loopback port over a fresh
SQLite data dir with one admin; ``page`` is a new Chromium tab. Without
``/usr/bin/chromium`` the browser tests skip, except under ``CI=true`` where
they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.demo_site import DemoSite, demo_site
from tests.conftest import IN_CI
from tests.live import ADMIN_PASSWORD, LiveServer, new_server, serving

CHROMIUM = Path(os.environ.get("CALIBER_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``caliber serve`` on loopback with a fresh data dir and an admin user."""
    server = new_server(tmp_path_factory.mktemp("live"))
    server.caliber("user", "create", server.admin, "--role", "admin", "--name", "Browser Admin", stdin=ADMIN_PASSWORD + "\n")
    with serving(server):
        yield server


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """``caliber serve`` over the demo's data, one user per role, and a record of every kind (see demo_site)."""
    with demo_site(tmp_path_factory.mktemp("demo")) as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from Debian's package (Playwright downloads no browser).

    Module-scoped: Playwright's sync API holds an event loop while it runs, so
    it must stop before the async tests of other modules.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab (no cookies) at a phone's width; the test fails if a page breaks its security policy."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    tab = context.new_page()
    refused: list[str] = []
    tab.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    yield tab
    context.close()
    assert refused == [], "the pages' Content-Security-Policy refused something they use"


def log_in(page: Page, server: LiveServer, username: str, password: str) -> None:
    """Log in through the login form."""
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
