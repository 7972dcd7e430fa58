"""Health, readiness, the home page and the API docs."""

from __future__ import annotations

import httpx

from caliber import migrate
from caliber.accounts.models import Role
from tests.factories import Factory, login


async def test_health_answers_without_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_the_migrated_revision(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["revision"] == migrate.head_revision()


async def test_home_redirects_anonymous_visitors_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=/"


async def test_home_lists_only_the_depots_in_scope(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, other = await factory.depot(name="Depot in scope"), await factory.depot(name="Depot elsewhere")
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[mine])
    await login(client, clerk.user.username)
    page = (await client.get("/")).text
    assert "Depot in scope" in page
    assert other.name not in page


async def test_openapi_schema_and_docs_are_served_without_a_cdn(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/depots" in schema["paths"]
    docs = (await client.get("/schema/swagger")).text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs
    assert "https://" not in docs
    assert (await client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")).status_code == 200
