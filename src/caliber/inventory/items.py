"""The only code that changes weapons, components and ammunition lots: each change is a custody event.

Events (their structs are in ``caliber.inventory.events``; ``data`` is flat, so the
verifier reads them on its fast path):

- ``item.registered`` (:class:`ItemRegistered`): every field of the record, its label code, depot,
  location, status and ``duplicates`` (codes of records with the same identity)
- ``lot.registered`` (:class:`LotRegistered`): every field of the lot, masses as decimal strings of kg
- ``item.moved`` / ``lot.moved`` (:class:`ItemMoved`, :class:`LotMoved`)
- ``item.status_changed`` / ``lot.status_changed`` (:class:`ItemStatusChanged`, :class:`LotStatusChanged`)
- ``item.corrected`` / ``lot.corrected`` (:class:`ItemCorrected`, :class:`LotCorrected`)
- ``item.duplicate_reviewed`` (:class:`ItemDuplicateReviewed`)
- ``item.photo_added`` (:class:`ItemPhotoAdded`)
- ``lot.split`` (:class:`LotSplit`)

Every record's label code is its ledger subject, so its custody timeline is
the chain of events about that code.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from uuid import UUID

from sqlalchemy import Select, bindparam, literal_column, select, union_all, update
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import AnyOf, execute_many, insert_many, new_id, rows_in, sync_loaded
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.forms import decode
from caliber.inventory import fields
from caliber.inventory.countries import COUNTRY_CODES
from caliber.inventory.duplicates import PossibleDuplicate, possible_duplicates
from caliber.inventory.events import (
    Corrected,
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
from caliber.inventory.lifecycle import COUNTABLE, IN_STORAGE, TRANSITIONS, Action, IntakeSource, Status, intake_status, transition
from caliber.inventory.models import AmmunitionLot, Depot, ImportRow, Item, ItemKind, ItemPhoto, Location
from caliber.inventory.records import UNREADABLE_SERIALS, grams, identity_key, kilograms, serial_key, squeeze
from caliber.inventory.schemas import Correction, NewItem, NewLot, StatusChange
from caliber.inventory.status import apply_transition
from caliber.labels import service as labels
from caliber.labels.codes import CodeError, find_code, read_code
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import CustodyTransaction, Ledger

__all__ = [
    "DEPOT_STAFF",
    "PHOTO_TYPES",
    "ItemService",
    "Moved",
    "Page",
    "RecordKind",
    "appliers",
    "apply_lifecycle",
    "check_item",
    "check_lot",
    "photo_file",
    "records_by_code",
    "store_photo",
]

DEPOT_STAFF = (Role.DEPOT_CLERK, Role.DEPOT_MANAGER, Role.ADMIN)
MANAGERS = (Role.DEPOT_MANAGER, Role.ADMIN)
PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "image/webp": b"RIFF"}
MAX_PHOTO_BYTES = 20 * 1024 * 1024
LOOKUP_CHUNK = 500  # values per IN (...) list
RecordKind = Literal["item", "lot"]

appliers = Appliers("items", tables=["item", "item_photo", "ammunition_lot", "import_row"])
"""The events of weapons, components and ammunition lots, and what applies them (label codes are the labels'
table: ``label``)."""

_MOVED: dict[RecordKind, type[RecordMoved]] = {"item": ItemMoved, "lot": LotMoved}
_STATUS_CHANGED: dict[RecordKind, type[StatusChanged]] = {"item": ItemStatusChanged, "lot": LotStatusChanged}
_CORRECTED: dict[RecordKind, type[Corrected]] = {"item": ItemCorrected, "lot": LotCorrected}
MovedEvent = TypeVar("MovedEvent", bound=RecordMoved)
StatusEvent = TypeVar("StatusEvent", bound=StatusChanged)

ITEM_FIELDS = fields.ITEM.described
"""The fields of a weapon or component itself (not where it is): what ``item.registered`` carries."""
LOT_FIELDS = fields.LOT.described
"""The fields of an ammunition lot itself: what ``lot.registered`` carries (masses as decimal strings of kg)."""
_SHA256 = re.compile("[0-9a-f]{64}")


@dataclass(frozen=True)
class Page:
    """One page of search results and the cursor of the next page (None: last page)."""

    records: list[Any]
    next_after: UUID | None


@dataclass(frozen=True, slots=True)
class Labelled:
    """A record found by its label code: enough to name it and link to its page (see ``page_url``)."""

    kind: str
    code: str
    id: UUID
    depot_id: UUID | None

    @property
    def record_id(self) -> UUID:
        """The record's id (what a destruction label names)."""
        return self.id


