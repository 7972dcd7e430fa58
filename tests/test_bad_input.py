"""Bad input gets a clear 4xx, never a 500, and nothing is half-written."""

from __future__ import annotations

import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliber.accounts.models import Role
from caliber.app import MAX_BODY_BYTES
from tests.factories import Factory

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


@pytest.fixture
async def admin_headers(factory: Factory) -> dict[str, str]:
    admin = await factory.user(Role.ADMIN)
    return {"authorization": f"Bearer {await factory.token(admin)}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", "/api/depots", {"name": "No code", "kind": "army_depot", "jurisdiction": "RS"}, 400, "code"),
        ("POST", "/api/depots", {"code": "X-1", "name": "N", "kind": "castle", "jurisdiction": "RS"}, 400, "kind"),
        ("POST", "/api/depots", {"code": "X-1", "name": "N", "kind": "army_depot", "jurisdiction": "FR"}, 400, "jurisdiction"),
        ("POST", "/api/depots", {"code": 7, "name": "N", "kind": "army_depot", "jurisdiction": "RS"}, 400, "code"),
        ("POST", "/api/depots", {"code": "X-1", "name": "N", "kind": "army_depot", "jurisdiction": "RS", "x": 1}, 400, "x"),
        ("POST", "/api/users", {"username": "ab", "display_name": "A", "role": "witness", "password": "short"}, 400, "password"),
        ("POST", "/api/users", {"username": "Bad Name", "display_name": "A", "role": "witness", "password": "x" * 12}, 400, "username"),
        ("POST", "/api/users", {"username": "abc", "display_name": "A", "role": "emperor", "password": "x" * 12}, 400, "role"),
        ("GET", f"/api/depots/{uuid.uuid4()}", None, 404, "no depot"),
        ("GET", "/api/depots/not-a-uuid", None, 404, ""),
        ("PATCH", f"/api/users/{uuid.uuid4()}", {"display_name": "X"}, 404, "no user"),
        ("PATCH", f"/api/locations/{uuid.uuid4()}", {"name": "X"}, 404, "no location"),
        ("POST", "/api/tokens", {"name": ""}, 400, "name"),
        ("POST", f"/api/tokens/{uuid.uuid4()}/revoke", None, 404, "no API token"),
    ],
)
async def test_bad_requests_get_a_clear_4xx(
    client: httpx.AsyncClient, admin_headers: dict[str, str], method: str, path: str, body: object, status: int, says: str
) -> None:
    response = await client.request(method, path, json=body, headers=admin_headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert says in response.text


async def test_malformed_json_is_400(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "content-type": "application/json"}
    response = await client.post("/api/depots", content=b'{"code": "X-', headers=headers)
    assert response.status_code == 400


async def test_an_oversize_body_is_413(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    body = {"code": "X-1", "name": "N", "kind": "army_depot", "jurisdiction": "RS", "address": "x" * (MAX_BODY_BYTES + 10)}
    response = await client.post("/api/depots", json=body, headers=admin_headers)
    assert response.status_code == 413


async def test_a_rejected_user_leaves_no_row(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    body = {"username": "halfway", "display_name": "H", "role": "depot_clerk", "password": "long enough password", "depots": ["NOPE-9"]}
    response = await client.post("/api/users", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["field"] == "depots"
    users = (await client.get("/api/users", headers=admin_headers)).json()
    assert "halfway" not in {u["username"] for u in users}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["code", "name", "kind", "jurisdiction", "address", "active"]), json_values, max_size=6))
async def test_any_json_body_for_a_depot_is_answered_without_a_server_error(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: dict[str, object]
) -> None:
    response = await client.post("/api/depots", json=body, headers=admin_headers)
    assert response.status_code in {201, 400, 409, 422}, response.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    form=st.dictionaries(
        st.sampled_from(["username", "display_name", "role", "password", "organisation", "depots"]), st.text(max_size=40), max_size=6
    )
)
async def test_any_user_form_is_answered_without_a_server_error(
    client: httpx.AsyncClient, admin_headers: dict[str, str], form: dict[str, str]
) -> None:
    response = await client.post("/users/new", data=form, headers=admin_headers)
    assert response.status_code in {302, 422}, response.text
