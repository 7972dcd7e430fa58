"""Reading items and lots: by label code, search, photos, possible duplicates; the look-ups other domains use."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import Select, bindparam, literal_column, select, union_all
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.depots.models import Depot, Location
from caliber.errors import InvalidInput, NotFound
from caliber.forms import decode
from caliber.imports.models import ImportRow
from caliber.items.access import (
    _RECORD_ROWS,
    ItemBase,
    Labelled,
    Page,
    RecordKind,
    _in_chunks,
    _model,
    _no_record,
    _read_code,
    _record,
    _visible_depot,
)
from caliber.items.duplicates import PossibleDuplicate, possible_duplicates
from caliber.items.makers import MakerList
from caliber.items.models import AmmunitionLot, Item, ItemPhoto
from caliber.items.photos import _SHA256, photo_file
from caliber.items.records import serial_key, squeeze
from caliber.items.schemas import (
    ItemQuery,
    LotQuery,
)
from caliber.labels import service as labels
from caliber.labels.codes import find_code

__all__ = ["ItemQueries", "lot_filters", "page_url", "records_by_code"]


def _labelled_in(model: Any, kind: str) -> Select[Any]:
    return (
        select(literal_column(f"'{kind}'"), model.id, model.depot_id, Depot.code)
        .join(Depot, Depot.id == model.depot_id)
        .where(model.code == bindparam("code"))
    )


_LABELLED = union_all(_labelled_in(Item, "item"), _labelled_in(AmmunitionLot, "lot"), _labelled_in(Location, "location"))
"""A weapon, lot or shelf by its label code, with its depot: three unique-index lookups in one statement."""


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


_SQLITE_SERIAL_SEARCH = sql_text("SELECT rowid FROM item_serial_search WHERE serial_key LIKE :pattern")


def _item_filters(query: Select[Any], actor: Actor, filters: dict[str, Any], *, sqlite: bool, makers: MakerList) -> Select[Any]:
    if not actor.sees_all_depots:
        query = query.where(Item.depot_id.in_(actor.depot_ids))
    for name in ("depot_id", "location_id", "status", "un_type", "intake_source", "kind", "duplicate_review"):
        if filters.get(name):
            query = query.where(getattr(Item, name) == filters[name])
    if filters.get("manufacturer"):  # a maker of the reference list under any of its spellings
        query = query.where(Item.manufacturer.in_(makers.spellings_of(squeeze(str(filters["manufacturer"])))))
    for name in ("model", "calibre", "case_reference"):
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


async def records_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, tuple[RecordKind, Any]]:
    """``code -> (kind, record)`` for the items and lots among ``codes`` (unknown codes are left out); a few queries for any number."""
    wanted = list(dict.fromkeys(codes))
    found: dict[str, tuple[RecordKind, Any]] = {}
    for kind in ("item", "lot"):
        model = _model(kind)
        found |= {record.code: (kind, record) for (record,) in await _in_chunks(session, select(model), model.code, wanted)}
    return found


class ItemQueries(ItemBase):
    """Look-up and search of items and lots, within what the actor may see."""

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
            model: type[Any] = {"item": Item, "lot": AmmunitionLot, "location": Location}[label.kind]
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
        record: Any = found[0]
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
        """Other records with the same identity (manufacturer under any of its spellings, model, calibre, serial) in
        ``actor``'s depots."""
        keys = self.makers.identity_keys(item.manufacturer, item.model, item.calibre, item.serial)
        query = select(Item).where(Item.identity_key.in_(keys), Item.id != item.id).order_by(Item.id)
        if not actor.sees_all_depots:
            query = query.where(Item.depot_id.in_(actor.depot_ids))
        async with self.db.read() as session:
            return list(await session.scalars(query.limit(50)))

    async def possible_duplicates(self, actor: Actor, records: Sequence[Any]) -> list[PossibleDuplicate | None]:
        """For each item record, the warning that it is flagged as a possible duplicate, as ``actor`` may read it."""
        async with self.db.read() as session:
            return await possible_duplicates(session, actor, records, self.makers)

    async def search(self, actor: Actor, filters: dict[str, Any], *, after: UUID | None = None, limit: int = 50) -> Page:
        """Items matching ``filters`` (newest first), one page at a time by keyset."""
        query = _item_filters(select(Item), actor, filters, sqlite=self.db.is_sqlite, makers=self.makers)
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


def item_filters(params: dict[str, Any]) -> dict[str, Any]:
    """Search filters from query parameters or a form, checked (unknown values are a 422 naming the filter)."""
    return _filters(params, ItemQuery)


def lot_filters(params: dict[str, Any]) -> dict[str, Any]:
    """Lot search filters from query parameters or a form, checked like :func:`item_filters`."""
    return _filters(params, LotQuery)


def _filters(params: dict[str, Any], struct: type[ItemQuery] | type[LotQuery]) -> dict[str, Any]:
    wanted = {k: v for k, v in params.items() if k in struct.__struct_fields__ and v not in (None, "")}
    query = decode(wanted, struct)
    return {name: getattr(query, name) for name in struct.__struct_fields__ if getattr(query, name) is not None}


def page_url(kind: str, record: Any) -> str:
    """The page of a record found by its label."""
    if kind == "location":
        return f"/depots/{record.depot_id}#location-{record.id}"
    if kind == "destruction":
        return f"/destructions/{record.record_id}"
    return f"/{'items' if kind == 'item' else 'lots'}/{record.code}"
