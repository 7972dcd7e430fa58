"""A destruction's manifest as a CSV download: each line with the record it names and what became of it.

A manifest line keeps the label code; the file carries what a person checks against the weapon or the crate
(type, serial, maker, model, calibre; lot number, quantity, mass), and who verified it by full name. Streamed a
page of lines at a time, the records and names of a page read together (a few statements per page, whatever
its length).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from caliber.accounts.actor import Actor
from caliber.accounts.people import full_names
from caliber.destruction.service import DestructionService
from caliber.items.queries import records_by_code
from caliber.items.records import kilograms
from caliber.web import csv_cell

__all__ = ["MANIFEST_COLUMNS", "manifest_rows"]

MANIFEST_COLUMNS = (
    "label_code",
    "kind",
    "type",
    "serial",
    "manufacturer",
    "model",
    "calibre",
    "lot_number",
    "quantity",
    "gross_mass_kg",
    "status",
    "serial_read",
    "verified_by",
    "verified_by_name",
    "verified_at",
    "reason",
    "missing",
)
PAGE = 5000


def _described(kind: str, record: Any) -> dict[str, Any]:
    """What the manifest file says of a weapon, component or lot (blank where the record is not known)."""
    if record is None:
        return {}
    if kind == "item":
        return {
            "type": record.component_type or record.un_type,
            "serial": record.serial,
            "manufacturer": record.manufacturer,
            "model": record.model,
            "calibre": record.calibre,
        }
    return {
        "type": record.nature,
        "manufacturer": record.manufacturer,
        "calibre": record.calibre,
        "lot_number": record.lot_number,
        "quantity": record.quantity,
        "gross_mass_kg": kilograms(record.gross_mass_g),
    }


async def manifest_rows(destructions: DestructionService, actor: Actor, event_id: UUID) -> AsyncIterator[str]:
    """The manifest of ``event_id`` as CSV text, :data:`MANIFEST_COLUMNS`, a page of lines at a time."""
    await destructions.get(actor, event_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_COLUMNS)
    after = ""
    while True:
        lines = await destructions.lines(actor, event_id, after=after, limit=PAGE)
        async with destructions.db.read() as session:
            records = await records_by_code(session, [x.code for x in lines])
            people = await full_names(session, (x.verified_by for x in lines))
        for x in lines:
            kind, record = records.get(x.code, (x.kind, None))
            row: dict[str, Any] = {
                "label_code": x.code,
                "kind": x.kind,
                "status": x.status,
                "serial_read": x.serial_read,
                "verified_by": x.verified_by,
                "verified_by_name": people.get(x.verified_by or "", ""),
                "verified_at": x.verified_at.isoformat() if x.verified_at else "",
                "reason": x.reason,
                "missing": x.missing,
                **_described(kind, record),
            }
            writer.writerow([csv_cell(row.get(column, "")) for column in MANIFEST_COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(lines) < PAGE:
            return
        after = lines[-1].code
