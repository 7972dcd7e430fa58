"""Depots and locations by id, many at once: the names exports and timelines show beside the ids they keep."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.depots.models import Depot, Location

__all__ = ["PLACE_COLUMNS", "Places", "places_of", "rows_by_id"]

CHUNK = 500
PLACE_COLUMNS = ("depot_code", "depot_name", "location_path")
"""The columns an export adds beside ``depot_id`` and ``location_id``."""


async def rows_by_id(session: AsyncSession, table: Any, ids: Iterable[UUID | None]) -> dict[UUID, Any]:
    """Rows of ``table`` by id (one statement per 500 ids; ``None`` and unknown ids left out)."""
    wanted = sorted({i for i in ids if i is not None})
    found: dict[UUID, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        found |= {row.id: row for row in await session.scalars(select(table).where(table.id.in_(wanted[start : start + CHUNK])))}
    return found


@dataclass
class Places:
    """Depots and locations found by id."""

    depots: dict[UUID, Depot] = field(default_factory=dict)
    locations: dict[UUID, Location] = field(default_factory=dict)

    def columns(self, depot_id: UUID | None, location_id: UUID | None) -> dict[str, str]:
        """The :data:`PLACE_COLUMNS` of a record in ``depot_id`` at ``location_id`` (blank where not known)."""
        depot = self.depots.get(depot_id) if depot_id else None
        location = self.locations.get(location_id) if location_id else None
        return {
            "depot_code": depot.code if depot else "",
            "depot_name": depot.name if depot else "",
            "location_path": location.path if location else "",
        }


async def places_of(session: AsyncSession, depot_ids: Iterable[UUID | None], location_ids: Iterable[UUID | None]) -> Places:
    """The depots and locations named (and the depots of those locations): two statements."""
    locations = await rows_by_id(session, Location, location_ids)
    depots = await rows_by_id(session, Depot, [*depot_ids, *(loc.depot_id for loc in locations.values())])
    return Places(depots, locations)
