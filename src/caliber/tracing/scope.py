"""Where trace requests are, by ledger subject: what the ledger's read scope asks.

A trace request sent (``trace-request:{id}``) is a record of the depot its weapon is in now; a request from
another state (``trace-incoming:{id}``) of the depot that answers it. Their events also name the weapons'
label codes, whose scope the items domain gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.items.models import Item
from caliber.ledger.scope import SubjectScope, subject_id
from caliber.tracing.models import IncomingTrace, TraceRequest

__all__ = ["INCOMING", "REQUEST", "incoming_subject", "request_subject", "tracing_scopes"]

REQUEST = "trace-request"
INCOMING = "trace-incoming"
CHUNK = 500
_QUERIES: dict[str, Any] = {
    REQUEST: lambda ids: select(TraceRequest.id, Item.depot_id).join(Item, Item.code == TraceRequest.code).where(TraceRequest.id.in_(ids)),
    INCOMING: lambda ids: select(IncomingTrace.id, IncomingTrace.depot_id).where(IncomingTrace.id.in_(ids)),
}


def request_subject(request_id: UUID) -> str:
    """The ledger subject of a trace request sent."""
    return f"{REQUEST}:{request_id}"


def incoming_subject(incoming_id: UUID) -> str:
    """The ledger subject of a trace request from another state."""
    return f"{INCOMING}:{incoming_id}"


async def tracing_scopes(session: AsyncSession, subjects: Sequence[str]) -> dict[str, SubjectScope]:
    """The depot of each trace request among ``subjects`` (keys of no request: in none)."""
    wanted: dict[str, dict[UUID, str]] = {}
    found: dict[str, SubjectScope] = {}
    for subject in subjects:
        kind = subject.partition(":")[0]
        if kind in _QUERIES:
            found[subject] = SubjectScope.in_depots([])
            if (record_id := subject_id(subject)) is not None:
                wanted.setdefault(kind, {})[record_id] = subject
    for kind, by_id in wanted.items():
        ids = list(by_id)
        for start in range(0, len(ids), CHUNK):
            rows = await session.execute(_QUERIES[kind](ids[start : start + CHUNK]))
            found |= {by_id[record_id]: SubjectScope.in_depots([depot_id]) for record_id, depot_id in rows}
    return found
