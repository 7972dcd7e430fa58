"""The only code that changes depots and locations: each change is a custody event on the ledger.

Events and what they carry in ``data``:

- ``depot.registered``: id, code, name, kind, jurisdiction, address
- ``depot.changed``: id, changes {field: {old, new}} for name, kind, address, active
- ``location.created``: id, code (its label code), depot_id, parent_id, kind, name, path
- ``location.renamed``: id, depot_id, old_name, new_name, old_path, new_path (children follow)
- ``location.changed``: id, changes {active: {old, new}}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import String, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import Database, new_id, rows_in, table_of
from caliber.depots.events import DepotChanged, DepotRegistered, LocationChanged, LocationCreated, LocationRenamed
from caliber.depots.models import Depot, Jurisdiction, Location
from caliber.depots.schemas import DepotUpdate, LocationUpdate, NewDepot, NewLocation
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.labels import service as labels
from caliber.ledger.events import Change, Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger, apply_changes, changes_of
from caliber.transfers.models import Transfer

__all__ = ["PATH_SEPARATOR", "DepotService", "appliers", "depot_subject", "location_subject"]

M = TypeVar("M")

appliers = Appliers("depots", tables=["depot", "location"])
"""The events of depots and their storage trees, and what applies them."""

_DEPOT_JURISDICTIONS = select(Depot.id, Depot.jurisdiction_code)
_JURISDICTION = _DEPOT_JURISDICTIONS.where(Depot.id == bindparam("id"))

PATH_SEPARATOR = " / "
_LOCATION_EDITORS = (Role.ADMIN, Role.DEPOT_MANAGER)


def depot_subject(depot_id: UUID) -> str:
    """The ledger subject of a depot."""
    return f"depot:{depot_id}"


def location_subject(location_id: UUID) -> str:
    """The ledger subject of a storage location."""
    return f"location:{location_id}"


class DepotService:
    """Depots and the storage tree inside each."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.db = ledger.db

    # -- reading ---------------------------------------------------------

    async def jurisdictions(self) -> list[Jurisdiction]:
        """The six Roadmap jurisdictions."""
        async with self.db.read() as session:
            return await self.jurisdictions_in(session)

    @staticmethod
    async def jurisdictions_in(session: AsyncSession) -> list[Jurisdiction]:
        """The jurisdictions, by name, inside the caller's transaction."""
        return list(await session.scalars(select(Jurisdiction).order_by(Jurisdiction.name)))

    @staticmethod
    async def depot_ids_in(db: Database, jurisdictions: frozenset[str]) -> frozenset[UUID]:
        """The ids of the depots in ``jurisdictions``, read outside any transaction (every request of a reader asks)."""
        return frozenset(depot_id for depot_id, code in await db.fetch(_DEPOT_JURISDICTIONS) if code in jurisdictions)

    async def depots(self, actor: Actor) -> list[Depot]:
        """The depots ``actor`` may see, by jurisdiction then code."""
        query = select(Depot).order_by(Depot.jurisdiction_code, Depot.code)
        if not actor.sees_all_depots:
            query = query.where(Depot.id.in_(actor.depot_ids))
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def all_depots(self) -> list[Depot]:
        """Every depot, by code: the names to choose a transfer's destination from (nothing inside them)."""
        async with self.db.read() as session:
            return list(await session.scalars(select(Depot).order_by(Depot.code)))

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

    async def active_locations(self, depots: Iterable[Depot]) -> dict[UUID, list[Location]]:
        """The active locations of several depots (already in the caller's scope), by depot, in one query."""
        ids = [depot.id for depot in depots]
        found: dict[UUID, list[Location]] = {depot_id: [] for depot_id in ids}
        if ids:
            query = select(Location).where(Location.depot_id.in_(ids), Location.active.is_(True)).order_by(Location.path)
            async with self.db.read() as session:
                for location in await session.scalars(query):
                    found[location.depot_id].append(location)
        return found

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
    async def jurisdictions_of(session: AsyncSession, depot_ids: Iterable[UUID]) -> dict[UUID, str]:
        """``depot id -> jurisdiction code`` (for projections of other domains)."""
        found: dict[UUID, str] = {}
        for depot_id in set(depot_ids):  # a few depots at most: one indexed look-up each
            found.update(await rows_in(session, _JURISDICTION, id=depot_id))
        return found

    @staticmethod
    async def transfer_destination(session: AsyncSession, transfer_id: UUID) -> UUID:
        """The depot a transfer goes to."""
        transfer = await session.get(Transfer, transfer_id)
        if transfer is None:
            raise LookupError(f"transfer {transfer_id} was never dispatched")
        return transfer.to_depot_id

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
        async with self.ledger.write(actor) as tx:
            if await tx.session.scalar(select(Depot.id).where(Depot.code == new.code)):
                raise Conflict(f"a depot with code {new.code} already exists")
            depot_id = new_id()
            event = DepotRegistered(
                id=depot_id,
                code=new.code,
                name=new.name.strip(),
                kind=new.kind,
                jurisdiction=new.jurisdiction,
                address=new.address.strip(),
            )
            await tx.record(event, [depot_subject(depot_id)])
            return await _get(tx.session, Depot, depot_id)

    async def update_depot(self, actor: Actor, depot_id: UUID, changes: DepotUpdate) -> Depot:
        """Rename, re-describe, deactivate or reactivate a depot (admins only)."""
        actor.require_role(Role.ADMIN)
        async with self.ledger.write(actor) as tx:
            depot = await _visible_depot(tx.session, actor, depot_id)
            wanted = {
                "name": changes.name.strip() if changes.name is not None else None,
                "kind": changes.kind.value if changes.kind is not None else None,
                "address": changes.address.strip() if changes.address is not None else None,
                "active": changes.active,
            }
            if diff := changes_of(depot, wanted):
                await tx.record(DepotChanged(id=depot.id, changes=diff), [depot_subject(depot.id)])
            return depot

    async def create_location(self, actor: Actor, depot_id: UUID, new: NewLocation) -> Location:
        """Add a node to a depot's storage tree (admins, and managers of that depot)."""
        actor.require_role(*_LOCATION_EDITORS)
        async with self.ledger.write(actor) as tx:
            session = tx.session
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
            location_id = new_id()
            (code,) = await labels.issue_codes(session, "location", 1)
            event = LocationCreated(
                id=location_id,
                code=code,
                depot_id=depot_id,
                parent_id=new.parent_id,
                kind=new.kind,
                name=name,
                path=path,
            )
            await tx.record(event, [location_subject(location_id), depot_subject(depot_id)])
            return await _get(session, Location, location_id)

    async def update_location(self, actor: Actor, location_id: UUID, changes: LocationUpdate) -> Location:
        """Rename or (de)activate a location; a rename carries its children's paths along."""
        actor.require_role(*_LOCATION_EDITORS)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            location = await _get(session, Location, location_id)
            await _visible_depot(session, actor, location.depot_id)
            subjects = [location_subject(location.id)]
            if changes.name is not None and changes.name.strip() != location.name:
                name = changes.name.strip()
                head, _, _ = location.path.rpartition(PATH_SEPARATOR)
                new_path = f"{head}{PATH_SEPARATOR}{name}" if head else name
                await _require_free_path(session, location.depot_id, new_path)
                renamed = LocationRenamed(
                    id=location.id,
                    depot_id=location.depot_id,
                    old_name=location.name,
                    new_name=name,
                    old_path=location.path,
                    new_path=new_path,
                )
                await tx.record(renamed, subjects)
            if changes.active is False and location.active:
                await _require_no_active_children(session, location)
            if diff := changes_of(location, {"active": changes.active}):
                await tx.record(LocationChanged(id=location.id, changes=diff), subjects)
            return location


