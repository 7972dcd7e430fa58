"""Items and lots as CSV: the columns of an export and its rows, streamed page by page with their places."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

from caliber.accounts.actor import Actor
from caliber.db import Database
from caliber.depots.places import PLACE_COLUMNS, Places, places_of
from caliber.web import csv_cell

__all__ = ["EXPORT_COLUMNS", "LOT_EXPORT_COLUMNS", "export_rows"]

EXPORT_COLUMNS = [
    "code",
    "kind",
    "component_type",
    "manufacturer",
    "model",
    "calibre",
    "serial",
    "un_type",
    "country_of_manufacture",
    "year_of_manufacture",
    "import_country",
    "import_year",
    "eu_category",
    "intake_source",
    "case_reference",
    "court_order",
    "condition",
    "status",
    "depot_id",
    "location_id",
    *PLACE_COLUMNS,
    "registered_at",
]


LOT_EXPORT_COLUMNS = [
    "code",
    "lot_number",
    "parent_code",
    "manufacturer",
    "year",
    "calibre",
    "nature",
    "quantity",
    "gross_mass_kg",
    "net_explosive_mass_kg",
    "hazard_division",
    "compatibility_group",
    "intake_source",
    "case_reference",
    "condition",
    "status",
    "depot_id",
    "location_id",
    *PLACE_COLUMNS,
    "registered_at",
]


async def export_rows(
    search: Callable[..., Awaitable[Any]],
    actor: Actor,
    filters: dict[str, Any],
    columns: list[str],
    shown: Callable[[Any], Any] = lambda r: r,
    *,
    db: Database | None = None,
) -> AsyncIterator[str]:
    """Every record a search finds as CSV text, streamed page by page (memory stays flat); with ``db``, each
    record's depot code and name and location path beside its ids (:data:`PLACE_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    after: UUID | None = None
    while True:
        found = await search(actor, filters, after=after, limit=500)
        places = Places()
        if db is not None:
            async with db.read() as session:
                places = await places_of(session, (r.depot_id for r in found.records), (r.location_id for r in found.records))
        for record in found.records:
            out = shown(record)
            named = places.columns(record.depot_id, record.location_id)
            writer.writerow([csv_cell(named[c] if c in named else getattr(out, c)) for c in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if found.next_after is None:
            return
        after = found.next_after
