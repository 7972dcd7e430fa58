"""No form makes a choice for the person: every required select starts on an empty "Choose…" (unless it has a
single option, such as the one depot a clerk works in), and the server refuses it left empty."""

from __future__ import annotations

import re

import httpx
import pytest

from caliber.accounts.models import Role
from tests.factories import OPERATOR, Factory, csrf_headers, login
from tests.items.test_intake_pages import Selects, chosen


async def _required_choices(client: httpx.AsyncClient, path: str) -> dict[str, str | None]:
    page = await client.get(path)
    assert page.status_code == 200, path
    return {name: chosen(s) for name, s in Selects(page.text).found.items() if s["required"]}


async def test_the_admins_forms_start_every_required_choice_unmade(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.ADMIN)).user.username)
    assert await _required_choices(client, "/depots/new") == {"jurisdiction": "", "kind": ""}
    assert await _required_choices(client, "/users/new") == {"role": ""}
    assert (await _required_choices(client, f"/depots/{depot.id}"))["kind"] == ""  # of a new location
    assert await _required_choices(client, "/reports/targets") == {"jurisdiction": "", "kpi": ""}
    editing = await _required_choices(client, f"/depots/{depot.id}/edit")
    assert editing["kind"] == "army_depot"  # the depot's own kind, not a guess


async def test_a_manager_of_two_depots_chooses_the_depot(client: httpx.AsyncClient, factory: Factory) -> None:
    depots = [await factory.depot(), await factory.depot()]
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=depots)).user.username)
    assert (await _required_choices(client, "/transfers/new")) == {"from_depot_id": "", "to_depot_id": ""}
    assert (await _required_choices(client, "/stockchecks/")) == {"depot_id": ""}
    assert (await _required_choices(client, "/imports/")) == {"depot": ""}
    assert (await _required_choices(client, "/destructions/new"))["depot_id"] == ""


async def test_a_clerk_of_one_depot_has_it_chosen(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=[depot])).user.username)
    assert (await _required_choices(client, "/stockchecks/")) == {"depot_id": str(depot.id)}
    assert (await _required_choices(client, "/imports/")) == {"depot": depot.code}


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("/depots/new", {"code": "RS-CH-01", "name": "Choice", "jurisdiction": "RS", "kind": ""}, "kind"),
        ("/depots/new", {"code": "RS-CH-02", "name": "Choice", "jurisdiction": "", "kind": "army_depot"}, "jurisdiction"),
        ("/users/new", {"username": "chooser", "display_name": "Chooser", "role": "", "password": "long enough password"}, "role"),
        ("/reports/targets", {"jurisdiction": "", "kpi": "K1", "target": "10", "year": "2027"}, "jurisdiction"),
    ],
)
async def test_an_empty_choice_is_refused_by_the_server(
    client: httpx.AsyncClient, factory: Factory, path: str, form: dict[str, str], field: str
) -> None:
    await login(client, (await factory.user(Role.ADMIN)).user.username)
    response = await client.post(path, data=form, headers=csrf_headers(client))
    assert response.status_code == 422
    refusal = re.sub(r"<[^>]+>", " ", response.text.split('class="error', 1)[1].split("<form", 1)[0])
    assert field in refusal.lower()  # the refusal names the field left unchosen


async def test_an_empty_location_kind_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=[depot])).user.username)
    headers = {**csrf_headers(client), "HX-Request": "true"}
    response = await client.post(f"/depots/{depot.id}/locations", data={"kind": "", "name": "Armoury"}, headers=headers)
    assert response.status_code == 422
    assert [loc.name for loc in await factory.inventory.locations(OPERATOR, depot.id)] == []


async def test_a_record_page_starts_every_choice_unmade_and_refuses_one_left_empty(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    shelf = await factory.location(depot)
    await factory.item(depot, serial="CHOICE-1", location_id=shelf.id)
    item = await factory.item(depot, serial="CHOICE-1", location_id=shelf.id)
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=[depot])).user.username)
    assert await _required_choices(client, f"/items/{item.code}") == {"action": "", "location_id": "", "field": "", "decision": ""}
    for path, form in [
        ("status", {"action": "", "reason": "r"}),
        ("correct", {"field": "", "value": "x", "reason": "r"}),
        ("move", {"location_id": ""}),
        ("duplicate-review", {"decision": "", "reason": "r"}),
    ]:
        response = await client.post(f"/items/{item.code}/{path}", data=form, headers=csrf_headers(client))
        assert response.status_code == 422, path
    assert (await factory.items.look_up(OPERATOR, "item", item.code)).duplicate_review == "open"
