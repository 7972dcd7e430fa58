"""Login pages, CSRF, throttling over HTTP, user administration pages and the token API."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select

from caliber.accounts.models import LoginFailure, Role
from caliber.accounts.throttle import USERNAME_FREE_FAILURES
from caliber.app import create_app
from caliber.config import Settings, TrustedProxies
from caliber.db import Database
from tests.factories import PASSWORD, Factory, csrf_headers, login


async def test_login_sets_an_httponly_lax_session_cookie_and_goes_on(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": admin.user.username, "password": PASSWORD, "next": "/depots/", "_csrf_token": client.cookies["caliber_csrf"]},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/depots/"
    cookie = response.headers["set-cookie"].lower()
    assert "caliber_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # the test base URL is http


async def test_login_never_redirects_off_site(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await client.get("/login")
    form = {
        "username": admin.user.username,
        "password": PASSWORD,
        "next": "//evil.example/x",
        "_csrf_token": client.cookies["caliber_csrf"],
    }
    response = await client.post("/login", data=form)
    assert response.headers["location"] == "/"


async def test_a_form_without_the_csrf_token_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await client.get("/login")
    response = await client.post("/login", data={"username": admin.user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "reload the page" in response.text
    assert "caliber_session" not in response.headers.get("set-cookie", "")


async def test_wrong_password_shows_the_form_again(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    response = await login(client, admin.user.username, "wrong password")
    assert response.status_code == 401
    assert "wrong username or password" in response.text


async def test_repeated_failures_answer_429_with_retry_after(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    for _ in range(USERNAME_FREE_FAILURES):
        assert (await login(client, admin.user.username, "wrong password")).status_code == 401
    response = await login(client, admin.user.username)
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_logout_ends_the_session(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    assert (await client.get("/api/users/me")).status_code == 200
    response = await client.post("/logout", headers=csrf_headers(client))
    assert response.status_code == 302
    client.cookies.delete("caliber_session")
    assert (await client.get("/api/users/me")).status_code == 401


async def test_admin_creates_a_user_through_the_form(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    depot = await factory.depot()
    await login(client, admin.user.username)
    form = {
        "username": "vesna",
        "display_name": "Vesna Petrović",
        "role": "depot_clerk",
        "depots": depot.code,
        "password": "long enough password",
        "_csrf_token": client.cookies["caliber_csrf"],
    }
    response = await client.post("/users/new", data=form)
    assert response.status_code == 302
    page = (await client.get(response.headers["location"])).text
    assert "Vesna Petrović" in page
    users = (await client.get("/api/users")).json()
    vesna = next(u for u in users if u["username"] == "vesna")
    assert vesna["depots"] == [depot.code]


async def test_the_user_form_says_what_is_wrong(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    form = {"username": "x y", "display_name": "X", "role": "witness", "password": "long enough password"}
    response = await client.post("/users/new", data=form, headers=csrf_headers(client))
    assert response.status_code == 422
    assert "username" in response.text


async def test_api_token_works_without_cookies_or_csrf(client: httpx.AsyncClient, factory: Factory) -> None:
    inspector = await factory.user(Role.INSPECTOR)
    await login(client, inspector.user.username)
    created = await client.post("/api/tokens", json={"name": "verifier"}, headers=csrf_headers(client))
    assert created.status_code == 201
    secret = created.json()["token"]
    client.cookies.clear()
    bearer = {"authorization": f"Bearer {secret}"}
    me = await client.get("/api/users/me", headers=bearer)
    assert me.json()["username"] == inspector.user.username
    listed = (await client.get("/api/tokens", headers=bearer)).json()
    assert [t["name"] for t in listed] == ["verifier"]
    assert "token" not in listed[0]
    revoked = await client.post(f"/api/tokens/{listed[0]['id']}/revoke", headers=bearer)
    assert revoked.status_code == 201
    assert (await client.get("/api/users/me", headers=bearer)).status_code == 401


async def test_an_unknown_bearer_token_is_401_with_a_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/depots", headers={"authorization": "Bearer cal_tok_nonsense"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_account_page_shows_a_new_token_once(client: httpx.AsyncClient, factory: Factory) -> None:
    clerk = await factory.user(Role.DEPOT_CLERK)
    await login(client, clerk.user.username)
    page = await client.post("/account/tokens", data={"name": "gate scanner"}, headers=csrf_headers(client))
    assert page.status_code == 200
    assert 'id="new-token">cal_tok_' in page.text
    again = (await client.get("/account/")).text
    assert "gate scanner" in again
    assert 'id="new-token"' not in again


@asynccontextmanager
async def browser_of(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser of the same app, with cookies of its own."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        yield http


def page_token(html: str) -> str:
    """The CSRF token a page gives its htmx requests."""
    found = re.search(r'"x-csrftoken": "([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def test_a_csrf_token_of_one_session_is_refused_with_another_sessions_cookie(
    client: httpx.AsyncClient, app: Litestar, factory: Factory
) -> None:
    alice, bob = await factory.user(Role.INSPECTOR), await factory.user(Role.INSPECTOR)
    await login(client, alice.user.username)
    alices_token = page_token((await client.get("/account/")).text)
    assert alices_token == client.cookies["caliber_csrf"]
    async with browser_of(app) as other:
        await login(other, bob.user.username)
        assert other.cookies["caliber_csrf"] != alices_token
        other.cookies.set("caliber_csrf", alices_token, domain="testserver.local")
        replayed = await other.post("/api/tokens", json={"name": "replayed"}, headers={"x-csrftoken": alices_token})
        assert replayed.status_code == 403
        form = await other.post("/account/tokens", data={"name": "replayed", "_csrf_token": alices_token})
        assert form.status_code == 403
        bobs_token = page_token((await other.get("/account/")).text)
        assert other.cookies["caliber_csrf"] == bobs_token  # the page put the CSRF cookie right again
        made = await other.post("/api/tokens", json={"name": "his own"}, headers={"x-csrftoken": bobs_token})
        assert made.status_code == 201
    assert (await client.post("/api/tokens", json={"name": "hers"}, headers={"x-csrftoken": alices_token})).status_code == 201


async def test_a_fresh_login_gets_a_new_csrf_binding(client: httpx.AsyncClient, factory: Factory) -> None:
    view = await factory.user(Role.WITNESS)
    await client.get("/login")
    before_login = client.cookies["caliber_csrf"]
    await login(client, view.user.username)
    first = client.cookies["caliber_csrf"]
    assert first != before_login
    client.cookies.set("caliber_csrf", before_login, domain="testserver.local")
    stale = await client.post("/api/tokens", json={"name": "x"}, headers={"x-csrftoken": before_login})
    assert stale.status_code == 403
    await login(client, view.user.username)
    second = client.cookies["caliber_csrf"]
    assert second not in {first, before_login}
    assert (await client.post("/api/tokens", json={"name": "x"}, headers={"x-csrftoken": first})).status_code == 403
    assert (await client.post("/api/tokens", json={"name": "x"}, headers={"x-csrftoken": second})).status_code == 201


async def test_after_logout_the_login_form_works_again(client: httpx.AsyncClient, factory: Factory) -> None:
    view = await factory.user(Role.WITNESS)
    await login(client, view.user.username)
    bound = client.cookies["caliber_csrf"]
    assert (await client.post("/logout", data={"_csrf_token": bound})).status_code == 302
    assert client.cookies["caliber_csrf"] != bound
    assert (await login(client, view.user.username)).status_code == 302


async def failure_keys(db: Database) -> set[str]:
    """The keys failed logins were counted under."""
    async with db.read() as session:
        return set(await session.scalars(select(LoginFailure.key)))


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    client: httpx.AsyncClient, factory: Factory, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await factory.user(Role.ADMIN)
    caplog.set_level(logging.INFO, logger="caliber.access")
    await client.get("/login")
    form = {"username": admin.user.username, "password": "wrong", "_csrf_token": client.cookies["caliber_csrf"]}
    assert (await client.post("/login", data=form, headers={"x-forwarded-for": "203.0.113.5"})).status_code == 401
    assert "addr:127.0.0.1" in await failure_keys(db)
    assert "addr:203.0.113.5" not in await failure_keys(db)
    logged = [r.fields["client"] for r in caplog.records if r.name == "caliber.access"]  # type: ignore[attr-defined]
    assert set(logged) == {"127.0.0.1"}


async def test_forwarded_for_is_believed_from_a_trusted_proxy(
    settings: Settings, db: Database, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await factory.user(Role.ADMIN)
    behind_proxy = dataclasses.replace(settings, trusted_proxies=TrustedProxies((ipaddress.ip_network("127.0.0.0/8"),)))
    caplog.set_level(logging.INFO, logger="caliber.access")
    async with browser_of(create_app(behind_proxy, database=db)) as proxied:
        attacker = {"x-forwarded-for": "192.0.2.44, 203.0.113.5"}  # the proxy appended 203.0.113.5
        for _ in range(20):
            await proxied.get("/login", headers=attacker)
            form = {"username": admin.user.username, "password": "wrong", "_csrf_token": proxied.cookies["caliber_csrf"]}
            assert (await proxied.post("/login", data=form, headers=attacker)).status_code in {401, 429}
        assert {"addr:203.0.113.5", f"user:{admin.user.username}"} == await failure_keys(db)
        proxied.cookies.clear()
        real_admin = {"x-forwarded-for": "198.51.100.20"}
        await proxied.get("/login", headers=real_admin)
        form = {"username": admin.user.username, "password": PASSWORD, "_csrf_token": proxied.cookies["caliber_csrf"]}
        assert (await proxied.post("/login", data=form, headers=real_admin)).status_code == 302
    logged = [(r.fields["method"], r.fields["status"], r.fields["client"]) for r in caplog.records if r.name == "caliber.access"]  # type: ignore[attr-defined]
    assert logged[-1] == ("POST", 302, "198.51.100.20")
    assert {client for *_, client in logged} == {"203.0.113.5", "198.51.100.20"}
