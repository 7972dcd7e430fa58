"""Where label printers are, by ledger subject (``printer:{id}``): what the ledger's read scope asks.

A printer is a record of the depot it is registered for: its events (name,
host, port) are read by whoever reads that depot, as its register is.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.labels.models import Printer
from caliber.ledger.scope import SubjectScope, subject_id

__all__ = ["printer_scopes"]

CHUNK = 500


async def printer_scopes(session: AsyncSession, subjects: Sequence[str]) -> dict[str, SubjectScope]:
    """The depot of each printer among ``subjects`` (keys of no printer: in none)."""
    wanted: dict[UUID, str] = {}
    found: dict[str, SubjectScope] = {}
    for subject in subjects:
        if subject.partition(":")[0] == "printer":
            found[subject] = SubjectScope.in_depots([])
            if (printer_id := subject_id(subject)) is not None:
                wanted[printer_id] = subject
    ids = list(wanted)
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(select(Printer.id, Printer.depot_id).where(Printer.id.in_(ids[start : start + CHUNK])))
        found |= {wanted[printer_id]: SubjectScope.in_depots([depot_id]) for printer_id, depot_id in rows}
    return found
