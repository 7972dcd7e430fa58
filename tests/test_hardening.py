"""Security headers on every answer, a policy that admits nothing inline on pages, and request logs without secrets."""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.config import TrustedProxies, resource_path
from caliber.hardening import CSP, JsonFormatter, forwarded_client
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


async def test_a_csrf_refusal_is_logged_as_a_403_warning_not_a_server_error(
    client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    view = await factory.user(Role.ADMIN)
    caplog.set_level(logging.INFO, logger="caliber")
    await client.get("/login")
    assert (await client.post("/login", data={"username": view.user.username, "password": PASSWORD})).status_code == 403
    await login(client, view.user.username)
    assert (await client.post("/api/tokens", json={"name": "x"}, headers={"x-csrftoken": "not-the-token"})).status_code == 403
    refused = [r for r in caplog.records if r.name == "caliber.access" and r.fields["method"] == "POST" and r.fields["status"] != 302]  # type: ignore[attr-defined]
    assert [(r.levelno, r.getMessage(), r.fields["path"], r.fields["status"]) for r in refused] == [  # type: ignore[attr-defined]
        (logging.WARNING, "access refused", "/login", 403),
        (logging.WARNING, "access refused", "/api/tokens", 403),
    ]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


TRUSTED = TrustedProxies((ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ff::/48")))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("192.0.2.1", ["198.51.100.7"], "192.0.2.1"),  # an untrusted peer's header is not believed
        ("10.0.0.2", ["198.51.100.7"], "198.51.100.7"),
        ("10.0.0.2", ["203.0.113.9, 198.51.100.7"], "198.51.100.7"),  # the client wrote 203.0.113.9 itself
        ("10.0.0.2", ["203.0.113.9, 198.51.100.7, 10.1.1.1"], "198.51.100.7"),  # two proxies
        ("10.0.0.2", ["203.0.113.9", "198.51.100.7, 10.1.1.1"], "198.51.100.7"),  # the header sent twice
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["10.3.3.3"], "10.3.3.3"),  # every hop trusted: the first
        ("10.0.0.2", ["198.51.100.7, not-an-address"], "10.0.0.2"),  # garbage stops at the proxy that passed it
        ("2001:db8:ff::1", ["2001:db8:1::5"], "2001:db8:1::5"),
        ("::ffff:10.0.0.2", ["198.51.100.7"], "198.51.100.7"),
    ],
)
def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(peer: str, forwarded_for: list[str], client: str) -> None:
    assert forwarded_client(peer, forwarded_for, TRUSTED) == client


@pytest.mark.parametrize(
    "path",
    [
        "/api/items/%00",
        "/api/items/1%00/timeline",
        "/lots/%00",
        "/api/ledger/subjects/a%00b/timeline",
        "/ledger/timeline?subject=%00",
        "/api/transfers?status=%00",
        "/api/stockchecks?status=a%00",
    ],
)
async def test_a_nul_in_the_address_is_a_400_on_every_route(path: str, client: httpx.AsyncClient, factory: Factory) -> None:
    """PostgreSQL refuses NUL in a statement's text: without this, each route that looked a code up answered 500."""
    admin = await factory.user(Role.ADMIN)
    response = await client.get(path, headers={"authorization": f"Bearer {await factory.token(admin)}"})
    assert response.status_code == 400, response.text
    assert "NUL character" in response.text
