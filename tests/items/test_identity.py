"""Identity completeness: the identifiers a trace needs, missing from a record, in the API, on the pages, counted per depot."""

from __future__ import annotations

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.items.identity import IDENTIFIERS, missing_identifiers, missing_labels, traceable_counts
from caliber.items.lifecycle import Action
from caliber.items.models import ComponentType, ItemKind
from caliber.items.schemas import StatusChange
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")

COMPLETE = {"country_of_manufacture": "RS", "year_of_manufacture": 1988, "marking_location": "left side of the receiver"}


async def test_a_record_lacks_what_is_blank_unknown_or_unreadable(factory: Factory) -> None:
    depot = await factory.depot()
    assert missing_identifiers(await factory.item(depot, **COMPLETE)) == []
    bare = await factory.item(depot, serial="Removed", manufacturer="unknown", model=" n/a ")
    assert missing_identifiers(bare) == [i.field for i in IDENTIFIERS if i.field != "calibre"]
    assert missing_labels(bare)[-3:] == ["country of manufacture", "year of manufacture", "where the markings are"]
    assert missing_identifiers(await factory.item(depot, **COMPLETE, serial="ILLEGIBLE")) == ["serial"]
    assert missing_identifiers(await factory.item(depot, **{**COMPLETE, "country_of_manufacture": None})) == ["country_of_manufacture"]


async def test_the_item_api_and_page_say_what_is_missing(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    partial = await factory.item(depot, serial="PART-1", marking_location="slide")
    complete = await factory.item(depot, serial="FULL-1", **COMPLETE)
    await login(client, (await factory.user(Role.INSPECTOR)).user.username)
    shown = (await client.get(f"/api/items/{partial.code}")).json()
    assert shown["missing_identifiers"] == ["country_of_manufacture", "year_of_manufacture"]
    assert shown["serial"] == "PART-1"  # the fields there before are unchanged
    assert (await client.get(f"/api/items/{complete.code}")).json()["missing_identifiers"] == []
    page = (await client.get(f"/items/{partial.code}")).text
    assert '<dd id="traceable">missing: country of manufacture, year of manufacture</dd>' in page
    assert '<dd id="traceable">yes</dd>' in (await client.get(f"/items/{complete.code}")).text


async def test_each_depot_counts_the_weapons_that_can_be_traced(client: httpx.AsyncClient, factory: Factory) -> None:
    depot, other = await factory.depot(), await factory.depot()
    for _ in range(2):
        await factory.item(depot, **COMPLETE)
    await factory.item(depot)  # no country, year or markings
    void = await factory.item(depot, **COMPLETE)
    await factory.items.change_status(OPERATOR, "item", void.code, StatusChange(Action.VOID, "typed twice"))
    await factory.item(depot, **COMPLETE, kind=ItemKind.COMPONENT, component_type=ComponentType.BARREL)
    await factory.item(other, serial="illegible", **COMPLETE)
    counts = await traceable_counts(factory.items.db, OPERATOR, [depot.id, other.id])
    assert {d: (c.weapons, c.traceable) for d, c in counts.items()} == {depot.id: (3, 2), other.id: (1, 0)}
    clerk = await factory.actor(Role.DEPOT_CLERK, [other])
    assert set(await traceable_counts(factory.items.db, clerk, [depot.id, other.id])) == {other.id}
    await login(client, (await factory.user(Role.DEPOT_MANAGER, [depot])).user.username)
    listed = (await client.get(f"/items/?depot_id={depot.id}")).text
    assert "2 of 3 weapons in this depot can be traced" in listed
    assert "/api/items/iarms.xml?" in listed
    await login(client, (await factory.user(Role.DEPOT_CLERK, [depot])).user.username)
    assert "/api/items/iarms" not in (await client.get("/items/")).text
