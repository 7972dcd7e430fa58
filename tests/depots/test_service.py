"""Depots and the storage tree through the inventory service."""

from __future__ import annotations

import pytest

from caliber.accounts.models import Role
from caliber.depots.models import DepotKind, LocationKind
from caliber.depots.schemas import DepotUpdate, LocationUpdate, NewLocation
from caliber.depots.service import DepotService
from caliber.errors import Conflict, InvalidInput, PermissionDenied
from tests.factories import OPERATOR, PASSWORD, Factory


async def test_records_get_time_ordered_uuid7_keys(factory: Factory) -> None:
    first, second = await factory.depot(), await factory.depot()
    assert first.id.version == 7
    assert first.id < second.id
    assert first.created_at <= second.created_at


async def test_depot_codes_are_unique(factory: Factory) -> None:
    await factory.depot(code="RS-A-1")
    with pytest.raises(Conflict, match="RS-A-1 already exists"):
        await factory.depot(code="RS-A-1")


async def test_a_depot_is_renamed_and_deactivated_not_deleted(inventory: DepotService, factory: Factory) -> None:
    depot = await factory.depot(name="Old name")
    await inventory.update_depot(OPERATOR, depot.id, DepotUpdate(name="New name", kind=DepotKind.COLLECTION_POINT, active=False))
    again = await inventory.depot(OPERATOR, depot.id)
    assert (again.name, again.kind, again.active) == ("New name", "collection_point", False)
    assert depot.id in {d.id for d in await inventory.depots(OPERATOR)}


async def test_locations_form_a_tree_with_full_paths(inventory: DepotService, factory: Factory) -> None:
    depot = await factory.depot()
    building = await factory.location(depot, "Building A", kind=LocationKind.BUILDING)
    room = await factory.location(depot, "Room 1", parent=building)
    await factory.location(depot, "Rack 7", parent=room, kind=LocationKind.RACK)
    paths = [loc.path for loc in await inventory.locations(OPERATOR, depot.id)]
    assert paths == ["Building A", "Building A / Room 1", "Building A / Room 1 / Rack 7"]


async def test_sibling_names_are_unique_but_may_repeat_elsewhere(factory: Factory) -> None:
    depot = await factory.depot()
    first, second = await factory.location(depot, "Building A"), await factory.location(depot, "Building B")
    await factory.location(depot, "Room 1", parent=first)
    await factory.location(depot, "Room 1", parent=second)
    with pytest.raises(Conflict, match="already exists"):
        await factory.location(depot, "Room 1", parent=first)


async def test_renaming_a_location_carries_its_children_along(inventory: DepotService, factory: Factory) -> None:
    depot = await factory.depot()
    building = await factory.location(depot, "Building A")
    room = await factory.location(depot, "Room 1", parent=building)
    await factory.location(depot, "Rack 1", parent=room)
    lookalike = await factory.location(depot, "Building A%")  # LIKE wildcards in names must not match
    await inventory.update_location(OPERATOR, building.id, LocationUpdate(name="Store 2"))
    paths = sorted(loc.path for loc in await inventory.locations(OPERATOR, depot.id))
    assert paths == sorted(["Store 2", "Store 2 / Room 1", "Store 2 / Room 1 / Rack 1", lookalike.path])


async def test_a_location_with_active_children_cannot_be_deactivated(inventory: DepotService, factory: Factory) -> None:
    depot = await factory.depot()
    building = await factory.location(depot, "Building A")
    room = await factory.location(depot, "Room 1", parent=building)
    with pytest.raises(Conflict, match="deactivate them first"):
        await inventory.update_location(OPERATOR, building.id, LocationUpdate(active=False))
    await inventory.update_location(OPERATOR, room.id, LocationUpdate(active=False))
    await inventory.update_location(OPERATOR, building.id, LocationUpdate(active=False))
    with pytest.raises(Conflict, match="inactive"):
        await factory.location(depot, "Room 2", parent=building)


async def test_a_parent_from_another_depot_is_refused(inventory: DepotService, factory: Factory) -> None:
    depot, other = await factory.depot(), await factory.depot()
    foreign = await factory.location(other, "Building X")
    with pytest.raises(InvalidInput, match="not in depot"):
        await inventory.create_location(OPERATOR, depot.id, NewLocation(LocationKind.ROOM, "Room", foreign.id))


async def test_depot_staff_see_and_change_only_their_depots(inventory: DepotService, factory: Factory) -> None:
    mine, other = await factory.depot(), await factory.depot()
    manager = await factory.user(Role.DEPOT_MANAGER, depots=[mine])
    actor, _ = await factory.accounts.login(manager.user.username, PASSWORD, "10.20.0.1")
    assert [d.id for d in await inventory.depots(actor)] == [mine.id]
    await inventory.create_location(actor, mine.id, NewLocation(LocationKind.ROOM, "Room 1"))
    with pytest.raises(PermissionDenied, match=other.code):
        await inventory.depot(actor, other.id)
    with pytest.raises(PermissionDenied):
        await inventory.create_location(actor, other.id, NewLocation(LocationKind.ROOM, "Room 1"))


async def test_clerks_cannot_change_the_storage_tree(inventory: DepotService, factory: Factory) -> None:
    depot = await factory.depot()
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot])
    actor, _ = await factory.accounts.login(clerk.user.username, PASSWORD, "10.21.0.1")
    with pytest.raises(PermissionDenied, match="depot_manager"):
        await inventory.create_location(actor, depot.id, NewLocation(LocationKind.ROOM, "Room 1"))
