"""The scan page: look up, move and count are modes of one page; every outcome is named."""

from __future__ import annotations

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.destruction.service import DestructionService
from caliber.labels.codes import make_code
from caliber.stockchecks.schemas import NewStockCheck
from caliber.stockchecks.service import StockCheckService
from tests.destruction.helpers import approved, cast
from tests.factories import OPERATOR, Factory, csrf_headers, login
from tests.labels.layouts import typed

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def scan(client: httpx.AsyncClient, value: str, **state: str) -> str:
    response = await client.post("/scan/", data={"scan": value, **state}, headers={**csrf_headers(client), "HX-Request": "true"})
    assert response.status_code == 200
    return response.text


async def test_look_up_names_found_not_found_and_wrong_check_digit(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, serial="SCAN-1")
    await login(client, (await factory.user(Role.INSPECTOR)).user.username)
    garbled = typed(f"https://caliber.example.org/s/{item.code}", "serbian_cyrillic")
    assert 'data-outcome="found"' in (found := await scan(client, garbled))
    assert "S/N SCAN-1" in found
    wrong = item.code[:-1] + str((int(item.code[-1]) + 1) % 10)
    assert 'data-outcome="wrong_check"' in (page := await scan(client, wrong))
    assert "check digit wrong" in page
    assert 'data-outcome="not_found"' in await scan(client, make_code("weapon", 99_999_999))
    assert 'data-outcome="not_found"' in await scan(client, "hello")


async def test_move_mode_takes_a_location_then_records(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    shelf = await factory.location(depot, "Rack 4")
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    assert "scan the location" in (await scan(client, item.code, mode="move")).lower()
    assert shelf.code is not None
    assert 'data-outcome="place"' in await scan(client, shelf.code, mode="move")
    assert 'data-outcome="done"' in (page := await scan(client, item.code, mode="move", place=shelf.code))
    assert "moved to Rack 4" in page
    assert (await factory.items.get(OPERATOR, "item", item.code)).location_id == shelf.id


async def test_count_mode_records_scans_for_the_stock_check(
    client: httpx.AsyncClient, factory: Factory, stockchecks: StockCheckService
) -> None:
    depot = await factory.depot()
    shelf = await factory.location(depot, "Rack 5")
    item = await factory.item(depot, location_id=shelf.id)
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot])
    check = await stockchecks.open(OPERATOR, NewStockCheck(depot.id))
    await login(client, clerk.user.username)
    state = {"mode": "count", "check": str(check.check.id)}
    assert shelf.code is not None
    await scan(client, shelf.code, **state)
    assert 'data-outcome="done"' in await scan(client, item.code, place=shelf.code, **state)
    assert 'data-outcome="refused"' in await scan(client, make_code("weapon", 88_888_888), **state)  # counted as unknown
    result = (await stockchecks.get(OPERATOR, check.check.id)).result
    assert (result.found, result.unknown) == ([item.code], [make_code("weapon", 88_888_888)])


async def test_verify_mode_checks_a_destruction_manifest_scan_by_scan(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)
    event = await approved(destructions, day)
    stranger = await factory.item(day.depot)
    witness = await factory.user(Role.WITNESS)
    await login(client, witness.user.username)
    page = (await client.get(f"/scan/?mode=verify&event={event.id}")).text
    assert "0 verified" in page
    assert "2 remaining" in page
    state = {"mode": "verify", "event": str(event.id)}
    done = await scan(client, f"https://caliber.example.org/s/{day.codes[0]}", serial="D-00000", **state)
    assert 'data-outcome="done"' in done
    assert "serial confirmed" in done
    assert "1 verified" in done
    refused = await scan(client, day.codes[1], serial="WRONG-1", **state)
    assert 'data-outcome="refused"' in refused
    assert "differs" in refused
    unexpected = await scan(client, stranger.code, **state)
    assert "not on the manifest" in unexpected
    assert "1 unexpected" in unexpected
    assert "verified already" in await scan(client, day.codes[0], **state)
    assert (await destructions.get(OPERATOR, event.id)).counts == {"verified": 1, "listed": 1, "unexpected": 1}


@pytest.mark.parametrize(
    ("state", "says"), [({"mode": "count", "check": "x"}, "choose the check"), ({"mode": "verify", "event": "x"}, "choose the event")]
)
async def test_a_form_naming_no_stock_check_or_event_is_refused_not_a_server_error(
    state: dict[str, str], says: str, client: httpx.AsyncClient, factory: Factory
) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=[depot])).user.username)
    page = await scan(client, item.code, **state)
    assert 'data-outcome="refused"' in page
    assert says in page


async def test_a_place_that_is_no_label_is_refused_not_looked_up(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    for place in ("\x00", "Rack 4"):  # PostgreSQL refused the NUL in the statement: a 500
        page = await scan(client, item.code, mode="move", place=place)
        assert 'data-outcome="refused"' in page
        assert "no location label" in page
