"""A real browser against a real server: Debian's Chromium driven by Playwright.

``live_server`` runs ``caliber serve`` on a free loopback port over a fresh
SQLite data dir with one admin; ``page`` is a new Chromium tab. Without
``/usr/bin/chromium`` the browser tests skip, except under ``CI=true`` where
they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import IN_CI

CHROMIUM = Path(os.environ.get("CALIBER_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_PASSWORD = "browser admin password"


@dataclass(frozen=True)
class LiveServer:
    """A running Caliber and the admin who can log in to it."""

    url: str
    data_dir: Path
    admin: str = "admin"
    admin_password: str = ADMIN_PASSWORD

    def caliber(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run a ``caliber`` command against this server's data dir."""
        env = {**os.environ, "CALIBER_DATA_DIR": str(self.data_dir), "CALIBER_BASE_URL": self.url}
        return subprocess.run([sys.executable, "-m", "caliber", *args], input=stdin, env=env, capture_output=True, text=True, check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"caliber serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"caliber serve did not become ready at {url} in {seconds} s")


@contextmanager
def serving(server: LiveServer) -> Iterator[LiveServer]:
    """``caliber serve`` over ``server``'s data dir until the block ends (its log in the data dir)."""
    port = int(server.url.rsplit(":", 1)[1])
    env = {**os.environ, "CALIBER_DATA_DIR": str(server.data_dir), "CALIBER_BASE_URL": server.url}
    log = (server.data_dir / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "caliber", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_until_up(server.url, process)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def new_server(folder: Path) -> LiveServer:
    """A server's address on a free loopback port and its data dir in ``folder`` (not started)."""
    return LiveServer(url=f"http://127.0.0.1:{_free_port()}", data_dir=folder / "data")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``caliber serve`` on loopback with a fresh data dir and an admin user."""
    server = new_server(tmp_path_factory.mktemp("live"))
    server.caliber("user", "create", server.admin, "--role", "admin", "--name", "Browser Admin", stdin=ADMIN_PASSWORD + "\n")
    with serving(server):
        yield server


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