def _labelled_in(model: Any, kind: str) -> Select[Any]:
    return (
        select(literal_column(f"'{kind}'"), model.id, model.depot_id, Depot.code)
        .join(Depot, Depot.id == model.depot_id)
        .where(model.code == bindparam("code"))
    )


_LABELLED = union_all(_labelled_in(Item, "item"), _labelled_in(AmmunitionLot, "lot"), _labelled_in(Location, "location"))
"""A weapon, lot or shelf by its label code, with its depot: three unique-index lookups in one statement."""


def event_time(event: dict[str, Any]) -> dt.datetime:
    """When an event was recorded."""
    return dt.datetime.fromisoformat(event["time"])


_UNTIDY = re.compile(r"^\s|\s$|\s\s|[^\S ]")


def _value(value: Any) -> Any:
    """A struct field as an event carries it: enums by value, text trimmed (white space runs made one space, but
    line breaks kept in longer text)."""
    if isinstance(value, enum.Enum):
        return value.value
    if type(value) is str and _UNTIDY.search(value):
        return squeeze(value) if "\n" not in value else value.strip()
    return value


def _model(kind: RecordKind) -> type[Item] | type[AmmunitionLot]:
    return Item if kind == "item" else AmmunitionLot


@dataclass(frozen=True)
class Moved:
    """Where records were put, and those of them that changed place (the others were there already)."""

    location: Location
    codes: list[str]


