"""Identity completeness: which identifiers a trace needs are missing from a weapon's record, and how many can be traced.

A trace (ISACS 05.31, the International Tracing Instrument, an iARMS query)
asks the country of manufacture or last import about one weapon by its
identifiers. :data:`IDENTIFIERS` names those a record must hold to be traced;
a record missing none is *traceable*. The rule is written once here, as a test
of a record's values (:func:`missing_identifiers`) and as the same test in SQL
(:func:`traceable_counts`), and serves the item page, the API, the weapons list
and the iARMS export.

A text identifier is missing when it is blank or says it is not known
(:data:`NOT_KNOWN`, compared in capitals without surrounding space); the serial
also when it is one of the serials that identify nothing (``illegible``,
``removed``, ...: :data:`caliber.items.records.UNREADABLE_SERIALS`); a country
or year when it is not recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, case, func, or_, select

from caliber.accounts.actor import Actor
from caliber.db import Database
from caliber.items import fields
from caliber.items.models import Item, ItemKind
from caliber.items.records import UNREADABLE_SERIALS, serial_key

__all__ = ["IDENTIFIERS", "NOT_KNOWN", "Identifier", "Traceable", "missing_identifiers", "missing_labels", "traceable_counts"]

NOT_KNOWN = frozenset({"", "UNKNOWN", "NONE", "N/A", "NA", "-", "?"})
"""Text that says an identifier is not known."""


@dataclass(frozen=True)
class Identifier:
    """One identifier a trace needs: the item field that holds it, and whether it is text (or a code or number)."""

    field: str
    text: bool = True

    @property
    def label(self) -> str:
        """The identifier as people write it, in small letters: "country of manufacture"."""
        return fields.ITEM[self.field].label.lower()

    def missing(self, value: Any) -> bool:
        """Whether ``value`` of this field leaves the identifier missing."""
        if not self.text:
            return value is None or value == ""
        if self.field == "serial":
            return serial_key(value or "") in NOT_KNOWN | UNREADABLE_SERIALS
        return str(value or "").strip().upper() in NOT_KNOWN

    def missing_in_sql(self) -> ColumnElement[bool]:
        """The same test as :meth:`missing`, on the item table."""
        if self.field == "serial":
            return Item.serial_key.in_(sorted(NOT_KNOWN | UNREADABLE_SERIALS))
        column = getattr(Item, self.field)
        test: ColumnElement[bool] = (
            column.is_(None) if not self.text else func.upper(func.trim(func.coalesce(column, ""))).in_(sorted(NOT_KNOWN))
        )
        return test


IDENTIFIERS = (
    Identifier("manufacturer"),
    Identifier("model"),
    Identifier("calibre"),
    Identifier("serial"),
    Identifier("country_of_manufacture", text=False),
    Identifier("year_of_manufacture", text=False),
    Identifier("marking_location"),
)
"""What a record must hold to be traced, in the order pages and exports list what is missing."""


def missing_identifiers(record: Any) -> list[str]:
    """The fields of :data:`IDENTIFIERS` that ``record`` (an item, its table row or its API struct) lacks; empty: traceable."""
    return [i.field for i in IDENTIFIERS if i.missing(getattr(record, i.field))]


def missing_labels(record: Any) -> list[str]:
    """What :func:`missing_identifiers` finds, as people read it: ``["country of manufacture", "year of manufacture"]``."""
    return [i.label for i in IDENTIFIERS if i.missing(getattr(record, i.field))]


@dataclass(frozen=True)
class Traceable:
    """Of a depot's weapons: how many there are, and how many hold every identifier a trace needs."""

    weapons: int
    traceable: int


_ANY_MISSING = or_(*(i.missing_in_sql() for i in IDENTIFIERS))


async def traceable_counts(db: Database, actor: Actor, depot_ids: Iterable[UUID]) -> dict[UUID, Traceable]:
    """Weapons (records voided as made in error left out) and traceable weapons of each of ``depot_ids`` that
    ``actor`` may read, one statement; depots without weapons are left out."""
    wanted = sorted(d for d in set(depot_ids) if actor.can_see_depot(d))
    if not wanted:
        return {}
    query = (
        select(Item.depot_id, func.count(), func.sum(case((_ANY_MISSING, 0), else_=1)))
        .where(Item.depot_id.in_(wanted), Item.kind == ItemKind.WEAPON.value, Item.status != "void")
        .group_by(Item.depot_id)
    )
    async with db.read() as session:
        return {depot: Traceable(int(weapons), int(traceable or 0)) for depot, weapons, traceable in await session.execute(query)}
