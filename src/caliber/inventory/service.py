"""The only code that changes depots and locations.

Every public method that changes state runs in one write transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import String, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import Database
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.inventory.models import Depot, Jurisdiction, Location
from caliber.inventory.schemas import DepotUpdate, LocationUpdate, NewDepot, NewLocation

__all__ = ["PATH_SEPARATOR", "InventoryService"]

PATH_SEPARATOR = " / "
_LOCATION_EDITORS = (Role.ADMIN, Role.DEPOT_MANAGER)


class InventoryService:
    """Depots and the storage tree inside each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ---------------------------------------------------------

    async def jurisdictions(self) -> list[Jurisdiction]:
        """The six Roadmap jurisdictions."""
        async with self.db.read() as session:
            return list(await session.scalars(select(Jurisdiction).order_by(Jurisdiction.name)))

    async def depots(self, actor: Actor) -> list[Depot]:
        """The depots ``actor`` may see, by jurisdiction then code."""
        query = select(Depot).order_by(Depot.jurisdiction_code, Depot.code)
        if not actor.sees_all_depots:
            query = query.where(Depot.id.in_(actor.depot_ids))
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def depot(self, actor: Actor, depot_id: UUID) -> Depot:
        """One depot in ``actor``'s scope."""
        async with self.db.read() as session:
            return await _visible_depot(session, actor, depot_id)

    async def locations(self, actor: Actor, depot_id: UUID) -> list[Location]:
        """The storage tree of a depot in ``actor``'s scope, parents before children."""
        async with self.db.read() as session:
            await _visible_depot(session, actor, depot_id)
            query = select(Location).where(Location.depot_id == depot_id).order_by(Location.path)
            return list(await session.scalars(query))

    @staticmethod
    async def depot_ids_for_codes(session: AsyncSession, codes: Iterable[str]) -> dict[str, UUID]:
        """Depot ids by code, inside the caller's transaction; unknown codes raise :class:`InvalidInput`."""
        wanted = set(codes)
        if not wanted:
            return {}
        rows = await session.execute(select(Depot.code, Depot.id).where(Depot.code.in_(wanted)))
        found: dict[str, UUID] = dict(rows.all())
        missing = sorted(wanted - found.keys())
        if missing:
            raise InvalidInput(f"unknown depot code(s): {', '.join(missing)}", field="depots")
        return found

    @staticmethod
    async def depot_codes(session: AsyncSession, depot_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Depot codes by id, inside the caller's transaction."""
        ids = set(depot_ids)
        if not ids:
            return {}
        rows = await session.execute(select(Depot.id, Depot.code).where(Depot.id.in_(ids)))
        return dict(rows.all())

    # -- changing --------------------------------------------------------

    async def create_depot(self, actor: Actor, new: NewDepot) -> Depot:
        """Register a depot (admins only)."""
        actor.require_role(Role.ADMIN)
        async with self.db.write() as session:
            if await session.scalar(select(Depot.id).where(Depot.code == new.code)):
                raise Conflict(f"a depot with code {new.code} already exists")
            depot = Depot(
                code=new.code,
                name=new.name.strip(),
                kind=new.kind.value,
                jurisdiction_code=new.jurisdiction,
                address=new.address.strip(),
            )
            session.add(depot)
            await session.flush()
            return depot

    async def update_depot(self, actor: Actor, depot_id: UUID, changes: DepotUpdate) -> Depot:
        """Rename, re-describe, deactivate or reactivate a depot (admins only)."""
        actor.require_role(Role.ADMIN)
        async with self.db.write() as session:
            depot = await _visible_depot(session, actor, depot_id)
            if changes.name is not None:
                depot.name = changes.name.strip()
            if changes.kind is not None:
                depot.kind = changes.kind.value
            if changes.address is not None:
                depot.address = changes.address.strip()
            if changes.active is not None:
                depot.active = changes.active
            await session.flush()
            return depot

    async def create_location(self, actor: Actor, depot_id: UUID, new: NewLocation) -> Location:
        """Add a node to a depot's storage tree (admins, and managers of that depot)."""
        actor.require_role(*_LOCATION_EDITORS)
        async with self.db.write() as session:
            depot = await _visible_depot(session, actor, depot_id)
            if not depot.active:
                raise Conflict(f"depot {depot.code} is inactive: reactivate it before adding locations")
            name = new.name.strip()
            path = name
            if new.parent_id is not None:
                parent = await session.get(Location, new.parent_id)
                if parent is None or parent.depot_id != depot_id:
                    raise InvalidInput(f"parent location {new.parent_id} is not in depot {depot.code}", "parent_id")
                if not parent.active:
                    raise Conflict(f"location {parent.path} is inactive")
                path = parent.path + PATH_SEPARATOR + name
            await _require_free_path(session, depot_id, path)
            location = Location(depot_id=depot_id, parent_id=new.parent_id, kind=new.kind.value, name=name, path=path)
            session.add(location)
            await session.flush()
            return location

    async def update_location(self, actor: Actor, location_id: UUID, changes: LocationUpdate) -> Location:
        """Rename or (de)activate a location; a rename carries its children's paths along."""
        actor.require_role(*_LOCATION_EDITORS)
        async with self.db.write() as session:
            location = await session.get(Location, location_id)
            if location is None:
                raise NotFound(f"no location with id {location_id}")
            await _visible_depot(session, actor, location.depot_id)
            if changes.name is not None and changes.name.strip() != location.name:
                await _rename(session, location, changes.name.strip())
            if changes.active is False and location.active:
                await _require_no_active_children(session, location)
            if changes.active is not None:
                location.active = changes.active
            await session.flush()
            return location


async def _visible_depot(session: AsyncSession, actor: Actor, depot_id: UUID) -> Depot:
    depot = await session.get(Depot, depot_id)
    if depot is None:
        raise NotFound(f"no depot with id {depot_id}")
    actor.require_depot(depot.id, depot.code)
    return depot


async def _require_free_path(session: AsyncSession, depot_id: UUID, path: str) -> None:
    taken = await session.scalar(select(Location.id).where(Location.depot_id == depot_id, Location.path == path))
    if taken is not None:
        raise Conflict(f"location {path!r} already exists in this depot")


async def _require_no_active_children(session: AsyncSession, location: Location) -> None:
    query = select(func.count()).where(Location.parent_id == location.id, Location.active.is_(True))
    if await session.scalar(query):
        raise Conflict(f"location {location.path!r} has active locations inside: deactivate them first")


async def _rename(session: AsyncSession, location: Location, name: str) -> None:
    old_path = location.path
    head, _, _ = old_path.rpartition(PATH_SEPARATOR)
    new_path = f"{head}{PATH_SEPARATOR}{name}" if head else name
    await _require_free_path(session, location.depot_id, new_path)
    prefix = old_path + PATH_SEPARATOR
    await session.execute(
        update(Location)
        .where(Location.depot_id == location.depot_id, Location.path.startswith(prefix, autoescape=True))
        .values(path=literal(new_path + PATH_SEPARATOR, String).concat(func.substr(Location.path, len(prefix) + 1)))
        .execution_options(synchronize_session=False)
    )
    location.name = name
    location.path = new_path
