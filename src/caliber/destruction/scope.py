"""Where destruction events are, by ledger subject (their label codes): what the ledger's read scope asks.

A destruction concerns its organising depot and, where the destruction site is
a depot, that depot too: the same scope its pages apply.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import AnyOf, rows_in
from caliber.destruction.models import DestructionEvent
from caliber.labels.codes import is_valid, kind_of
from caliber.ledger.scope import SubjectScope

__all__ = ["destruction_scopes"]

_BY_CODE = select(DestructionEvent.code, DestructionEvent.depot_id, DestructionEvent.site_depot_id).where(
    AnyOf(DestructionEvent.code, "codes")
)


async def destruction_scopes(session: AsyncSession, subjects: Sequence[str]) -> dict[str, SubjectScope]:
    """The depots of each destruction among ``subjects`` (one statement; codes of no event: in none)."""
    codes = [subject for subject in subjects if is_valid(subject) and kind_of(subject) == "destruction"]
    if not codes:
        return {}
    found = dict.fromkeys(codes, SubjectScope.in_depots([]))
    return found | {code: SubjectScope.in_depots([depot, site]) for code, depot, site in await rows_in(session, _BY_CODE, codes=codes)}
