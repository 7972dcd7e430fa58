"""The intake forms (one weapon, scan as you go, a lot): no choice made for the person, and a possible duplicate
said in place, within what the person may see."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.items.record_pages import CHOICES
from tests.factories import OPERATOR, Factory, csrf_headers, login

WEAPON = {"manufacturer": "Zastava", "model": "M70", "calibre": "7.62x39mm", "serial": "TYPED-1"}
WEAPON_CHOICES = {"un_type": "assault_rifle", "kind": "weapon", "intake_source": "found", "condition": "serviceable"}
LOT = {"lot_number": "PPU-77", "manufacturer": "PPU", "calibre": "9x19mm", "nature": "ball"}
LOT |= {"quantity": "100", "gross_mass_kg": "2", "net_explosive_mass_kg": "0.1"}
LOT_CHOICES = {"hazard_division": "1.4", "compatibility_group": "S", "intake_source": "surplus", "condition": "unknown"}
FORMS = [("/items/new", "item"), ("/items/intake", "item"), ("/lots/new", "lot")]


class Selects(HTMLParser):
    """Each ``<select>`` of a page: whether it is required, and its options as (value, selected)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: dict[str, dict[str, Any]] = {}
        self._current: dict[str, Any] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "select":
            self._current = self.found[str(named["name"])] = {"required": "required" in named, "options": []}
        elif tag == "option" and self._current is not None:
            self._current["options"].append((named.get("value"), "selected" in named))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._current = None


def chosen(select: dict[str, Any]) -> str | None:
    """The value a browser submits for ``select`` as the page draws it (the first option unless one is selected)."""
    options = select["options"]
    return next((value for value, selected in options if selected), options[0][0] if options else None)


def problem_beside(text: str, field: str) -> str:
    """The error shown beside ``field``."""
    found = re.search(rf'<span class="field-error" id="[^"]*\b{field}\b[^"]*"[^>]*>([^<]*)</span>', text)
    assert found, f"no error beside {field}"
    return html.unescape(found.group(1))


@pytest.mark.parametrize(("path", "kind"), FORMS)
async def test_every_required_choice_starts_unmade(client: httpx.AsyncClient, factory: Factory, path: str, kind: str) -> None:
    depots = [await factory.depot(), await factory.depot()]
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=depots)).user.username)
    selects = Selects((await client.get(path)).text).found
    assert set(CHOICES[kind]) <= {name for name, s in selects.items() if s["required"]}
    for name, select in selects.items():
        if select["required"]:
            assert select["options"][0] == ("", False), name
            assert chosen(select) == "", f"{name} starts on {chosen(select)!r}"


