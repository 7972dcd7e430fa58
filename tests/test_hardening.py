"""Security headers on every answer, a policy that admits nothing inline on pages, and request logs without secrets."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.config import resource_path
from caliber.hardening import CSP, JsonFormatter
from tests.factories import PASSWORD, Factory, login


async def test_pages_carry_a_policy_without_anything_inline_and_every_answer_the_security_headers(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    page = await client.get("/login")
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert policy == CSP
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    for answer in (page, await client.get("/health"), await client.get("/static/caliber.css"), await client.get("/api/depots")):
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert answer.headers["referrer-policy"] == "same-origin", answer.url
        assert answer.headers["x-frame-options"] == "DENY", answer.url
    assert "content-security-policy" not in (await client.get("/health")).headers  # not a page
    view = await factory.user(Role.ADMIN)
    await login(client, view.user.username)
    docs = await client.get("/schema/swagger")
    assert docs.status_code == 200
    assert "'unsafe-inline'" in docs.headers["content-security-policy"]  # Swagger UI's own inline start, there only
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_no_template_has_an_inline_script_style_or_event_handler() -> None:
    """What the policy would block: a page must not rely on it."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    found = [
        f"{path.relative_to(resource_path('templates'))}: {match.group(0)}"
        for path in Path(resource_path("templates")).rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert found == []


async def test_each_request_is_logged_with_who_asked_and_no_secret(
    client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    clerk = await factory.user(Role.DEPOT_CLERK)
    token = await factory.token(clerk)
    caplog.set_level(logging.INFO, logger="caliber.access")
    await login(client, clerk.user.username)
    session = client.cookies.get("caliber_session")
    assert session
    assert (await client.get("/users/")).status_code == 403
    client.cookies.clear()
    assert (await client.get("/api/depots", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    assert (await client.get("/api/depots?q=secret-looking-search")).status_code == 401
    records = [r for r in caplog.records if r.name == "caliber.access"]
    lines = [JsonFormatter().format(r) for r in records]
    text = "\n".join(lines)
    for secret in (PASSWORD, token, session, "secret-looking-search"):
        assert secret not in text
    fields = [r.fields for r in records]  # type: ignore[attr-defined]
    login_post = next(f for f in fields if f["method"] == "POST" and f["path"] == "/login")
    assert login_post["status"] == 302
    refused = [r for r in records if r.levelno == logging.WARNING]
    assert [(r.fields["path"], r.fields["status"], r.fields["user"], r.fields["role"]) for r in refused] == [  # type: ignore[attr-defined]
        ("/users", 403, clerk.user.username, "depot_clerk"),
        ("/api/depots", 401, None, None),
    ]
    by_token = next(f for f in fields if f["path"] == "/api/depots" and f["status"] == 200)
    assert by_token["user"] == clerk.user.username
    assert by_token["ms"] >= 0
    assert by_token["events"] == 0
    assert login_post["events"] == 0  # a login is not a custody event
    assert '"level": "info"' in lines[0]


async def test_each_login_issues_a_new_session_and_logging_out_ends_it(client: httpx.AsyncClient, factory: Factory) -> None:
    view = await factory.user(Role.INSPECTOR)
    client.cookies.set("caliber_session", "planted-by-someone-else", domain="testserver.local")
    await login(client, view.user.username)
    first = client.cookies.get("caliber_session")
    assert first
    assert first != "planted-by-someone-else"
    await login(client, view.user.username)
    second = client.cookies.get("caliber_session")
    assert second not in {first, None}
    assert (await client.get("/api/depots")).status_code == 200
    await client.post("/logout", data={"_csrf_token": client.cookies.get("caliber_csrf") or ""})
    client.cookies.set("caliber_session", second, domain="testserver.local")
    assert (await client.get("/api/depots")).status_code == 401  # the ended session opens nothing
    client.cookies.set("caliber_session", first, domain="testserver.local")
    assert (await client.get("/api/depots")).status_code == 200  # the first login's session is its own, still open


async def test_the_log_line_of_a_write_says_how_many_custody_events_it_appended(
    client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    depot = await factory.depot()
    clerk = await factory.user(Role.DEPOT_CLERK, [depot])
    shelf = await factory.location(depot)
    records = [await factory.item(depot) for _ in range(3)]
    token = await factory.token(clerk)
    caplog.set_level(logging.INFO, logger="caliber.access")
    headers = {"Authorization": f"Bearer {token}"}
    moved = await client.post("/api/moves", json={"codes": [r.code for r in records], "location_id": str(shelf.id)}, headers=headers)
    assert moved.status_code == 200, moved.text
    again = await client.post("/api/moves", json={"codes": [records[0].code], "location_id": str(shelf.id)}, headers=headers)
    assert again.json()["moved"] == []  # there already
    lines = [r.fields for r in caplog.records if r.name == "caliber.access" and r.fields["path"] == "/api/moves"]  # type: ignore[attr-defined]
    assert [line["events"] for line in lines] == [3, 0]
