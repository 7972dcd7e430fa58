"""Stockpile security (Roadmap Goal 7) from stock checks: the figures the reports show for a period, by jurisdiction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.depots.models import Depot
from caliber.items.lifecycle import Status
from caliber.items.models import AmmunitionLot, Item
from caliber.stockchecks.models import StockCheck, StockCheckStatus

__all__ = ["Security", "security"]


@dataclass(frozen=True)
class Security:
    """Stockpile security (Roadmap Goal 7) of one jurisdiction."""

    depots: int
    depots_counted: int
    """Depots with a full count closed in the twelve months before the period's end."""
    discrepancies: int
    """Missing, misplaced and unknown records and lot differences found by counts closed in the period."""
    missing_now: int
    """Records reported missing and not found since (as of today)."""


async def security(session: AsyncSession, start: dt.datetime, end: dt.datetime, depot_ids: Iterable[UUID] | None) -> dict[str, Security]:
    """Goal 7 figures by jurisdiction, for depots ``depot_ids`` (None: every depot)."""
    depots = select(Depot.id, Depot.jurisdiction_code).where(Depot.active.is_(True))
    if depot_ids is not None:
        depots = depots.where(Depot.id.in_(list(depot_ids)))
    where = dict((await session.execute(depots)).all())
    counts: dict[str, list[int]] = {}
    for jurisdiction in where.values():
        counts.setdefault(jurisdiction, [0, 0, 0, 0])[0] += 1
    full = select(StockCheck.depot_id).where(
        StockCheck.location_id.is_(None),
        StockCheck.status == StockCheckStatus.CLOSED.value,
        StockCheck.closed_at > end - dt.timedelta(days=365),
        StockCheck.closed_at < end,
    )
    for depot_id in set(await session.scalars(full)):
        if depot_id in where:
            counts[where[depot_id]][1] += 1
    found = select(
        StockCheck.depot_id, StockCheck.missing + StockCheck.wrong_location + StockCheck.unknown + StockCheck.lot_differences
    ).where(StockCheck.status == StockCheckStatus.CLOSED.value, StockCheck.closed_at >= start, StockCheck.closed_at < end)
    for depot_id, n in (await session.execute(found)).all():
        if depot_id in where:
            counts[where[depot_id]][2] += n
    for model in (Item, AmmunitionLot):
        query = (  # one index range a depot (depot, status), not a pass over every record
            select(model.depot_id, func.count())
            .where(model.depot_id.in_(list(where)), model.status == Status.MISSING.value)
            .group_by(model.depot_id)
        )
        for depot_id, n in (await session.execute(query)).all():
            if depot_id in where:
                counts[where[depot_id]][3] += n
    return {jurisdiction: Security(*values) for jurisdiction, values in counts.items()}
