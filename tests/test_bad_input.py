"""Bad input gets a clear 4xx, never a 500, and nothing is half-written."""

from __future__ import annotations

import csv
import re
import unicodedata
import uuid
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from caliber.accounts.models import Role
from caliber.accounts.schemas import PasswordReset
from caliber.app import MAX_BODY_BYTES
from caliber.db import Database
from caliber.depots.models import DepotKind
from caliber.depots.schemas import NewDepot
from caliber.destruction.schemas import ObserverInput
from caliber.destruction.service import DestructionService
from caliber.errors import InvalidInput
from caliber.imports.importer import Importer
from caliber.items.models import Item
from caliber.items.service import ItemService
from caliber.labels.sheets import register_fonts
from caliber.ledger.store import Ledger
from caliber.pdf import Grid
from caliber.schemas import visible
from tests.destruction.helpers import approved, cast
from tests.factories import OPERATOR, Factory, csrf_headers, login

UNKNOWN = uuid.UUID("5e1d7c2a-0b4f-4c9e-9a61-2f3d8e7b6c10")
"""An id no record has (fixed, so that every test worker collects the same test names)."""

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
        ("GET", f"/api/depots/{UNKNOWN}", None, 404, "no depot"),
        ("GET", "/api/depots/not-a-uuid", None, 404, ""),
        ("PATCH", f"/api/users/{UNKNOWN}", {"display_name": "X"}, 404, "no user"),
        ("PATCH", f"/api/locations/{UNKNOWN}", {"name": "X"}, 404, "no location"),
        ("POST", "/api/tokens", {"name": ""}, 400, "name"),
        ("POST", f"/api/tokens/{UNKNOWN}/revoke", None, 404, "no API token"),
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


# -- integers a request carries are bounded ---------------------------------------------------------------------------

PAST_INT64 = "9223372036854775808"


async def test_a_limit_past_any_integer_is_a_400_naming_it(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService, admin_headers: dict[str, str]
) -> None:
    event = await approved(destructions, await cast(factory, items=1))
    for path in (
        f"/api/destructions/{event.id}/manifest?limit={PAST_INT64}",
        f"/api/destructions/{event.id}/manifest?limit=5001",
        f"/api/reports/records?period=2025&jurisdiction=RS&measure=weapons_destroyed&limit={PAST_INT64}",
    ):
        response = await client.get(path, headers=admin_headers)
        assert response.status_code == 400, (path, response.text)
        assert "limit" in response.text


async def test_a_count_of_pieces_past_any_lot_is_refused_not_a_server_error(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    depot = await factory.depot()
    lot = await factory.lot(depot)
    check = (await client.post("/api/stockchecks", json={"depot_id": str(depot.id)}, headers=admin_headers)).json()
    scans = {"scans": [{"code": lot.code, "quantity": int(PAST_INT64)}]}
    response = await client.post(f"/api/stockchecks/{check['id']}/scans", json=scans, headers=admin_headers)
    assert response.status_code == 400, response.text
    assert "quantity" in response.text


# -- text: no character that displays differently than stored; NFC ---------------------------------------------------


def weapon(depot_id: uuid.UUID, **overrides: object) -> dict[str, object]:
    """A weapon for the item API."""
    values: dict[str, object] = {
        "depot_id": str(depot_id),
        "manufacturer": "Zastava",
        "model": "M70",
        "calibre": "7.62x39mm",
        "serial": "AK123",
        "un_type": "assault_rifle",
        "intake_source": "surplus",
    }
    return {**values, **overrides}


@pytest.mark.parametrize(
    ("field", "value", "character"),
    [
        ("serial", "AK\u202e74", "U+202E"),
        ("serial", "AK\u200f123", "U+200F"),
        ("serial", "AK\x00123", "U+0000"),
        ("serial", "AK\n123", "U+000A"),
        ("manufacturer", "Zas\u2066tava", "U+2066"),
        ("model", "M\u061c70", "U+061C"),
        ("notes", "found \u202aunder\u202c the floor", "U+202A"),
        ("notes", "bell\x07", "U+0007"),
    ],
)
async def test_text_that_would_display_differently_than_stored_is_a_422_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, field: str, value: str, character: str
) -> None:
    depot = await factory.depot()
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot])
    headers = {"authorization": f"Bearer {await factory.token(clerk)}"}
    response = await client.post("/api/items", json=weapon(depot.id, **{field: value}), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert f"{field}: contains a control or direction-override character ({character})" in response.json()["detail"]
    found = await client.get("/api/items", params={"depot_id": str(depot.id)}, headers=headers)
    assert found.json()["items"] == []


async def test_cyrillic_and_albanian_text_is_kept_and_decomposed_letters_are_stored_composed(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    depot = await factory.depot()
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot])
    headers = {"authorization": f"Bearer {await factory.token(clerk)}"}
    body = weapon(
        depot.id,
        serial="АК-47 №123",
        manufacturer="Fabrika e Gramshit",
        model="Shqipe\u0308ri c\u0327elik",
        notes="line one\nline two\twith a tab",
    )
    response = await client.post("/api/items", json=body, headers=headers)
    assert response.status_code == 201, response.text
    shown = (await client.get(f"/api/items/{response.json()['code']}", headers=headers)).json()
    assert (shown["serial"], shown["model"], shown["notes"]) == ("АК-47 №123", "Shqipëri çelik", "line one\nline two\twith a tab")
    assert shown["model"] == unicodedata.normalize("NFC", shown["model"]) != body["model"]


