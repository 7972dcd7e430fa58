"""The only code that changes weapons, components and ammunition lots: each change is a custody event.

Events (their structs are in ``caliber.items.events``; ``data`` is flat, so the
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

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import AnyOf, new_id, rows_in
from caliber.errors import Conflict, InvalidInput
from caliber.items import fields
from caliber.items.access import (
    DEPOT_STAFF,
    ITEM_FIELDS,
    MANAGERS,
    RecordKind,
    _check_parents,
    _check_places,
    _current_values,
    _record,
    _validated,
    _value,
    check_item,
)
from caliber.items.events import (
    Corrected,
    ItemCorrected,
    ItemDuplicateReviewed,
    ItemPhotoAdded,
    ItemRegistered,
    LotCorrected,
)
from caliber.items.lifecycle import intake_status
from caliber.items.lots import LotWork
from caliber.items.makers import MakerList, load_makers
from caliber.items.models import Item, ItemKind, ItemPhoto
from caliber.items.moves import ItemMoves
from caliber.items.photos import store_photo
from caliber.items.queries import ItemQueries
from caliber.items.records import UNREADABLE_SERIALS, serial_key, squeeze
from caliber.items.schemas import Correction, NewItem
from caliber.labels import service as labels
from caliber.ledger.store import CustodyTransaction, Ledger

__all__ = ["ItemService"]

_CORRECTED: dict[RecordKind, type[Corrected]] = {"item": ItemCorrected, "lot": LotCorrected}


class ItemService(ItemQueries, ItemMoves, LotWork):
    """Intake, look-up, moves, lifecycle actions, corrections and splits of items and lots."""

    def __init__(self, ledger: Ledger, photo_dir: Path, makers: MakerList | None = None) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.photo_dir = photo_dir
        self.makers = makers or load_makers()
        """The reference names of makers and models: intake records a known maker by its canonical name."""

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
        A maker in the reference list is recorded by its canonical name.
        """
        session = tx.session
        items = [msgspec.structs.replace(i, manufacturer=self.makers.recorded(i.manufacturer)) for i in items]
        await _check_places(session, actor, [(i.depot_id, i.location_id) for i in items])
        for position, item in enumerate(items):
            check_item(item, position if len(items) > 1 else None)
        await _check_parents(session, actor, [(None, i.parent_code) for i in items if i.parent_code])
        duplicates = await _duplicates(session, self.makers, items)
        kinds = ["weapon" if item.kind is ItemKind.WEAPON else "component" for item in items]
        issued = {kind: iter(await labels.issue_codes(session, kind, kinds.count(kind))) for kind in set(kinds)}
        codes = [next(issued[kind]) for kind in kinds]
        imported: list[tuple[str | None, int | None]] = []
        imported.extend((sources or ())[: len(items)])
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

    # -- reading ---------------------------------------------------------

    # -- changing --------------------------------------------------------

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
            if correction.field == "parent_code" and new is not None:  # the checks intake makes
                try:
                    await _check_parents(tx.session, actor, [(code, str(new))])
                except InvalidInput as exc:
                    raise InvalidInput(exc.message, field="value") from None
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


async def _duplicates(session: AsyncSession, makers: MakerList, items: Sequence[NewItem]) -> list[list[str]]:
    """For each new item, the codes of records already held with the same identity, its maker under any spelling."""
    keys = [makers.identity_keys(i.manufacturer, i.model, i.calibre, i.serial) for i in items]
    readable = [serial_key(i.serial) not in UNREADABLE_SERIALS for i in items]
    existing: dict[str, list[str]] = {}
    wanted = sorted({key for alike, ok in zip(keys, readable, strict=True) if ok for key in alike})
    for key, code in await rows_in(session, _SAME_IDENTITY, keys=wanted) if wanted else []:
        existing.setdefault(key, []).append(code)
    return [sorted({c for k in alike for c in existing.get(k, [])}) if ok else [] for alike, ok in zip(keys, readable, strict=True)]


_ITEMS_BY_CODE = select(Item.__table__).where(AnyOf(Item.code, "codes"))
_SAME_IDENTITY = select(Item.identity_key, Item.code).where(AnyOf(Item.identity_key, "keys"))
