"""How traces stand, for the pages and the command line: the steps taken on a weapon's trace, what is due and
overdue in words, and the weapons whose trace is still to do or under way. Reads only; the rules stay in
:mod:`caliber.tracing.lifecycle` and the changes in :mod:`caliber.tracing.service`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, or_, select

from caliber.accounts.actor import Actor
from caliber.db import Database
from caliber.depots.models import Depot
from caliber.items.lifecycle import Status
from caliber.items.models import Item
from caliber.ledger import canonical
from caliber.ledger.models import LedgerEntry, LedgerSubject
from caliber.tracing.lifecycle import CONCLUDED, TRACED_SOURCES, TraceState
from caliber.tracing.models import IncomingTrace, RequestStatus, TraceRequest, WeaponTrace

__all__ = [
    "DUE_SOON_DAYS",
    "DueCounts",
    "DueLine",
    "Standing",
    "ToTrace",
    "TraceEntry",
    "due_counts",
    "due_lines",
    "standing",
    "trace_entries",
    "weapons_to_trace",
]

DUE_SOON_DAYS = 7
"""An open request due within this many days is "due this week"."""
TRACE_EVENTS = (
    "trace.step_recorded",
    "trace.excepted",
    "trace.request_sent",
    "trace.request_answered",
    "trace.incoming_answered",
    "trace.iarms_hit",
)


@dataclass(frozen=True)
class Standing:
    """How a request stands, in words ("due in 3 days", "5 days overdue", "answered late"), and whether it is to be
    marked: open after its due day, or answered after it."""

    words: str
    overdue: bool
    late: bool


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def standing(due: dt.date, answered_on: dt.date | None, today: dt.date) -> Standing:
    """How a request due on ``due`` (answered on ``answered_on``, or open) stands ``today``."""
    if answered_on is not None:
        if answered_on > due:
            return Standing(f"answered late, {_days((answered_on - due).days)} after it was due", overdue=False, late=True)
        return Standing(f"answered on {answered_on:%Y-%m-%d}, in time", overdue=False, late=False)
    if today > due:
        return Standing(f"{_days((today - due).days)} overdue", overdue=True, late=False)
    if today == due:
        return Standing("due today", overdue=False, late=False)
    return Standing(f"due in {_days((due - today).days)}", overdue=False, late=False)


@dataclass(frozen=True)
class DueCounts:
    """Open requests (sent and to answer) in an actor's depots: how many are overdue, how many due this week."""

    overdue: int
    due_soon: int

    @property
    def sentence(self) -> str:
        """ "2 trace requests are overdue, 1 due this week" (empty when nothing is)."""
        parts = []
        if self.overdue:
            parts.append(f"{self.overdue} trace request{' is' if self.overdue == 1 else 's are'} overdue")
        if self.due_soon:
            noun = "" if self.overdue else (" trace request" if self.due_soon == 1 else " trace requests")
            parts.append(f"{self.due_soon}{noun} due this week")
        return ", ".join(parts)


async def due_counts(db: Database, actor: Actor, today: dt.date) -> DueCounts:
    """The open requests of ``actor``'s depots overdue on ``today``, and those due within :data:`DUE_SOON_DAYS`."""
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    overdue, due_soon = 0, 0
    for model in (TraceRequest, IncomingTrace):
        query: Any = select(
            func.coalesce(func.sum(case((model.due < today, 1), else_=0)), 0),
            func.coalesce(func.sum(case(((model.due >= today) & (model.due <= soon), 1), else_=0)), 0),
        ).where(model.status == RequestStatus.OPEN.value, model.due <= soon)
        if not actor.sees_all_depots:
            if model is TraceRequest:
                query = query.join(Item, Item.code == TraceRequest.code).where(Item.depot_id.in_(list(actor.depot_ids)))
            else:
                query = query.where(IncomingTrace.depot_id.in_(list(actor.depot_ids)))
        async with db.read() as session:
            row = (await session.execute(query)).one()
        overdue, due_soon = overdue + int(row[0]), due_soon + int(row[1])
    return DueCounts(overdue, due_soon)


