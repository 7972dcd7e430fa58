"""Stock checks: the expected list is fixed at opening; the reconciliation is right for any depot and any count."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliber.accounts.models import Role
from caliber.config import Settings
from caliber.errors import Conflict, InvalidInput, PermissionDenied
from caliber.items.lifecycle import Status
from caliber.items.service import ItemService
from caliber.stockchecks.schemas import NewStockCheck, Scan
from caliber.stockchecks.service import StockCheckService
from caliber.times import local_time
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def test_count_reconcile_and_close_by_a_second_person(factory: Factory, items: ItemService, stockchecks: StockCheckService) -> None:
    depot = await factory.depot()
    a, b = await factory.location(depot, "A"), await factory.location(depot, "B")
    present, moved, absent = [await factory.item(depot, location_id=a.id) for _ in range(3)]
    lot = await factory.lot(depot, location_id=b.id, quantity=500)
    stranger = await factory.item(await factory.depot())
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    manager = await factory.actor(Role.DEPOT_MANAGER, depots=[depot])

    view = await stockchecks.open(clerk, NewStockCheck(depot.id))
    assert {line.code for line in view.lines} == {present.code, moved.code, absent.code, lot.code}
    with pytest.raises(Conflict, match="under way"):
        await stockchecks.open(clerk, NewStockCheck(depot.id))
    late = await factory.item(depot, location_id=a.id)  # taken in after opening: not expected

    scans = [
        Scan(present.code, a.id),
        Scan(f"https://x/s/{moved.code}", b.id),
        Scan(lot.code, b.id, quantity=480),
        Scan(stranger.code, a.id),
        Scan(late.code, a.id),
    ]
    view = await stockchecks.scan(clerk, view.check.id, scans)
    result = view.result
    assert result.found == sorted([present.code, moved.code, lot.code])
    assert result.missing == [absent.code]
    assert result.wrong_location == [moved.code]
    assert result.unknown == sorted([stranger.code, late.code])
    assert result.lot_differences == [(lot.code, 500, 480)]

    with pytest.raises(Conflict, match="not finished counting"):
        await stockchecks.close(manager, view.check.id)
    await stockchecks.finish_counting(manager, view.check.id)
    with pytest.raises(Conflict, match="takes no more scans"):
        await stockchecks.scan(clerk, view.check.id, [Scan(absent.code)])
    with pytest.raises(PermissionDenied, match="whoever counts cannot confirm"):
        await stockchecks.close(manager, view.check.id)
    with pytest.raises(PermissionDenied):
        await stockchecks.close(clerk, view.check.id)
    closed = await stockchecks.close(await factory.actor(Role.DEPOT_MANAGER, depots=[depot]), view.check.id)
    assert (closed.check.status, closed.check.found, closed.check.missing, closed.check.lot_differences) == ("closed", 3, 1, 1)
    lost = await items.get(OPERATOR, "item", absent.code)
    assert (lost.status, lost.prior_status) == (Status.MISSING, Status.AWAITING_DECISION)
    due = {d.depot.id: d for d in await stockchecks.due(OPERATOR)}
    assert due[depot.id].due is False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=366)
    assert {d.depot.id: d.due for d in await stockchecks.due(OPERATOR, later)}[depot.id] is True


async def test_a_partial_count_covers_one_branch_of_the_tree(factory: Factory, stockchecks: StockCheckService) -> None:
    depot = await factory.depot()
    building = await factory.location(depot, "Building A")
    room = await factory.location(depot, "Room 1", parent=building)
    other = await factory.location(depot, "Building B")
    inside = await factory.item(depot, location_id=room.id)
    await factory.item(depot, location_id=other.id)
    view = await stockchecks.open(OPERATOR, NewStockCheck(depot.id, building.id))
    assert [line.code for line in view.lines] == [inside.code]
    with pytest.raises(InvalidInput, match="no label code"):
        await stockchecks.scan(OPERATOR, view.check.id, [Scan("not a code")])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_reconciliation_on_generated_depots(factory: Factory, stockchecks: StockCheckService, data: st.DataObject) -> None:
    depot = await factory.depot()
    shelves = [await factory.location(depot, f"Shelf {n}") for n in range(3)]
    placed = data.draw(st.lists(st.integers(0, 2), min_size=1, max_size=12), label="shelf of each item")
    records = [await factory.item(depot, location_id=shelves[s].id) for s in placed]
    view = await stockchecks.open(OPERATOR, NewStockCheck(depot.id))
    found_at = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 2)), min_size=len(records), max_size=len(records)), label="found")
    scans = [Scan(r.code, shelves[where].id) for r, where in zip(records, found_at, strict=True) if where is not None]
    if scans:
        view = await stockchecks.scan(OPERATOR, view.check.id, scans)
    result = view.result
    expected_missing = sorted(r.code for r, where in zip(records, found_at, strict=True) if where is None)
    expected_wrong = sorted(r.code for r, s, where in zip(records, placed, found_at, strict=True) if where is not None and where != s)
    assert result.missing == expected_missing
    assert result.wrong_location == expected_wrong
    assert len(result.found) + len(result.missing) == len(records)
    assert result.unknown == []


async def test_the_service_says_who_may_count_and_close_and_why_not(factory: Factory, stockchecks: StockCheckService) -> None:
    depot = await factory.depot()
    await factory.item(depot)
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    counter, second = [await factory.actor(Role.DEPOT_MANAGER, depots=[depot]) for _ in range(2)]
    witness = await factory.actor(Role.WITNESS)
    view = await stockchecks.open(clerk, NewStockCheck(depot.id))
    check = view.check

    assert stockchecks.can_count(clerk, check).allowed
    assert "needs the role" in stockchecks.can_count(witness, check).reason
    refused = stockchecks.can_close(second, view)
    assert (refused.allowed, refused.reason) == (False, "the counter has not finished counting")
    assert "needs the role" in stockchecks.can_close(clerk, view).reason

    view = await stockchecks.finish_counting(counter, check.id)
    check = view.check
    assert stockchecks.can_count(clerk, check).reason == "counting has finished: this check takes no more scans"
    own = stockchecks.can_close(counter, view)
    assert isinstance(own.refusal, PermissionDenied)
    assert own.reason == "you finished this count: whoever counts cannot confirm, another manager closes this check"
    assert stockchecks.can_close(second, view).allowed
    with pytest.raises(PermissionDenied, match=own.reason):  # the service refuses with the answer it gives
        await stockchecks.close(counter, check.id)

    view = await stockchecks.close(second, check.id)
    assert stockchecks.can_close(second, view).reason == "this check is closed already"


async def test_no_one_who_scanned_into_a_count_confirms_it_not_even_an_admin(factory: Factory, stockchecks: StockCheckService) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    scanner, finisher, other = [await factory.actor(Role.DEPOT_MANAGER, depots=[depot]) for _ in range(3)]
    admin = await factory.actor(Role.ADMIN)
    view = await stockchecks.open(finisher, NewStockCheck(depot.id))
    await stockchecks.scan(scanner, view.check.id, [Scan(item.code)])
    await stockchecks.scan(admin, view.check.id, [Scan(item.code)])
    view = await stockchecks.finish_counting(finisher, view.check.id)
    assert view.counters == {scanner.username, admin.username}
    reason = "you scanned records into this count: whoever counts cannot confirm, another manager closes this check"
    for counted in (scanner, admin):
        refused = stockchecks.can_close(counted, view)
        assert isinstance(refused.refusal, PermissionDenied)
        assert refused.reason == reason
        with pytest.raises(PermissionDenied, match=reason):
            await stockchecks.close(counted, view.check.id)
    with pytest.raises(PermissionDenied, match="you finished this count"):
        await stockchecks.close(finisher, view.check.id)
    assert stockchecks.can_close(other, view).allowed
    assert (await stockchecks.close(other, view.check.id)).check.status == "closed"


async def test_the_stock_check_page_gives_its_times_in_the_deployments_zone(
    factory: Factory, stockchecks: StockCheckService, client: httpx.AsyncClient, settings: Settings
) -> None:
    """The tables keep UTC; the page says when in local time, the zone named (it once showed UTC with no zone)."""
    depot = await factory.depot()
    manager = await factory.user(Role.DEPOT_MANAGER, depots=[depot])
    view = await stockchecks.open(await factory.actor(Role.DEPOT_MANAGER, depots=[depot]), NewStockCheck(depot.id))
    opened = view.check.opened_at
    await login(client, manager.user.username)
    page = (await client.get(f"/stockchecks/{view.check.id}")).text
    assert local_time(opened, settings.zone) in page  # 2026-12-04 20:35 Europe/Belgrade
    assert f"on {opened:%Y-%m-%d %H:%M}" not in page  # not the UTC clock: Belgrade is one or two hours ahead
