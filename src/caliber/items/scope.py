"""Where items, lots, shelves, transfers and stock checks are, by ledger subject: what ``caliber.ledger.scope`` asks.

Inventory owns the label codes of weapons, components, lots and shelves and the
record keys ``depot:``, ``location:``, ``transfer:`` (in both its depots) and
``stockcheck:``. One statement per kind of record present, for any number of subjects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import AnyOf, AnyQuery, rows_in
from caliber.depots.models import Location
from caliber.items.models import AmmunitionLot, Item
from caliber.labels.codes import is_valid, kind_of
from caliber.ledger.scope import SubjectScope, subject_id
from caliber.stockchecks.models import StockCheck
from caliber.transfers.models import Transfer

__all__ = ["inventory_scopes"]

_BY_CODE: dict[str, AnyQuery] = {
    "item": select(Item.code, Item.depot_id).where(AnyOf(Item.code, "codes")),
    "lot": select(AmmunitionLot.code, AmmunitionLot.depot_id).where(AnyOf(AmmunitionLot.code, "codes")),
    "location": select(Location.code, Location.depot_id).where(AnyOf(Location.code, "codes")),
}
_TABLE_OF_KIND = {"weapon": "item", "component": "item", "lot": "lot", "location": "location"}
_BY_KEY: dict[str, Any] = {
    "location": (Location.id, Location.depot_id),
    "transfer": (Transfer.id, Transfer.from_depot_id, Transfer.to_depot_id),
    "stockcheck": (StockCheck.id, StockCheck.depot_id),
}
CHUNK = 500


async def inventory_scopes(session: AsyncSession, subjects: Sequence[str]) -> dict[str, SubjectScope]:
    """The depots each inventory subject among ``subjects`` is in now (unknown records: in none)."""
    codes: dict[str, list[str]] = {}
    keys: dict[str, dict[UUID, str]] = {}
    found: dict[str, SubjectScope] = {}
    for subject in subjects:
        if is_valid(subject) and kind_of(subject) in _TABLE_OF_KIND:
            codes.setdefault(_TABLE_OF_KIND[kind_of(subject)], []).append(subject)
        elif (kind := subject.partition(":")[0]) in (*_BY_KEY, "depot"):
            found[subject] = SubjectScope.in_depots([])
            if (record_id := subject_id(subject)) is not None:
                keys.setdefault(kind, {})[record_id] = subject
    for depot_id, subject in keys.pop("depot", {}).items():
        found[subject] = SubjectScope.in_depots([depot_id])
    for table, wanted in codes.items():
        found |= dict.fromkeys(wanted, SubjectScope.in_depots([]))
        found |= {code: SubjectScope.in_depots([depot_id]) for code, depot_id in await rows_in(session, _BY_CODE[table], codes=wanted)}
    for kind, by_id in keys.items():
        found |= {by_id[record_id]: SubjectScope.in_depots(depots) for record_id, *depots in await _by_id(session, kind, list(by_id))}
    return found


async def _by_id(session: AsyncSession, kind: str, ids: list[UUID]) -> list[Any]:
    key, *depots = _BY_KEY[kind]
    rows: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        rows += (await session.execute(select(key, *depots).where(key.in_(ids[start : start + CHUNK])))).all()
    return rows
