"""What applies the events of weapons, components and ammunition lots to their tables, live and on replay."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import AnyOf, execute_many, insert_many, rows_in, sync_loaded
from caliber.imports.models import ImportRow
from caliber.items.access import ITEM_FIELDS, LOT_FIELDS, _in_chunks
from caliber.items.events import (
    ItemCorrected,
    ItemDuplicateReviewed,
    ItemMoved,
    ItemPhotoAdded,
    ItemRegistered,
    ItemStatusChanged,
    LotCorrected,
    LotMoved,
    LotRegistered,
    LotSplit,
    LotStatusChanged,
    RecordMoved,
    StatusChanged,
)
from caliber.items.models import AmmunitionLot, Item, ItemPhoto
from caliber.items.records import grams, identity_key, serial_key
from caliber.items.status import apply_transition
from caliber.labels import service as labels
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers

__all__ = ["appliers"]

appliers = Appliers("items", tables=["item", "item_photo", "ammunition_lot", "import_row"])
"""The events of weapons, components and ammunition lots, and what applies them (label codes are the labels'
table: ``label``)."""


MovedEvent = TypeVar("MovedEvent", bound=RecordMoved)
StatusEvent = TypeVar("StatusEvent", bound=StatusChanged)


# -- appliers: the one place each event changes the tables (live and on replay) --


def _column(value: Any) -> Any:
    """A field of an event as its table stores it (enumerations by their value)."""
    return value.value if isinstance(value, enum.Enum) else value


@appliers.on(ItemRegistered, batch=True)
async def _items_registered(session: AsyncSession, events: list[Recorded[ItemRegistered]]) -> None:
    rows = []
    times: dict[str, dt.datetime] = {}  # events recorded together share their time
    for event in events:
        data = event.data
        moment = times.get(event.time) or times.setdefault(event.time, event.moment)
        row = {name: _column(getattr(data, name)) for name in ITEM_FIELDS}
        row |= {
            "id": data.id,
            "code": data.code,
            "serial_key": serial_key(data.serial),
            "identity_key": identity_key(data.manufacturer, data.model, data.calibre, data.serial),
            "depot_id": data.depot_id,
            "location_id": data.location_id,
            "status": data.status.value,
            "prior_status": None,
            "duplicate_review": "open" if data.duplicates else None,
            "registered_at": moment,
            "status_changed_at": moment,
        }
        rows.append(row)
    await insert_many(session, Item.__table__, rows)
    await labels.register_codes(session, "item", [(row["code"], row["id"]) for row in rows])
    await _remember_import_rows(session, [event.data for event in events])


@appliers.on(LotRegistered, batch=True)
async def _lots_registered(session: AsyncSession, events: list[Recorded[LotRegistered]]) -> None:
    rows = []
    for event in events:
        data = event.data
        moment = event.moment
        row = {name: _column(getattr(data, name)) for name in LOT_FIELDS if not name.endswith("_kg")}
        row |= {
            "id": data.id,
            "code": data.code,
            "parent_code": None,
            "gross_mass_g": grams(data.gross_mass_kg),
            "net_explosive_mass_g": grams(data.net_explosive_mass_kg),
            "depot_id": data.depot_id,
            "location_id": data.location_id,
            "status": data.status.value,
            "prior_status": None,
            "registered_at": moment,
            "status_changed_at": moment,
        }
        rows.append(row)
    await insert_many(session, AmmunitionLot.__table__, rows)
    await labels.register_codes(session, "lot", [(row["code"], row["id"]) for row in rows])
    await _remember_import_rows(session, [event.data for event in events])


async def _remember_import_rows(session: AsyncSession, registered: Sequence[ItemRegistered | LotRegistered]) -> None:
    """Which file row each imported record came from: the same file never imports a row twice."""
    imported = [{"file_sha256": data.source_file, "row": data.source_row, "code": data.code} for data in registered if data.source_file]
    await insert_many(session, ImportRow.__table__, imported)


async def _applied_record(session: AsyncSession, model: Any, code: str) -> Any:
    record = await session.scalar(select(model).where(model.code == code))
    if record is None:
        raise LookupError(f"an event names {code}, which no earlier event registered")
    return record


def _moves_of(model: Any) -> tuple[Select[Any], Any]:
    return (
        select(model.id, model.code).where(AnyOf(model.code, "codes")),
        update(model.__table__)
        .where(model.__table__.c.code == bindparam("record"))
        .values(location_id=bindparam("to_location"), updated_at=bindparam("moment")),
    )


_MOVES = {Item: _moves_of(Item), AmmunitionLot: _moves_of(AmmunitionLot)}


async def _moved(session: AsyncSession, model: Any, events: Sequence[Recorded[MovedEvent]]) -> None:
    known, move = _MOVES[model]
    ids = {row.code: row.id for row in await rows_in(session, known, codes=sorted({e.data.code for e in events}))}
    changes = []
    for event in events:
        code, to = event.data.code, event.data.to_location
        if code not in ids:
            raise LookupError(f"an event names {code}, which no earlier event registered")
        changes.append({"record": code, "to_location": to, "moment": event.moment})
    await execute_many(session, move, changes)
    sync_loaded(session, model, [(ids[change["record"]], {"location_id": change["to_location"]}) for change in changes])


@appliers.on(ItemMoved, batch=True)
async def _items_moved(session: AsyncSession, events: list[Recorded[ItemMoved]]) -> None:
    await _moved(session, Item, events)


@appliers.on(LotMoved, batch=True)
async def _lots_moved(session: AsyncSession, events: list[Recorded[LotMoved]]) -> None:
    await _moved(session, AmmunitionLot, events)


async def _statuses_changed(session: AsyncSession, model: Any, events: Sequence[Recorded[StatusEvent]]) -> None:
    codes = list(dict.fromkeys(e.data.code for e in events))
    records = {r.code: r for (r,) in await _in_chunks(session, select(model), model.code, codes)}
    for event in events:
        data = event.data
        record = records.get(data.code)
        if record is None:
            raise LookupError(f"an event names {data.code}, which no earlier event registered")
        moved = apply_transition(record, data.action, event.moment, court_order=data.court_order)
        if moved is not data.to:
            raise LookupError(f"an event moves {data.code} to {data.to.value}, where the records lead it to {moved.value}")
    await session.flush()


@appliers.on(ItemStatusChanged, batch=True)
async def _item_status_changed(session: AsyncSession, events: list[Recorded[ItemStatusChanged]]) -> None:
    await _statuses_changed(session, Item, events)


@appliers.on(LotStatusChanged, batch=True)
async def _lot_status_changed(session: AsyncSession, events: list[Recorded[LotStatusChanged]]) -> None:
    await _statuses_changed(session, AmmunitionLot, events)


@appliers.on(ItemCorrected)
async def _item_corrected(session: AsyncSession, event: Recorded[ItemCorrected]) -> None:
    data = event.data
    item = await _applied_record(session, Item, data.code)
    setattr(item, data.field, data.new)
    item.serial_key = serial_key(item.serial)
    item.identity_key = identity_key(item.manufacturer, item.model, item.calibre, item.serial)
    await session.flush()


@appliers.on(LotCorrected)
async def _lot_corrected(session: AsyncSession, event: Recorded[LotCorrected]) -> None:
    data = event.data
    lot = await _applied_record(session, AmmunitionLot, data.code)
    if data.field.endswith("_kg"):
        setattr(lot, data.field.removesuffix("_kg") + "_g", grams(str(data.new)))
    else:
        setattr(lot, data.field, data.new)
    await session.flush()


@appliers.on(ItemDuplicateReviewed)
async def _duplicate_reviewed(session: AsyncSession, event: Recorded[ItemDuplicateReviewed]) -> None:
    item = await _applied_record(session, Item, event.data.code)
    item.duplicate_review = "cleared"
    await session.flush()


@appliers.on(ItemPhotoAdded)
async def _photo_added(session: AsyncSession, event: Recorded[ItemPhotoAdded]) -> None:
    data = event.data
    item = await _applied_record(session, Item, data.code)
    session.add(ItemPhoto(item_id=item.id, sha256=data.sha256, content_type=data.content_type, size=data.size))
    await session.flush()


@appliers.on(LotSplit)
async def _lot_split(session: AsyncSession, event: Recorded[LotSplit]) -> None:
    data = event.data
    parent = await _applied_record(session, AmmunitionLot, data.code)
    part_gross, part_net = grams(data.gross_mass_kg), grams(data.net_explosive_mass_kg)
    if not 0 < data.quantity < parent.quantity or part_gross > parent.gross_mass_g or part_net > parent.net_explosive_mass_g:
        raise ValueError(f"split of {parent.code} takes more than the lot holds")
    parent.quantity -= data.quantity
    parent.gross_mass_g -= part_gross
    parent.net_explosive_mass_g -= part_net
    moment = event.moment
    copied = {name: getattr(parent, name) for name in LOT_FIELDS if not name.endswith("_kg") and name != "quantity"}
    session.add(
        AmmunitionLot(
            **copied,
            id=data.new_id,
            code=data.new_code,
            parent_code=parent.code,
            quantity=data.quantity,
            gross_mass_g=part_gross,
            net_explosive_mass_g=part_net,
            depot_id=parent.depot_id,
            location_id=data.location_id,
            status=parent.status,
            prior_status=parent.prior_status,
            registered_at=moment,
            status_changed_at=moment,
        )
    )
    await session.flush()
    await labels.register_codes(session, "lot", [(data.new_code, data.new_id)])
