"""Which of a set of weapons still wait for their trace to end: the read a destruction's approval is held back by.

One pass over the set, in two set queries (the count by intake source, and the first weapons by label code), however
many records it holds: the weapons joined to their depot's jurisdiction and their trace (no trace row: not started).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.depots.models import Depot
from caliber.items.lifecycle import IntakeSource
from caliber.items.models import Item
from caliber.tracing.lifecycle import CONCLUDED, TraceState
from caliber.tracing.models import WeaponTrace

__all__ = ["NONE", "Untraced", "untraced_weapons"]


@dataclass(frozen=True)
class Untraced:
    """Weapons whose trace has not ended: how many, of which intake sources, and the first by label code with their state."""

    count: int
    sources: tuple[IntakeSource, ...]
    first: tuple[tuple[str, TraceState], ...]

    def named(self, most: int) -> list[tuple[str, str]]:
        """The first ``most`` weapons by label code, each with its trace state in words ("iARMS query")."""
        return [(code, state.label.lower().replace("iarms", "iARMS")) for code, state in self.first[:most]]


Columns = TypeVarTuple("Columns")

NONE = Untraced(0, (), ())
"""No weapon waits."""


async def untraced_weapons(
    session: AsyncSession, codes: Select[str], gated: Mapping[str, frozenset[IntakeSource]], *, first: int = 50
) -> Untraced:
    """The weapons among ``codes`` (a query of label codes) whose jurisdiction lists their intake source in ``gated``
    (jurisdiction -> sources) and whose trace is not concluded or excepted."""
    covered = [
        and_(Depot.jurisdiction_code == jurisdiction, Item.intake_source.in_(sorted(sources)))
        for jurisdiction, sources in sorted(gated.items())
        if sources
    ]
    if not covered:
        return NONE
    where: list[ColumnElement[bool]] = [
        Item.code.in_(codes.scalar_subquery()),
        Item.kind == "weapon",
        or_(*covered),
        or_(WeaponTrace.state.is_(None), WeaponTrace.state.not_in(sorted(CONCLUDED))),
    ]

    def over(query: Select[*Columns]) -> Select[*Columns]:
        joined = query.select_from(Item).join(Depot, Depot.id == Item.depot_id).outerjoin(WeaponTrace, WeaponTrace.code == Item.code)
        return joined.where(*where)

    by_source = over(select(Item.intake_source, func.count()).group_by(Item.intake_source))
    counted = {source: int(n) for source, n in (await session.execute(by_source)).all()}
    if not counted:
        return NONE
    rows = await session.execute(over(select(Item.code, WeaponTrace.state)).order_by(Item.code).limit(first))
    listed = tuple((code, TraceState(state or TraceState.NOT_STARTED)) for code, state in rows.all())
    order = list(IntakeSource)
    sources = tuple(sorted((IntakeSource(source) for source in counted), key=order.index))
    return Untraced(sum(counted.values()), sources, listed)
