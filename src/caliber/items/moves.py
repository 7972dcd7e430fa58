"""Moving items and lots between shelves and from one status to another, each change a custody event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import AnyOf, rows_in
from caliber.depots.models import Depot, Location
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.items.access import DEPOT_STAFF, ItemBase, Moved, RecordKind, _in_chunks, _visible_depot
from caliber.items.events import (
    ItemMoved,
    ItemStatusChanged,
    LotMoved,
    LotStatusChanged,
    RecordMoved,
    StatusChanged,
)
from caliber.items.lifecycle import COUNTABLE, TRANSITIONS, Action, Status, transition
from caliber.items.models import AmmunitionLot, Item
from caliber.items.queries import _records_by_code
from caliber.items.records import squeeze
from caliber.items.schemas import StatusChange
from caliber.items.status import apply_transition

__all__ = ["ItemMoves", "apply_lifecycle"]

_MOVED: dict[RecordKind, type[RecordMoved]] = {"item": ItemMoved, "lot": LotMoved}
_STATUS_CHANGED: dict[RecordKind, type[StatusChanged]] = {"item": ItemStatusChanged, "lot": LotStatusChanged}


def _require_moveable(record: Any, location: Location) -> None:
    if record.depot_id != location.depot_id:
        raise Conflict(f"{record.code} is in another depot: dispatch it with a transfer instead")
    if Status(record.status) not in COUNTABLE:
        raise Conflict(f"{record.code} is {Status(record.status).label.lower()}: only records on the shelves can be moved")


_LOCATION = select(Location.__table__, Depot.code.label("depot_code")).join(Depot, Depot.id == Location.depot_id)
_LOCATION_BY_ID = _LOCATION.where(Location.id == bindparam("id"))
_LOCATION_BY_CODE = _LOCATION.where(Location.code == bindparam("code"))


async def _target_location(session: AsyncSession, location_id: UUID | None, location_code: str | None) -> Any:
    """The location a move names, with its depot's code (``depot_code``)."""
    if location_id is not None:
        found = await rows_in(session, _LOCATION_BY_ID, id=location_id)
    elif location_code is not None:
        found = await rows_in(session, _LOCATION_BY_CODE, code=location_code)
    else:
        raise InvalidInput("name the location to move to: its id or its label code", field="location_id")
    if not found:
        raise NotFound(f"no location {location_id or location_code}")
    return found[0]


def _placed_in(model: Any, kind: RecordKind) -> Select[Any]:
    return select(literal_column(f"'{kind}'").label("kind"), model.code, model.depot_id, model.location_id, model.status).where(
        AnyOf(model.code, "codes")
    )


_PLACED = union_all(_placed_in(Item, "item"), _placed_in(AmmunitionLot, "lot"))
"""Where items and lots are, by code: what a move reads, in one statement."""


async def _placed(session: AsyncSession, codes: Sequence[str]) -> dict[RecordKind, list[Any]]:
    """Code, depot, location and status of items and lots by code, in the order given, by kind; unknown codes raise
    :class:`NotFound` naming them."""
    wanted = list(dict.fromkeys(codes))
    found = {row.code: row for row in await rows_in(session, _PLACED, codes=wanted)}
    if missing := [c for c in wanted if c not in found]:
        raise NotFound(f"no item or lot with label code {', '.join(missing[:5])}")
    return {kind: [found[c] for c in wanted if found[c].kind == kind] for kind in ("item", "lot")}


async def apply_lifecycle(session: AsyncSession, codes: Sequence[str], action: Action, moment: dt.datetime) -> None:
    """Give records the status ``action`` leads to, from an applier of another domain's event that names them.

    The work flow's service checked every transition (:func:`transition`)
    before recording the event; :func:`apply_transition` checks and applies it to
    each record. Reporting a record missing keeps the status it had, to return
    to when it is found.
    """
    for model in (Item, AmmunitionLot):
        for (record,) in await _in_chunks(session, select(model), model.code, list(codes)):
            apply_transition(record, action, moment)
    await session.flush()


class ItemMoves(ItemBase):
    """Moves and status changes of items and lots."""

    async def move(self, actor: Actor, codes: Sequence[str], location_id: UUID | None = None, location_code: str | None = None) -> Moved:
        """Put records (items or lots, by code) into one location of their depot: one event per record that changes place."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            location = await _target_location(session, location_id, location_code)
            actor.require_depot(location.depot_id, location.depot_code)
            if not location.active:
                raise Conflict(f"location {location.path!r} is inactive")
            moved: list[str] = []
            for kind, records in (await _placed(session, codes)).items():
                events = []
                for record in records:
                    _require_moveable(record, location)
                    if record.location_id != location.id:
                        moved.append(record.code)
                        event = _MOVED[kind](
                            code=record.code,
                            depot_id=record.depot_id,
                            from_location=record.location_id,
                            to_location=location.id,
                        )
                        events.append((event, [record.code]))
                await tx.record_many(events)
            return Moved(location, moved)

    async def change_status(self, actor: Actor, kind: RecordKind, code: str, change: StatusChange) -> Any:
        """Take one lifecycle action on one record; the transition table decides whether it may."""
        return (await self.change_status_many(actor, kind, [code], change))[0]

    async def change_status_many(self, actor: Actor, kind: RecordKind, codes: Sequence[str], change: StatusChange) -> list[Any]:
        """Take one lifecycle action on many records (a manager declaring a shelf surplus): all or none, one event each."""
        action, reason, court_order = change.action, change.reason, change.court_order
        if not TRANSITIONS[action].manual:
            raise Conflict(f"{action.label.lower()} happens through its work flow (transfer, stock check or destruction)")
        async with self.ledger.write(actor) as tx:
            records = (await _records_by_code(tx.session, codes))[kind]
            if len(records) != len(set(codes)):
                raise NotFound(f"not every code names {'an item' if kind == 'item' else 'an ammunition lot'}")
            events = []
            for record in records:
                await _visible_depot(tx.session, actor, record.depot_id)
                status = Status(record.status)
                prior = Status(record.prior_status) if record.prior_status else None
                target = transition(action, status, prior, actor.role, code=record.code, court_order=court_order)
                event = _STATUS_CHANGED[kind](
                    code=record.code,
                    action=action,
                    from_=status,
                    to=target,
                    reason=squeeze(reason),
                    court_order=squeeze(court_order),
                )
                events.append((event, [record.code]))
            await tx.record_many(events)
            return records
