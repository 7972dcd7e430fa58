"""Login pages, CSRF, throttling over HTTP, user administration pages and the token API."""

from __future__ import annotations

import httpx

from caliber.accounts.models import Role
from caliber.accounts.service import MAX_FAILURES
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
    for _ in range(MAX_FAILURES):
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
