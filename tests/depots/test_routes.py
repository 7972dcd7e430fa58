"""Depot pages and API, including the HTMX location form."""

from __future__ import annotations

import httpx

from caliber.accounts.models import Role
from tests.factories import Factory, csrf_headers, login


async def test_admin_creates_a_depot_through_the_form(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    form = {"code": "me-nik-02", "name": "Nikšić Steel Plant", "kind": "destruction_facility", "jurisdiction": "ME", "address": "Nikšić"}
    response = await client.post("/depots/new", data=form, headers=csrf_headers(client))
    assert response.status_code == 302
    page = (await client.get(response.headers["location"])).text
    assert "Nikšić Steel Plant" in page
    assert "ME-NIK-02" in page  # codes are kept in capitals


async def test_the_depot_form_reports_a_duplicate_code(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await factory.depot(code="AL-X-1")
    await login(client, admin.user.username)
    form = {"code": "AL-X-1", "name": "Again", "kind": "army_depot", "jurisdiction": "AL"}
    response = await client.post("/depots/new", data=form, headers=csrf_headers(client))
    assert response.status_code == 422
    assert "AL-X-1 already exists" in response.text


async def test_htmx_adds_a_location_and_gets_the_tree_back(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    manager = await factory.user(Role.DEPOT_MANAGER, depots=[depot])
    await login(client, manager.user.username)
    headers = {**csrf_headers(client), "HX-Request": "true"}
    response = await client.post(f"/depots/{depot.id}/locations", data={"kind": "room", "name": "Armoury"}, headers=headers)
    assert response.status_code == 200
    assert response.text.startswith('<div id="locations">')
    assert "Armoury" in response.text
    duplicate = await client.post(f"/depots/{depot.id}/locations", data={"kind": "room", "name": "Armoury"}, headers=headers)
    assert duplicate.status_code == 422
    assert "already exists" in duplicate.text


async def test_kosovo_is_written_with_its_footnote(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot(jurisdiction="XK", name="Pristina store")
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    page = (await client.get(f"/depots/{depot.id}")).text
    assert "Kosovo*" in page
    assert "UNSCR 1244/1999" in page
    jurisdictions = (await client.get("/api/jurisdictions")).json()
    assert {j["code"]: j["name"] for j in jurisdictions}["XK"] == "Kosovo*"


async def test_the_api_creates_and_lists_locations(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    admin = await factory.user(Role.ADMIN)
    bearer = {"authorization": f"Bearer {await factory.token(admin)}"}
    building = await client.post(f"/api/depots/{depot.id}/locations", json={"kind": "building", "name": "Hall"}, headers=bearer)
    assert building.status_code == 201
    shelf = {"kind": "shelf", "name": "Shelf 3", "parent_id": building.json()["id"]}
    assert (await client.post(f"/api/depots/{depot.id}/locations", json=shelf, headers=bearer)).status_code == 201
    listed = (await client.get(f"/api/depots/{depot.id}/locations", headers=bearer)).json()
    assert [(loc["path"], loc["depth"]) for loc in listed] == [("Hall", 0), ("Hall / Shelf 3", 1)]
    renamed = await client.patch(f"/api/locations/{building.json()['id']}", json={"name": "Main hall"}, headers=bearer)
    assert renamed.json()["path"] == "Main hall"


async def test_result_lists_export_as_csv(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await factory.item(depot, serial="EXPORT-1")
    await factory.item(depot, serial="FORMULA-1", manufacturer="=SUM(1+1)")
    lot = await factory.lot(depot, gross_mass_kg="180.25")
    await login(client, (await factory.user(Role.INSPECTOR)).user.username)
    items_csv = (await client.get(f"/api/items/export.csv?depot_id={depot.id}")).text.splitlines()
    assert items_csv[0].startswith("code,kind,component_type")
    assert any("EXPORT-1" in line for line in items_csv[1:])
    formula = next(line for line in items_csv[1:] if "FORMULA-1" in line)
    assert ",'=SUM(1+1)," in formula  # a spreadsheet shows it as text, never runs it
    lots_csv = (await client.get(f"/api/lots/export.csv?depot_id={depot.id}")).text.splitlines()
    assert lots_csv[0].startswith("code,lot_number")
    assert lot.lot_number in lots_csv[1]
    assert "180.25" in lots_csv[1]


async def test_record_pages_offer_the_actions_the_role_allows(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await factory.location(depot, "Rack 1")
    item, lot = await factory.item(depot), await factory.lot(depot)
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=[depot])).user.username)
    for path in (f"/items/{item.code}", f"/lots/{lot.code}"):
        page = (await client.get(path)).text
        assert f'action="{path}/status"' in page
        assert f'action="{path}/move"' in page
        assert f'action="{path}/correct"' in page
        assert "Declare surplus" in page
    assert f'action="/lots/{lot.code}/split"' in (await client.get(f"/lots/{lot.code}")).text
    client.cookies.clear()
    await login(client, (await factory.user(Role.INSPECTOR)).user.username)
    page = (await client.get(f"/items/{item.code}")).text
    assert "/status" not in page
    assert "Custody timeline" in page