async def test_a_form_refuses_a_direction_override_naming_the_field(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    token = csrf_headers(client)["x-csrftoken"]
    form = {"code": "RS-BID-1", "name": "Depot \u202eevil", "kind": "army_depot", "jurisdiction": "RS", "_csrf_token": token}
    response = await client.post("/depots/new", data=form)
    assert response.status_code == 422, response.text
    assert "Name holds a hidden control or direction character (U+202E): type it again without it" in response.text


async def test_an_imported_row_with_a_direction_override_is_named_by_row_and_column_and_nothing_is_imported(
    factory: Factory, items: ItemService, ledger: Ledger, tmp_path: Path
) -> None:
    depot = await factory.depot()
    path = tmp_path / "weapons.csv"
    rows = [["serial", "manufacturer", "model", "calibre", "un_type", "intake_source", "notes"]]
    rows += [[f"IMP{n}", "Zastava", "M70", "7.62x39mm", "assault_rifle", "surplus", "ok"] for n in range(3)]
    rows[2][0] = "IMP\u202e1"
    rows[3][6] = "a\x1bb"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    importer = Importer(items)
    report = await importer.check(OPERATOR, path, depot.code)
    assert [(e.row, e.column) for e in report.errors] == [(3, "serial"), (4, "notes")]
    assert "U+202E" in report.errors[0].reason
    before = await ledger.size()
    with pytest.raises(InvalidInput, match="2 row\\(s\\) have errors, first at row 3"):
        await importer.run(OPERATOR, path, depot.code)
    assert await ledger.size() == before


def test_a_request_struct_built_in_code_checks_its_text_too() -> None:
    """The CLI, the demo and the services build structs in code: the same rule and the same NFC as a decoded one."""
    with pytest.raises(InvalidInput, match="name: contains a control or direction-override character \\(U\\+2069\\)"):
        ObserverInput("A\u2069B", "OSCE")
    depot = NewDepot("RS-X-1", "De\u0301po\u0302t", DepotKind.ARMY_DEPOT, "RS", "Street 1\r\nTown")
    assert (depot.name, depot.address) == ("Dépôt", "Street 1\nTown")  # an address may run over lines
    assert PasswordReset("e\u0308" * 12).password == "e\u0308" * 12  # a password is kept exactly as typed


async def test_a_record_stored_before_the_rules_shows_its_hidden_characters_on_pages_labels_and_certificates(
    client: httpx.AsyncClient, factory: Factory, db: Database
) -> None:
    """A serial kept from before the input rules (or written into the database by hand) cannot display as another."""
    depot = await factory.depot()
    item = await factory.item(depot, serial="AB123")
    async with db.write() as session:
        await session.execute(update(Item).where(Item.id == item.id).values(serial="AB\u202e321"))
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    for path in (f"/items/{item.code}", f"/labels/{item.code}.svg"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "AB⟨U+202E" in response.text, path  # a label may shorten the line after it
        assert "\u202e" not in response.text, path
    register_fonts()
    (cell,) = Grid.of([500], [["S/N AB\u202e321"]]).rows[0]  # every cell of the certificate PDF is drawn through it
    assert cell[1] == ("S/N AB⟨U+202E⟩321",)
    assert visible("line one\r\nline\ttwo") == "line one\r\nline\ttwo"  # line breaks and tabs are shown as they are


FILTER_WORDS = {"depot_id": "depot", "location_id": "location", "status": "status", "q": "search"}
"""How a refused filter is named in words."""


@pytest.mark.parametrize("query", ["depot_id=0", "location_id=-1", f"depot_id={PAST_INT64}", "status=lost", "q=AB%E2%80%AE1"])
async def test_a_lot_search_with_a_bad_filter_is_422_naming_the_filter(
    query: str, client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    for path in ("/api/lots", "/api/lots/export.csv"):
        response = await client.get(f"{path}?{query}", headers=admin_headers)
        assert response.status_code == 422, (path, response.text)
        assert FILTER_WORDS[query.partition("=")[0]] in response.json()["detail"].lower()
        assert not re.search(r"Expected|\$\.|`", response.json()["detail"])
    admin = await factory.user(Role.ADMIN)
    await login(client, admin.user.username)
    page = await client.get(f"/lots/?{query}")
    assert page.status_code == 422
    assert 'class="error"' in page.text