class ItemService:
    """Intake, look-up, moves, lifecycle actions, corrections and splits of items and lots."""

    def __init__(self, ledger: Ledger, photo_dir: Path) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.photo_dir = photo_dir

    # -- intake ----------------------------------------------------------

    async def register_items(self, actor: Actor, items: Sequence[NewItem]) -> list[Any]:
        """Take weapons and components into custody, each with a new label code; one transaction for all.

        Returns the rows written to the item table (named tuples with the model's attributes), in order.
        """
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            codes = await self.record_items(tx, actor, items)
            found = {row.code: row for row in await rows_in(tx.session, _ITEMS_BY_CODE, codes=codes)}
            return [found[code] for code in codes]

    async def record_items(
        self, tx: CustodyTransaction, actor: Actor, items: Sequence[NewItem], sources: Sequence[tuple[str, int]] | None = None
    ) -> list[str]:
        """Validate and record ``item.registered`` events inside ``tx``; returns the codes.

        Imports pass ``sources``: the file's SHA-256 and the row number of each
        record, carried in its event so the same row is never imported twice.
        """
        session = tx.session
        await _check_places(session, actor, [(i.depot_id, i.location_id) for i in items])
        for position, item in enumerate(items):
            check_item(item, position if len(items) > 1 else None)
        parents = {i.parent_code for i in items if i.parent_code}
        if parents:
            found = {code for (code,) in await _in_chunks(session, select(Item.code), Item.code, parents)}
            if missing := sorted(parents - found):
                raise InvalidInput(f"no weapon with label code {missing[0]} to be the parent of a component", field="parent_code")
        duplicates = await _duplicates(session, items)
        kinds = ["weapon" if item.kind is ItemKind.WEAPON else "component" for item in items]
        issued = {kind: iter(await labels.issue_codes(session, kind, kinds.count(kind))) for kind in set(kinds)}
        codes = [next(issued[kind]) for kind in kinds]
        imported: list[tuple[str | None, int | None]] = [*(sources or [])][: len(items)]
        imported += [(None, None)] * (len(items) - len(imported))  # records typed in, not imported
        events = []
        for code, item, same, (sha256, row) in zip(codes, items, duplicates, imported, strict=True):
            event = ItemRegistered(
                **{name: _value(getattr(item, name)) for name in ITEM_FIELDS},
                id=new_id(),
                code=code,
                depot_id=item.depot_id,
                location_id=item.location_id,
                status=intake_status(item.intake_source),
                duplicates=same,
                source_file=sha256,
                source_row=row,
            )
            events.append((event, [code]))
        await tx.record_many(events)
        return codes

    async def register_lot(self, actor: Actor, lot: NewLot) -> AmmunitionLot:
        """Take an ammunition lot into custody with a new label code."""
        return (await self.register_lots(actor, [lot]))[0]

    async def register_lots(self, actor: Actor, lots: Sequence[NewLot]) -> list[AmmunitionLot]:
        """Take ammunition lots into custody, each with a new label code; one transaction for all."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            codes = await self.record_lots(tx, actor, lots)
            return await _by_codes(tx.session, AmmunitionLot, codes)

    async def record_lots(
        self, tx: CustodyTransaction, actor: Actor, lots: Sequence[NewLot], sources: Sequence[tuple[str, int]] | None = None
    ) -> list[str]:
        """Validate and record ``lot.registered`` events inside ``tx`` (imports pass file and row); returns the codes."""
        await _check_places(tx.session, actor, [(lot.depot_id, lot.location_id) for lot in lots])
        for lot in lots:
            check_lot(lot)
        codes = await labels.issue_codes(tx.session, "lot", len(lots))
        imported: list[tuple[str | None, int | None]] = [*(sources or [])][: len(lots)]
        imported += [(None, None)] * (len(lots) - len(imported))  # records typed in, not imported
        events = []
        for code, lot, (sha256, row) in zip(codes, lots, imported, strict=True):
            event = LotRegistered(
                **{name: _value(getattr(lot, name)) for name in LOT_FIELDS},
                id=new_id(),
                code=code,
                depot_id=lot.depot_id,
                location_id=lot.location_id,
                status=intake_status(lot.intake_source),
                source_file=sha256,
                source_row=row,
            )
            events.append((event, [code]))
        await tx.record_many(events)
        return codes

    # -- reading ---------------------------------------------------------

    async def locate(self, actor: Actor, scanned: str) -> Labelled:
        """What a scanned or typed label code names, in ``actor``'s depots: the scanners' hot path, one statement
        outside any transaction for weapons, lots and shelves."""
        code = _read_code(scanned)
        rows = await self.db.fetch(_LABELLED, code=code)
        if not rows:  # a destruction's label, or a code never issued: the full look-up says which
            kind, record = await self.find(actor, code)
            return Labelled(kind, code, record.record_id if kind == "destruction" else record.id, getattr(record, "depot_id", None))
        kind, record_id, depot_id, depot_code = rows[0]
        actor.require_depot(depot_id, depot_code)
        return Labelled(kind, code, record_id, depot_id)

    async def find(self, actor: Actor, scanned: str) -> tuple[RecordKind | Literal["location", "destruction"], Any]:
        """The record behind a scanned or typed label code, in ``actor``'s depots."""
        code = _read_code(scanned)
        async with self.db.read() as session:
            label = await labels.resolve(session, code)
            if label is None:
                raise NotFound(f"label {code} was never issued here")
            if label.kind == "destruction":  # its own domain checks who may see it
                return "destruction", label
            model = {"item": Item, "lot": AmmunitionLot, "location": Location}[label.kind]
            record = await session.get(model, label.record_id)
            if record is None:  # pragma: no cover (the register and the records are written together)
                raise NotFound(f"label {code} names a record that is missing")
            await _visible_depot(session, actor, record.depot_id)
            return label.kind, record  # type: ignore[return-value]

    async def labelled(self, actor: Actor, codes: Sequence[str]) -> list[tuple[str, Any, Depot]]:
        """(kind, record, depot) of each label code, in order, a few queries for any number; all in ``actor``'s depots."""
        wanted = list(dict.fromkeys(codes))
        async with self.db.read() as session:
            found: dict[str, tuple[str, Any]] = {}
            for kind, model in (("item", Item), ("lot", AmmunitionLot), ("location", Location)):
                for (record,) in await _in_chunks(session, select(model), model.code, wanted):
                    found[record.code] = (kind, record)
            if missing := [c for c in wanted if c not in found]:
                raise NotFound(f"no record has label code {', '.join(missing[:5])}")
            depot_ids = {record.depot_id for _, record in found.values()}
            depots = {d.id: d for d in await session.scalars(select(Depot).where(Depot.id.in_(depot_ids)))}
        for depot in depots.values():
            actor.require_depot(depot.id, depot.code)
        return [(found[c][0], found[c][1], depots[found[c][1].depot_id]) for c in wanted]

    async def location_codes(self, actor: Actor, location_id: UUID) -> list[str]:
        """The label codes of the records on one shelf (and the shelf's own), for printing them together."""
        async with self.db.read() as session:
            location = await session.get(Location, location_id)
            if location is None:
                raise NotFound(f"no location {location_id}")
            await _visible_depot(session, actor, location.depot_id)
            items = await session.scalars(select(Item.code).where(Item.location_id == location_id).order_by(Item.code))
            lots = await session.scalars(
                select(AmmunitionLot.code).where(AmmunitionLot.location_id == location_id).order_by(AmmunitionLot.code)
            )
            return [c for c in [location.code, *items, *lots] if c]

    async def import_codes(self, sha256: str) -> list[str]:
        """The label codes of the records one imported file made, in row order (scope is checked when they are used)."""
        if not _SHA256.fullmatch(sha256):
            raise InvalidInput("an imported file is named by its SHA-256: 64 hexadecimal digits", field="import_sha256")
        async with self.db.read() as session:
            return list(await session.scalars(select(ImportRow.code).where(ImportRow.file_sha256 == sha256).order_by(ImportRow.row)))

    async def search_codes(self, actor: Actor, filters: dict[str, Any], limit: int) -> list[str]:
        """The label codes of every item a search finds (newest first), up to ``limit``."""
        codes: list[str] = []
        after = None
        while len(codes) < limit:
            found = await self.search(actor, filters, after=after, limit=min(500, limit - len(codes)))
            codes += [item.code for item in found.records]
            if found.next_after is None:
                break
            after = found.next_after
        return codes

    async def get(self, actor: Actor, kind: RecordKind, code: str) -> Any:
        """One item or lot by label code, in ``actor``'s depots."""
        async with self.db.read() as session:
            return await _record(session, actor, kind, code)

    async def look_up(self, actor: Actor, kind: RecordKind, code: str) -> Any:
        """One item or lot by label code, in ``actor``'s depots, as a row of its table (a named tuple with the model's
        attributes): one statement outside any transaction, for the API's record look-ups."""
        found = await self.db.fetch(_RECORD_ROWS[kind], code=code)
        if not found:
            raise _no_record(kind, code)
        record = found[0]
        actor.require_depot(record.depot_id, record.depot_code)
        return record

    async def photo_hashes(self, item_id: UUID) -> list[str]:
        """The SHA-256 of each of an item's photographs, in order (one statement outside any transaction)."""
        return [sha256 for (sha256,) in await self.db.fetch(_PHOTO_HASHES, item_id=item_id)]

    async def photos(self, item: Item) -> list[ItemPhoto]:
        """An item's photographs, oldest first."""
        async with self.db.read() as session:
            return list(await session.scalars(select(ItemPhoto).where(ItemPhoto.item_id == item.id).order_by(ItemPhoto.sha256)))

    def photo_path(self, sha256: str) -> Path:
        """Where the photo with this SHA-256 is stored."""
        return photo_file(self.photo_dir, sha256)

    async def duplicates_of(self, actor: Actor, item: Item) -> list[Item]:
        """Other records with the same identity (manufacturer, model, calibre, serial) in ``actor``'s depots."""
        query = select(Item).where(Item.identity_key == item.identity_key, Item.id != item.id).order_by(Item.id)
        if not actor.sees_all_depots:
            query = query.where(Item.depot_id.in_(actor.depot_ids))
        async with self.db.read() as session:
            return list(await session.scalars(query.limit(50)))

    async def possible_duplicates(self, actor: Actor, records: Sequence[Any]) -> list[PossibleDuplicate | None]:
        """For each item record, the warning that it is flagged as a possible duplicate, as ``actor`` may read it."""
        async with self.db.read() as session:
            return await possible_duplicates(session, actor, records)

    async def search(self, actor: Actor, filters: dict[str, Any], *, after: UUID | None = None, limit: int = 50) -> Page:
        """Items matching ``filters`` (newest first), one page at a time by keyset."""
        query = _item_filters(select(Item), actor, filters, sqlite=self.db.is_sqlite)
        if after is not None:
            query = query.where(Item.id < after)
        async with self.db.read() as session:
            found = list(await session.scalars(query.order_by(Item.id.desc()).limit(limit + 1)))
        more = len(found) > limit
        return Page(found[:limit], found[limit - 1].id if more else None)

    async def search_lots(self, actor: Actor, filters: dict[str, Any], *, after: UUID | None = None, limit: int = 50) -> Page:
        """Ammunition lots matching ``filters`` (newest first), one page at a time by keyset."""
        query = select(AmmunitionLot)
        if not actor.sees_all_depots:
            query = query.where(AmmunitionLot.depot_id.in_(actor.depot_ids))
        for name in ("depot_id", "location_id", "status", "calibre", "hazard_division", "intake_source"):
            if filters.get(name):
                query = query.where(getattr(AmmunitionLot, name) == filters[name])
        if filters.get("q"):
            text = str(filters["q"]).strip()
            query = query.where((AmmunitionLot.lot_number == text) | (AmmunitionLot.code == text.replace(" ", "")))
        if after is not None:
            query = query.where(AmmunitionLot.id < after)
        async with self.db.read() as session:
            found = list(await session.scalars(query.order_by(AmmunitionLot.id.desc()).limit(limit + 1)))
        more = len(found) > limit
        return Page(found[:limit], found[limit - 1].id if more else None)

    # -- changing --------------------------------------------------------

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

    async def correct(self, actor: Actor, kind: RecordKind, code: str, correction: Correction) -> Any:
        """Correct one field of a record: the event keeps the old value, the new value and the reason."""
        actor.require_role(*DEPOT_STAFF)
        correctable = (fields.ITEM if kind == "item" else fields.LOT).correctable
        if correction.field not in correctable:
            raise InvalidInput(f"{correction.field!r} cannot be corrected; fields: {', '.join(correctable)}", field="field")
        async with self.ledger.write(actor) as tx:
            record = await _record(tx.session, actor, kind, code)
            current = _current_values(record, kind)
            wanted = dict(current)
            wanted[correction.field] = correction.value
            try:
                new = _value(getattr(_validated(kind, wanted), correction.field))
            except InvalidInput as exc:  # said of the field corrected, beside the box its new value was typed in
                said = [e.message for e in exc.errors if e.field == correction.field]
                raise InvalidInput(said[0] if said else exc.message, field="value") from None
            old = current[correction.field]
            if new == old:
                raise Conflict(f"{correction.field} is already {old!r}")
            event = _CORRECTED[kind](code=code, field=correction.field, old=old, new=new, reason=squeeze(correction.reason))
            await tx.record(event, [code])
            return record

    async def review_duplicate(self, actor: Actor, code: str, decision: str, reason: str) -> Item:
        """A manager's decision on a flagged possible duplicate (voiding a double record is a separate action)."""
        actor.require_role(*MANAGERS)
        async with self.ledger.write(actor) as tx:
            item = await _record(tx.session, actor, "item", code)
            if item.duplicate_review != "open":
                raise Conflict(f"{code} has no open duplicate review")
            await tx.record(ItemDuplicateReviewed(code=code, decision=decision, reason=squeeze(reason)), [code])  # type: ignore[arg-type]
            return item  # type: ignore[no-any-return]

    async def add_photo(self, actor: Actor, code: str, content: bytes, content_type: str) -> str:
        """Store a photograph of an item under its SHA-256 and record it; returns the hash."""
        actor.require_role(*DEPOT_STAFF)
        digest = store_photo(self.photo_dir, content, content_type)
        async with self.ledger.write(actor) as tx:
            item = await _record(tx.session, actor, "item", code)
            known = await tx.session.get(ItemPhoto, (item.id, digest))
            if known is None:
                await tx.record(ItemPhotoAdded(code=code, sha256=digest, content_type=content_type, size=len(content)), [code])
        return digest

    async def split_lot(self, actor: Actor, code: str, quantity: int, reason: str, location_id: UUID | None = None) -> AmmunitionLot:
        """Take ``quantity`` pieces off a lot as a new lot with the same lot number; masses shared in proportion."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            new_code = await self.record_split(tx, actor, code, quantity, reason=reason, location_id=location_id)
            return (await _by_codes(tx.session, AmmunitionLot, [new_code]))[0]

    async def record_split(
        self, tx: CustodyTransaction, actor: Actor, code: str, quantity: int, *, reason: str, location_id: UUID | None = None
    ) -> str:
        """Record a ``lot.split`` inside ``tx`` (also used by transfers of part of a lot); returns the new lot's code."""
        session = tx.session
        lot = await _record(session, actor, "lot", code)
        if Status(lot.status) not in IN_STORAGE:
            raise Conflict(f"lot {code} is {Status(lot.status).label.lower()}: only a lot in storage can be split")
        if not 0 < quantity < lot.quantity:
            raise InvalidInput(f"a split takes between 1 and {lot.quantity - 1} of the {lot.quantity} pieces", field="quantity")
        if location_id is not None:
            await _check_places(session, actor, [(lot.depot_id, location_id)])
        (new_code,) = await labels.issue_codes(session, "lot", 1)
        event = LotSplit(
            code=code,
            new_code=new_code,
            new_id=new_id(),
            quantity=quantity,
            gross_mass_kg=kilograms(lot.gross_mass_g * quantity // lot.quantity),
            net_explosive_mass_kg=kilograms(lot.net_explosive_mass_g * quantity // lot.quantity),
            location_id=location_id or lot.location_id,
            reason=squeeze(reason),
        )
        await tx.record(event, [code, new_code])
        return new_code


# -- checks ------------------------------------------------------------------


def check_item(item: NewItem, position: int | None) -> None:
    where = f"record {position + 1}: " if position is not None else ""
    if item.kind is ItemKind.COMPONENT and item.component_type is None:
        raise InvalidInput(f"{where}a component needs its type (frame or receiver, barrel, ...)", field="component_type")
    if item.kind is ItemKind.WEAPON and (item.component_type is not None or item.parent_code is not None):
        raise InvalidInput(f"{where}a whole weapon has no component type or parent weapon", field="component_type")
    _check_common(item.intake_source, item.case_reference, where)
    for name in ("country_of_manufacture", "import_country"):
        country = getattr(item, name)
        if country is not None and country not in COUNTRY_CODES:
            raise InvalidInput(f"{where}{country} is not an ISO 3166-1 country code", field=name)
    if item.import_year is not None and item.year_of_manufacture is not None and item.import_year < item.year_of_manufacture:
        raise InvalidInput(f"{where}imported in {item.import_year}, before it was made in {item.year_of_manufacture}", field="import_year")


def check_lot(lot: NewLot) -> None:
    _check_common(lot.intake_source, lot.case_reference, "")
    if grams(lot.net_explosive_mass_kg) > grams(lot.gross_mass_kg):
        raise InvalidInput("the net explosive mass cannot exceed the gross mass", field="net_explosive_mass_kg")


def _check_common(source: IntakeSource, case_reference: str, where: str) -> None:
    if source is IntakeSource.SEIZED and not case_reference.strip():
        raise InvalidInput(f"{where}a seized record needs its case reference (legal basis)", field="case_reference")


def _validated(kind: RecordKind, values: dict[str, Any]) -> Any:
    schema = NewItem if kind == "item" else NewLot
    checked = decode({k: v for k, v in values.items() if v is not None}, schema)
    if isinstance(checked, NewItem):
        check_item(checked, None)
    else:
        check_lot(checked)
    return checked


def _current_values(record: Any, kind: RecordKind) -> dict[str, Any]:
    if kind == "item":
        values = {name: getattr(record, name) for name in ITEM_FIELDS}
    else:
        values = {name: getattr(record, name) for name in LOT_FIELDS if not name.endswith("_kg")}
        values["gross_mass_kg"] = kilograms(record.gross_mass_g)
        values["net_explosive_mass_kg"] = kilograms(record.net_explosive_mass_g)
    values["depot_id"] = str(record.depot_id)
    return values


def _require_moveable(record: Any, location: Location) -> None:
    if record.depot_id != location.depot_id:
        raise Conflict(f"{record.code} is in another depot: dispatch it with a transfer instead")
    if Status(record.status) not in COUNTABLE:
        raise Conflict(f"{record.code} is {Status(record.status).label.lower()}: only records on the shelves can be moved")


async def _in_chunks(session: AsyncSession, query: Select[Any], column: Any, values: Iterable[Any]) -> list[Any]:
    ordered = list(values)
    rows: list[Any] = []
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        rows += (await session.execute(query.where(column.in_(ordered[start : start + LOOKUP_CHUNK])))).all()
    return rows


async def _duplicates(session: AsyncSession, items: Sequence[NewItem]) -> list[list[str]]:
    """For each new item, the codes of records already held with the same identity (and earlier ones in the batch)."""
    keys = [identity_key(i.manufacturer, i.model, i.calibre, i.serial) for i in items]
    readable = [serial_key(i.serial) not in UNREADABLE_SERIALS for i in items]
    existing: dict[str, list[str]] = {}
    wanted = sorted({key for key, ok in zip(keys, readable, strict=True) if ok})
    for key, code in await rows_in(session, _SAME_IDENTITY, keys=wanted) if wanted else []:
        existing.setdefault(key, []).append(code)
    return [sorted(existing.get(key, [])) if ok else [] for key, ok in zip(keys, readable, strict=True)]


_ITEMS_BY_CODE = select(Item.__table__).where(AnyOf(Item.code, "codes"))
_SAME_IDENTITY = select(Item.identity_key, Item.code).where(AnyOf(Item.identity_key, "keys"))
_DEPOT = select(Depot.id, Depot.code, Depot.active).where(Depot.id == bindparam("id"))
_PLACE = select(Location.id, Location.depot_id, Location.path, Location.active).where(Location.id == bindparam("id"))


async def _check_places(session: AsyncSession, actor: Actor, places: Sequence[tuple[UUID, UUID | None]]) -> None:
    """Every depot exists, is active and in ``actor``'s scope; every location is active and in its depot."""
    depots = {}
    for depot_id in dict.fromkeys(depot for depot, _ in places):  # an intake names one depot, an import a few
        found = await rows_in(session, _DEPOT, id=depot_id)
        if not found:
            raise InvalidInput(f"no depot with id {depot_id}", field="depot_id")
        depot = depots[depot_id] = found[0]
        actor.require_depot(depot.id, depot.code)
        if not depot.active:
            raise Conflict(f"depot {depot.code} is inactive")
    locations = {}
    for location_id in dict.fromkeys(location for _, location in places if location is not None):
        if found := await rows_in(session, _PLACE, id=location_id):
            locations[location_id] = found[0]
    for depot_id, location_id in places:
        if location_id is None:
            continue
        location = locations.get(location_id)
        if location is None or location.depot_id != depot_id:
            raise InvalidInput(f"location {location_id} is not in depot {depots[depot_id].code}", field="location_id")
        if not location.active:
            raise Conflict(f"location {location.path!r} is inactive")


def _read_code(scanned: str) -> str:
    try:
        return read_code(scanned)
    except CodeError as exc:
        raise InvalidInput(str(exc), field="code") from None


async def _visible_depot(session: AsyncSession, actor: Actor, depot_id: UUID) -> Depot:
    depot = await session.get(Depot, depot_id)
    if depot is None:  # pragma: no cover (records always reference a depot)
        raise NotFound(f"no depot with id {depot_id}")
    actor.require_depot(depot.id, depot.code)
    return depot


async def _record(session: AsyncSession, actor: Actor, kind: RecordKind, code: str) -> Any:
    model = _model(kind)
    record = await session.scalar(select(model).where(model.code == code))
    if record is None:
        raise _no_record(kind, code)
    await _visible_depot(session, actor, record.depot_id)
    return record


def _no_record(kind: RecordKind, code: str) -> NotFound:
    return NotFound(f"no {'item' if kind == 'item' else 'ammunition lot'} with label code {code}")


def _record_row(model: Any) -> Select[Any]:
    with_depot = select(model.__table__, Depot.code.label("depot_code")).join(Depot, Depot.id == model.depot_id)
    return with_depot.where(model.code == bindparam("code"))


_RECORD_ROWS: dict[RecordKind, Select[Any]] = {"item": _record_row(Item), "lot": _record_row(AmmunitionLot)}
_PHOTO_HASHES = select(ItemPhoto.sha256).where(ItemPhoto.item_id == bindparam("item_id")).order_by(ItemPhoto.sha256)


async def _records_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[RecordKind, list[Any]]:
    """Items and lots by code, in the order given; unknown codes raise :class:`NotFound` naming them."""
    wanted = list(dict.fromkeys(codes))
    items = {r.code: r for (r,) in await _in_chunks(session, select(Item), Item.code, wanted)}
    lots = {r.code: r for (r,) in await _in_chunks(session, select(AmmunitionLot), AmmunitionLot.code, wanted)}
    if missing := [c for c in wanted if c not in items and c not in lots]:
        raise NotFound(f"no item or lot with label code {', '.join(missing[:5])}")
    return {"item": [items[c] for c in wanted if c in items], "lot": [lots[c] for c in wanted if c in lots]}


async def _by_codes(session: AsyncSession, model: Any, codes: Sequence[str]) -> list[Any]:
    found = {r.code: r for (r,) in await _in_chunks(session, select(model), model.code, codes)}
    return [found[code] for code in codes]


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


_SQLITE_SERIAL_SEARCH = sql_text("SELECT rowid FROM item_serial_search WHERE serial_key LIKE :pattern")


def _item_filters(query: Select[Any], actor: Actor, filters: dict[str, Any], *, sqlite: bool) -> Select[Any]:
    if not actor.sees_all_depots:
        query = query.where(Item.depot_id.in_(actor.depot_ids))
    for name in ("depot_id", "location_id", "status", "un_type", "intake_source", "kind", "duplicate_review"):
        if filters.get(name):
            query = query.where(getattr(Item, name) == filters[name])
    for name in ("manufacturer", "model", "calibre", "case_reference"):
        if filters.get(name):
            query = query.where(getattr(Item, name) == squeeze(str(filters[name])))
    text = str(filters.get("q") or "").strip()
    if text:
        code = find_code(text)
        if code is None:
            key = serial_key(text)
            if sqlite and len(key) >= 3 and not any(c in key for c in "%_\\"):
                # the FTS5 trigram index of the search migration answers the substring match
                query = query.where(literal_column("item.rowid").in_(_SQLITE_SERIAL_SEARCH.bindparams(pattern=f"%{key}%")))
            else:  # PostgreSQL's pg_trgm index serves LIKE itself; short or wildcard-bearing text is scanned
                escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                query = query.where(Item.serial_key.like(f"%{escaped}%", escape="\\"))
        else:
            query = query.where(Item.code == code)
    return query


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


# -- for work flows in other domains (destruction) -----------------------------------------


def photo_file(folder: Path, sha256: str) -> Path:
    """Where the photo with this SHA-256 is stored in ``folder``."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound("no such photo")
    return folder / sha256[:2] / sha256


def store_photo(folder: Path, content: bytes, content_type: str) -> str:
    """Check a photograph and store it in ``folder`` under its SHA-256 (once); returns the hash."""
    magic = PHOTO_TYPES.get(content_type)
    if magic is None:
        raise InvalidInput(f"photos must be {', '.join(PHOTO_TYPES)}; got {content_type or 'no type'}", field="photo")
    if not content.startswith(magic):
        raise InvalidInput(f"the file is not a {content_type} image", field="photo")
    if len(content) > MAX_PHOTO_BYTES:
        raise InvalidInput(f"photos are limited to {MAX_PHOTO_BYTES // (1024 * 1024)} MB", field="photo")
    digest = hashlib.sha256(content).hexdigest()
    path = photo_file(folder, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        temporary.replace(path)
    return digest


async def records_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, tuple[RecordKind, Any]]:
    """``code -> (kind, record)`` for the items and lots among ``codes`` (unknown codes are left out); a few queries for any number."""
    wanted = list(dict.fromkeys(codes))
    found: dict[str, tuple[RecordKind, Any]] = {}
    for kind in ("item", "lot"):
        model = _model(kind)  # type: ignore[arg-type]
        found |= {record.code: (kind, record) for (record,) in await _in_chunks(session, select(model), model.code, wanted)}  # type: ignore[misc]
    return found


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