async def test_a_single_depot_is_chosen_for_its_only_clerk(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    selects = Selects((await client.get("/items/intake")).text).found
    assert chosen(selects["depot_id"]) == str(depot.id)
    assert chosen(selects["un_type"]) == ""


@pytest.mark.parametrize(
    ("path", "kind", "field"),
    [(path, kind, field) for path, kind in FORMS for field in CHOICES[kind] if field != "depot_id"],
)
async def test_an_unmade_choice_is_refused_beside_its_field_keeping_what_was_typed(
    client: httpx.AsyncClient, factory: Factory, path: str, kind: str, field: str
) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    typed, choices = (WEAPON, WEAPON_CHOICES) if kind == "item" else (LOT, LOT_CHOICES)
    form = {"depot_id": str(depot.id), **typed, **choices, field: ""}
    response = await client.post(path, data=form, headers=csrf_headers(client))
    assert response.status_code == 422
    assert problem_beside(response.text, field) == CHOICES[kind][field]  # type: ignore[index]
    for name, value in typed.items():
        assert f'name="{name}" id="f-{name}" value="{value}"' in response.text, name
    selects = Selects(response.text).found
    for name, value in choices.items():
        assert chosen(selects[name]) == ("" if name == field else value), name
    search = factory.items.search if kind == "item" else factory.items.search_lots
    assert (await search(OPERATOR, {"q": "TYPED-1" if kind == "item" else "PPU-77"})).records == []  # nothing written


async def test_the_type_of_weapon_is_asked_for_in_plain_words(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    form = {"depot_id": str(depot.id), **WEAPON, **WEAPON_CHOICES}
    del form["un_type"]
    response = await client.post("/items/intake", data=form, headers=csrf_headers(client))
    assert problem_beside(response.text, "un_type") == "Choose the type of weapon"


async def test_scanning_a_serial_held_here_warns_with_a_link_to_it(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    held = await factory.item(depot, serial="DUP-77")
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    form = {"depot_id": str(depot.id), **WEAPON, **WEAPON_CHOICES, "serial": "DUP-77"}
    response = await client.post("/items/intake", data=form, headers={**csrf_headers(client), "HX-Request": "true"})
    assert response.status_code == 200
    warning = response.text.split('<div class="warning" role="alert" id="duplicate">', 1)[1].split("</div>", 1)[0]
    assert "Saved, but serial DUP-77 by Zastava M70 matches a record already held: flagged for review" in warning
    assert f'href="/items/{held.code}"' in warning
    assert 'class="notice"' not in response.text
    (taken,) = re.findall(r'name="taken" value="(\d+) DUP-77"', response.text)
    assert (await factory.items.look_up(OPERATOR, "item", taken)).duplicate_review == "open"


async def test_taking_in_a_duplicate_through_the_form_warns_on_its_page(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    held = await factory.item(depot, serial="DUP-78")
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    form = {"depot_id": str(depot.id), **WEAPON, **WEAPON_CHOICES, "serial": "DUP-78"}
    response = await client.post("/items/new", data=form, headers=csrf_headers(client))
    assert response.status_code == 302
    page = (await client.get(response.headers["location"])).text
    assert "Saved, but serial DUP-78 by Zastava M70 matches a record already held" in page
    assert f'href="/items/{held.code}"' in page.split('id="duplicate"', 1)[1].split("</div>", 1)[0]
    assert "Taken in. Write the label code" not in page


async def test_a_duplicate_held_in_a_depot_out_of_sight_is_not_described(client: httpx.AsyncClient, factory: Factory) -> None:
    depot_a = await factory.depot(code="RS-AAA-01", name="Kragujevac arsenal")
    held = await factory.item(depot_a, serial="DUP-79")
    depot_b = await factory.depot()
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot_b])
    await login(client, clerk.user.username)
    form = {"depot_id": str(depot_b.id), **WEAPON, **WEAPON_CHOICES, "serial": "DUP-79"}
    scanned = await client.post("/items/intake", data=form, headers={**csrf_headers(client), "HX-Request": "true"})
    taken = await client.post("/items/new", data={**form, "serial": "dup-79"}, headers=csrf_headers(client))
    page = (await client.get(taken.headers["location"])).text
    bearer = {"authorization": f"Bearer {await factory.token(clerk)}"}
    api = await client.post("/api/items/", json={**form, "serial": "Dup-79"}, headers=bearer)
    assert api.status_code == 201
    (warning,) = api.json()["warnings"]
    for shown in (scanned.text, page, warning):
        assert "a record held elsewhere: flagged for review as a possible duplicate" in shown
        for secret in ("RS-AAA-01", "Kragujevac", str(depot_a.id), held.code):
            assert secret not in shown
    mine = sorted(
        [*re.findall(r'name="taken" value="(\d+) DUP-79"', scanned.text), taken.headers["location"][len("/items/") :].split("?")[0]]
    )
    assert warning == (
        "Saved, but serial Dup-79 by Zastava M70 matches 2 records already held and a record held elsewhere: "
        f"flagged for review as a possible duplicate. Matching: {', '.join(mine)}."
    )


async def test_the_api_warns_of_a_duplicate_and_not_of_a_new_serial(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    held = await factory.item(depot, serial="DUP-80")
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot])
    bearer = {"authorization": f"Bearer {await factory.token(clerk)}"}
    body = {"depot_id": str(depot.id), **WEAPON, "un_type": "rifle", "intake_source": "found"}
    fresh, again = (
        await client.post("/api/items/batch", json=[{**body, "serial": "NEW-80"}, {**body, "serial": "DUP-80"}], headers=bearer)
    ).json()
    assert fresh["warnings"] == []
    assert again["warnings"] == [
        f"Saved, but serial DUP-80 by Zastava M70 matches a record already held: flagged for review as a possible duplicate. "
        f"Matching: {held.code}."
    ]
    assert again["duplicate_review"] == "open"
    assert (await client.get(f"/api/items/{again['code']}", headers=bearer)).json()["warnings"] == []