async def _get(session: AsyncSession, model: type[M], record_id: UUID) -> M:
    record = await session.get(model, record_id)
    if record is None:
        raise NotFound(f"no {table_of(model).name} with id {record_id}")
    return record


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


# -- appliers: the one place each event changes the tables (live and on replay) --


@appliers.on(DepotRegistered)
async def _depot_registered(session: AsyncSession, event: Recorded[DepotRegistered]) -> None:
    data = event.data
    session.add(
        Depot(
            id=data.id,
            code=data.code,
            name=data.name,
            kind=data.kind,
            jurisdiction_code=data.jurisdiction,
            address=data.address,
        )
    )
    await session.flush()


async def _apply_changes(session: AsyncSession, model: Any, record_id: UUID, changes: dict[str, Change]) -> None:
    apply_changes(await _get(session, model, record_id), changes)
    await session.flush()


@appliers.on(DepotChanged)
async def _depot_changed(session: AsyncSession, event: Recorded[DepotChanged]) -> None:
    await _apply_changes(session, Depot, event.data.id, event.data.changes)


@appliers.on(LocationCreated)
async def _location_created(session: AsyncSession, event: Recorded[LocationCreated]) -> None:
    data = event.data
    session.add(
        Location(
            id=data.id,
            depot_id=data.depot_id,
            parent_id=data.parent_id,
            kind=data.kind,
            name=data.name,
            path=data.path,
            code=data.code,
        )
    )
    await session.flush()
    await labels.register_codes(session, "location", [(data.code, data.id)])


@appliers.on(LocationRenamed)
async def _location_renamed(session: AsyncSession, event: Recorded[LocationRenamed]) -> None:
    data = event.data
    location = await _get(session, Location, data.id)
    prefix = data.old_path + PATH_SEPARATOR
    await session.execute(
        update(Location)
        .where(Location.depot_id == location.depot_id, Location.path.startswith(prefix, autoescape=True))
        .values(path=literal(data.new_path + PATH_SEPARATOR, String).concat(func.substr(Location.path, len(prefix) + 1)))
        .execution_options(synchronize_session=False)
    )
    location.name = data.new_name
    location.path = data.new_path
    await session.flush()


@appliers.on(LocationChanged)
async def _location_changed(session: AsyncSession, event: Recorded[LocationChanged]) -> None:
    await _apply_changes(session, Location, event.data.id, event.data.changes)
