"""What a possible duplicate tells the person who took it in, within what they may see.

A weapon whose identity (manufacturer under any of its spellings, model, calibre and serial) matches a record already held is
taken in all the same and flagged for a manager's review (``duplicate_review``). The warning links the
matching records in the depots the person may see; of a match held in any other depot it says only that
one is held elsewhere, never that depot's name, code or place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import AnyOf, rows_in
from caliber.items.makers import MakerList
from caliber.items.models import Item

__all__ = ["PossibleDuplicate", "possible_duplicates"]

_SAME_IDENTITY = select(Item.identity_key, Item.code, Item.depot_id).where(AnyOf(Item.identity_key, "keys")).order_by(Item.code)


@dataclass(frozen=True)
class PossibleDuplicate:
    """A record flagged for review: the matching records ``seen`` by the reader (label codes), and how many more
    are held in depots the reader may not see."""

    code: str
    serial: str
    maker: str
    seen: tuple[str, ...]
    elsewhere: int

    @property
    def message(self) -> str:
        """The warning in plain words, naming no depot."""
        held = []
        if self.seen:
            held.append("a record already held" if len(self.seen) == 1 else f"{len(self.seen)} records already held")
        if self.elsewhere:
            held.append("a record held elsewhere" if self.elsewhere == 1 else "records held elsewhere")
        return f"Saved, but serial {self.serial} by {self.maker} matches {' and '.join(held)}: flagged for review as a possible duplicate."

    @property
    def written(self) -> str:
        """The warning with the label codes of the matches the reader may open (for the API)."""
        return f"{self.message} Matching: {', '.join(self.seen)}." if self.seen else self.message


async def possible_duplicates(
    session: AsyncSession, actor: Actor, records: Sequence[Any], makers: MakerList
) -> list[PossibleDuplicate | None]:
    """For each item record (a row or model with code, serial, maker, model, calibre and ``duplicate_review``), its
    warning as ``actor`` may read it, or ``None`` where it is not flagged for review. Makers are compared by the
    reference list, so "Zastava" and "ZASTAVA ARMS" are one maker."""
    alike = {r.code: makers.identity_keys(r.manufacturer, r.model, r.calibre, r.serial) for r in records if r.duplicate_review == "open"}
    keys = sorted({key for same in alike.values() for key in same})
    matches: dict[str, list[Any]] = {}
    for row in await rows_in(session, _SAME_IDENTITY, keys=keys) if keys else []:
        matches.setdefault(row.identity_key, []).append(row)
    found: list[PossibleDuplicate | None] = []
    for record in records:
        others = [m for key in alike.get(record.code, ()) for m in matches.get(key, []) if m.code != record.code]
        if record.duplicate_review != "open" or not others:
            found.append(None)
            continue
        seen = tuple(m.code for m in others if actor.can_see_depot(m.depot_id))
        maker = f"{record.manufacturer} {record.model}"
        found.append(PossibleDuplicate(record.code, record.serial, maker, seen, len(others) - len(seen)))
    return found
