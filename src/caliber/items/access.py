"""What every part of the items service shares: who may act, record kinds, results, one record by its code, checks of new records."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import AnyQuery, Database, rows_in
from caliber.depots.countries import COUNTRY_CODES
from caliber.depots.models import Depot, Location
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.forms import decode
from caliber.items import fields
from caliber.items.lifecycle import IntakeSource
from caliber.items.makers import MakerList
from caliber.items.models import AmmunitionLot, Item, ItemKind
from caliber.items.records import grams, kilograms, squeeze
from caliber.items.schemas import NewItem, NewLot
from caliber.labels.codes import CodeError, read_code
from caliber.ledger.store import Ledger

__all__ = [
    "DEPOT_STAFF",
    "ITEM_FIELDS",
    "LOOKUP_CHUNK",
    "LOT_FIELDS",
    "MANAGERS",
    "ItemBase",
    "Labelled",
    "Moved",
    "Page",
    "RecordKind",
    "check_item",
    "check_lot",
    "event_time",
]

DEPOT_STAFF = (Role.DEPOT_CLERK, Role.DEPOT_MANAGER, Role.ADMIN)
MANAGERS = (Role.DEPOT_MANAGER, Role.ADMIN)
LOOKUP_CHUNK = 500  # values per IN (...) list
RecordKind = Literal["item", "lot"]
ITEM_FIELDS = fields.ITEM.described
"""The fields of a weapon or component itself (not where it is): what ``item.registered`` carries."""


LOT_FIELDS = fields.LOT.described
"""The fields of an ammunition lot itself: what ``lot.registered`` carries (masses as decimal strings of kg)."""


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


def _model(kind: RecordKind) -> type[Any]:
    """The table of ``kind``: :class:`Item` or :class:`AmmunitionLot` (typed as either, so its shared columns read)."""
    return Item if kind == "item" else AmmunitionLot


@dataclass(frozen=True)
class Moved:
    """Where records were put, and those of them that changed place (the others were there already)."""

    location: Location
    codes: list[str]


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
    elif isinstance(checked, NewLot):
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


async def _in_chunks(session: AsyncSession, query: AnyQuery, column: Any, values: Iterable[Any]) -> list[Any]:
    ordered = list(values)
    rows: list[Any] = []
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        rows += (await session.execute(query.where(column.in_(ordered[start : start + LOOKUP_CHUNK])))).all()
    return rows


async def _check_parents(session: AsyncSession, actor: Actor, links: Sequence[tuple[str | None, str]]) -> None:
    """Each ``(component code or None at intake, parent code)``: the parent is a weapon in a depot ``actor`` works in.

    One answer for a code that does not exist, is not a weapon, or sits in a depot the actor cannot read, so that
    the refusal tells nothing of other depots' records.
    """
    wanted = {parent for _, parent in links}
    if not wanted:
        return
    rows = await _in_chunks(session, select(Item.code, Item.kind, Item.depot_id), Item.code, wanted)
    weapons = {row.code for row in rows if row.kind == ItemKind.WEAPON.value and actor.can_see_depot(row.depot_id)}
    for component, parent in links:
        if parent == component:
            raise InvalidInput(f"{parent} cannot be its own parent weapon", field="parent_code")
        if parent not in weapons:
            raise InvalidInput(f"no weapon with label code {parent} in the depots you work in", field="parent_code")


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
    for wanted in dict.fromkeys(location for _, location in places if location is not None):
        if found := await rows_in(session, _PLACE, id=wanted):
            locations[wanted] = found[0]
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


class ItemBase:
    """What every part of :class:`~caliber.items.service.ItemService` works with: the ledger, its database, the photo folder,
    the reference names of makers."""

    ledger: Ledger
    db: Database
    photo_dir: Path
    makers: MakerList