@dataclass(frozen=True)
class TraceEntry:
    """One custody event of a weapon's trace as its page lists it: when, by whom, what type, and its data."""

    time: dt.datetime
    actor: str
    type: str
    data: dict[str, Any]


async def trace_entries(db: Database, code: str) -> list[TraceEntry]:
    """The tracing events about weapon ``code``, oldest first (the caller has checked the actor reads it)."""
    query = (
        select(LedgerEntry.data)
        .join(LedgerSubject, LedgerSubject.idx == LedgerEntry.idx)
        .where(LedgerSubject.subject == code, LedgerEntry.event_type.in_(TRACE_EVENTS))
        .order_by(LedgerEntry.idx)
    )
    async with db.read() as session:
        events = [canonical.check(data) for data in await session.scalars(query)]
    return [TraceEntry(dt.datetime.fromisoformat(e["time"]), e["actor"]["name"], e["type"], e["data"]) for e in events]


@dataclass(frozen=True)
class ToTrace:
    """A page of weapons whose trace is to do or under way, each with its state, and the cursor of the next page."""

    rows: list[tuple[Item, TraceState]]
    next_after: UUID | None


async def weapons_to_trace(db: Database, actor: Actor, *, after: UUID | None = None, limit: int = 50) -> ToTrace:
    """Weapons of the traced intake sources in ``actor``'s depots whose trace is not concluded, newest first, one
    page at a time by keyset. Voided records (entered in error) are left out; destroyed weapons stay, as their trace
    can still be finished from the record and its photos."""
    query = (
        select(Item, WeaponTrace.state)
        .outerjoin(WeaponTrace, WeaponTrace.code == Item.code)
        .where(Item.kind == "weapon", Item.intake_source.in_(sorted(TRACED_SOURCES)), Item.status != Status.VOID.value)
        .where(or_(WeaponTrace.state.is_(None), WeaponTrace.state.not_in(sorted(CONCLUDED))))
    )
    if not actor.sees_all_depots:
        query = query.where(Item.depot_id.in_(list(actor.depot_ids)))
    if after is not None:
        query = query.where(Item.id < after)
    async with db.read() as session:
        found = [
            (item, TraceState(state or TraceState.NOT_STARTED))
            for item, state in await session.execute(query.order_by(Item.id.desc()).limit(limit + 1))
        ]
    more = len(found) > limit
    return ToTrace(found[:limit], found[limit - 1][0].id if more else None)


@dataclass(frozen=True)
class DueLine:
    """One open request overdue or due soon, as the command line reports it."""

    kind: str
    """``sent`` (we await an answer) or ``incoming`` (we must answer)."""
    depot: str
    due: dt.date
    stands: Standing
    what: str
    path: str
    """Its page, below the base URL."""


async def due_lines(db: Database, today: dt.date, days: int) -> list[DueLine]:
    """Every open request of every depot due by ``today + days`` (overdue ones included), the soonest due first."""
    until = today + dt.timedelta(days=days)
    sent = (
        select(TraceRequest, Depot.code)
        .join(Item, Item.code == TraceRequest.code)
        .join(Depot, Depot.id == Item.depot_id)
        .where(TraceRequest.status == RequestStatus.OPEN.value, TraceRequest.due <= until)
    )
    incoming = (
        select(IncomingTrace, Depot.code)
        .join(Depot, Depot.id == IncomingTrace.depot_id)
        .where(IncomingTrace.status == RequestStatus.OPEN.value, IncomingTrace.due <= until)
    )
    async with db.read() as session:
        lines = [
            DueLine(
                "sent",
                depot,
                r.due,
                standing(r.due, None, today),
                f"to {r.addressee} about {r.code} (serial {r.identifiers.get('serial', '')}, case {r.case_reference})",
                f"/tracing/requests/{r.id}",
            )
            for r, depot in await session.execute(sent)
        ]
        lines += [
            DueLine(
                "incoming",
                depot,
                i.due,
                standing(i.due, None, today),
                f"from {i.requesting_state}, their reference {i.their_reference} (serial {i.identifiers.get('serial', '')})",
                f"/tracing/incoming/{i.id}",
            )
            for i, depot in await session.execute(incoming)
        ]
    return sorted(lines, key=lambda line: (line.due, line.kind, line.depot))
