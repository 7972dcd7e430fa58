"""Stock checks: fix what the records expect, scan what is there, reconcile, and confirm with a second person.

Events (flat ``data``):

- ``stockcheck.opened``: id, depot_id, location_id (None: the whole depot),
  items and lots (the codes expected; where they should be and how many pieces
  each lot should hold are fixed from the records at that moment)
- ``stockcheck.scanned``: id, code, location_id (where it was found), quantity (pieces counted, lots)
- ``stockcheck.counted``: id (the counter is done)
- ``stockcheck.closed``: id, found, missing, wrong_location, unknown,
  lot_differences (``code:expected:counted``): the summary; the missing records
  become ``missing`` for investigation. Whoever counted cannot close.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import new_id
from caliber.depots.models import Depot, Location
from caliber.depots.service import PATH_SEPARATOR
from caliber.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from caliber.items.access import DEPOT_STAFF, MANAGERS
from caliber.items.lifecycle import COUNTABLE
from caliber.items.models import AmmunitionLot, Item
from caliber.labels.codes import CodeError, read_code
from caliber.ledger.models import LedgerEntry, LedgerSubject
from caliber.ledger.store import Ledger
from caliber.steps import Step, first_refusal, role_refusal
from caliber.stockchecks.events import StockCheckClosed, StockCheckCounted, StockCheckOpened, StockCheckScanned
from caliber.stockchecks.models import StockCheck, StockCheckLine, StockCheckStatus
from caliber.stockchecks.schemas import NewStockCheck, Scan

__all__ = ["DueDepot", "Reconciliation", "StockCheckService", "StockCheckView", "reconcile", "stockcheck_subject"]


def stockcheck_subject(check_id: UUID) -> str:
    """The ledger subject of a stock check."""
    return f"stockcheck:{check_id}"


@dataclass(frozen=True)
class Reconciliation:
    """What a count found against what the records expected."""

    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    wrong_location: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    lot_differences: list[tuple[str, int, int]] = field(default_factory=list)
    """(code, expected pieces, counted pieces)."""


def reconcile(lines: Iterable[StockCheckLine]) -> Reconciliation:
    """Found, missing, found in the wrong location, unknown labels, lots whose count differs: pure, from the lines."""
    result = Reconciliation()
    for line in sorted(lines, key=lambda line: line.code):
        if not line.expected:
            if line.scanned:
                result.unknown.append(line.code)
            continue
        if not line.scanned:
            result.missing.append(line.code)
            continue
        result.found.append(line.code)
        if line.found_location_id is not None and line.found_location_id != line.expected_location_id:
            result.wrong_location.append(line.code)
        if line.kind == "lot" and line.counted_quantity is not None and line.counted_quantity != line.expected_quantity:
            result.lot_differences.append((line.code, line.expected_quantity or 0, line.counted_quantity))
    return result


@dataclass(frozen=True)
class StockCheckView:
    """A stock check, its lines, its depot and scope, and the reconciliation so far."""

    check: StockCheck
    depot: Depot
    scope: Location | None
    lines: list[StockCheckLine]
    result: Reconciliation
    counters: frozenset[str] = frozenset()
    """Who counted: the names of those who scanned a line into the check (from its ``stockcheck.scanned`` events)."""


@dataclass(frozen=True)
class DueDepot:
    """A depot and its last full count."""

    depot: Depot
    last_full_count: dt.datetime | None
    due: bool


class StockCheckService:
    """Opening, counting, reconciling and closing stock checks."""

    def __init__(self, ledger: Ledger, full_count_days: int = 365) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.full_count_days = full_count_days

    async def open(self, actor: Actor, new: NewStockCheck) -> StockCheckView:
        """Open a count and fix the expected list: every record on the shelves of the depot (or the part counted)."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            depot = await session.get(Depot, new.depot_id)
            if depot is None:
                raise InvalidInput(f"no depot with id {new.depot_id}", field="depot_id")
            actor.require_depot(depot.id, depot.code)
            query = select(StockCheck.id).where(StockCheck.depot_id == depot.id, StockCheck.status != StockCheckStatus.CLOSED.value)
            if await session.scalar(query) is not None:
                raise Conflict(f"depot {depot.code} has a stock check under way: close it first")
            in_scope = await _scope_filter(session, depot.id, new.location_id)
            countable = [s.value for s in COUNTABLE]
            item_query = select(Item.code).where(Item.depot_id == depot.id, Item.status.in_(countable), in_scope(Item))
            lot_query = select(AmmunitionLot.code).where(
                AmmunitionLot.depot_id == depot.id, AmmunitionLot.status.in_(countable), in_scope(AmmunitionLot)
            )
            check_id = new_id()
            opened = StockCheckOpened(
                id=check_id,
                depot_id=depot.id,
                location_id=new.location_id,
                items=sorted(await session.scalars(item_query)),
                lots=sorted(await session.scalars(lot_query)),
            )
            await tx.record(opened, [stockcheck_subject(check_id), f"depot:{depot.id}"])
            return await _view(session, check_id)

    async def scan(self, actor: Actor, check_id: UUID, scans: Sequence[Scan]) -> StockCheckView:
        """Record scans (a code as scanned or typed, where it was found, pieces for a lot): one event each."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            view = await _view(session, check_id)
            actor.require_depot(view.depot.id, view.depot.code)
            self.can_count(actor, view.check).require()
            events: list[tuple[StockCheckScanned, list[str]]] = []
            for scan in scans:
                try:
                    code = read_code(scan.code)
                except CodeError as exc:
                    raise InvalidInput(str(exc), field="code") from None
                if scan.location_id is not None:
                    location = await session.get(Location, scan.location_id)
                    if location is None or location.depot_id != view.depot.id:
                        raise InvalidInput(f"location {scan.location_id} is not in depot {view.depot.code}", field="location_id")
                scanned = StockCheckScanned(id=check_id, code=code, location_id=scan.location_id, quantity=scan.quantity)
                events.append((scanned, [stockcheck_subject(check_id)]))
            await tx.record_many(events)
            return await _view(session, check_id)

    async def finish_counting(self, actor: Actor, check_id: UUID) -> StockCheckView:
        """The counter is done; a different person confirms and closes."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            view = await _view(tx.session, check_id)
            actor.require_depot(view.depot.id, view.depot.code)
            self.can_count(actor, view.check).require()
            await tx.record(StockCheckCounted(id=check_id), [stockcheck_subject(check_id)])
            return await _view(tx.session, check_id)

    async def close(self, actor: Actor, check_id: UUID) -> StockCheckView:
        """Confirm the count (a manager who did not count): one event with the summary; missing records become missing."""
        actor.require_role(*MANAGERS)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            view = await _view(session, check_id)
            actor.require_depot(view.depot.id, view.depot.code)
            self.can_close(actor, view).require()
            result = view.result
            still_here = set(
                await session.scalars(
                    select(Item.code).where(
                        Item.code.in_(result.missing), Item.depot_id == view.depot.id, Item.status.in_([s.value for s in COUNTABLE])
                    )
                )
            ) | set(
                await session.scalars(
                    select(AmmunitionLot.code).where(
                        AmmunitionLot.code.in_(result.missing),
                        AmmunitionLot.depot_id == view.depot.id,
                        AmmunitionLot.status.in_([s.value for s in COUNTABLE]),
                    )
                )
            )
            closed = StockCheckClosed(
                id=check_id,
                found=len(result.found),
                missing=[c for c in result.missing if c in still_here],
                gone_since=[c for c in result.missing if c not in still_here],
                wrong_location=result.wrong_location,
                unknown=result.unknown,
                lot_differences=[f"{code}:{expected}:{counted}" for code, expected, counted in result.lot_differences],
            )
            await tx.record(closed, [stockcheck_subject(check_id), *closed.missing])
            return await _view(session, check_id)

    def can_count(self, actor: Actor, check: StockCheck) -> Step:
        """Whether ``actor`` may scan into ``check`` and say counting is done: depot staff, while it is open."""
        finished = check.status != StockCheckStatus.OPEN
        return first_refusal(
            "count",
            [role_refusal(actor, DEPOT_STAFF), Conflict("counting has finished: this check takes no more scans") if finished else None],
        )

    def can_close(self, actor: Actor, view: StockCheckView) -> Step:
        """Whether ``actor`` may confirm and close the check: a manager who did not count, once counting is done.

        Whoever counted cannot confirm: neither who said counting was done nor anyone who scanned a line into it.
        """
        check = view.check
        status = StockCheckStatus(check.status)
        not_counted = {
            StockCheckStatus.OPEN: "the counter has not finished counting",
            StockCheckStatus.CLOSED: "this check is closed already",
        }.get(status)
        scanned = "you scanned records into this count: whoever counts cannot confirm, another manager closes this check"
        finished = "you finished this count: whoever counts cannot confirm, another manager closes this check"
        counted = scanned if actor.username in view.counters else finished if actor.username == check.counted_by else None
        return first_refusal(
            "close",
            [role_refusal(actor, MANAGERS), Conflict(not_counted) if not_counted else None, PermissionDenied(counted) if counted else None],
        )

    async def get(self, actor: Actor, check_id: UUID) -> StockCheckView:
        """One stock check with its reconciliation so far."""
        async with self.db.read() as session:
            view = await _view(session, check_id)
        actor.require_depot(view.depot.id, view.depot.code)
        return view

    async def list(self, actor: Actor, *, status: StockCheckStatus | None = None, limit: int = 100) -> list[StockCheck]:
        """Stock checks of the actor's depots, newest first."""
        query = select(StockCheck).order_by(StockCheck.id.desc()).limit(limit)
        if not actor.sees_all_depots:
            query = query.where(StockCheck.depot_id.in_(actor.depot_ids))
        if status is not None:
            query = query.where(StockCheck.status == status.value)
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def due(self, actor: Actor, today: dt.datetime | None = None) -> builtins.list[DueDepot]:
        """Every active depot in the actor's scope with its last closed full count; due when older than the setting."""
        today = today or dt.datetime.now(dt.UTC)
        last = (
            select(StockCheck.depot_id, func.max(StockCheck.closed_at).label("last"))
            .where(StockCheck.status == StockCheckStatus.CLOSED.value, StockCheck.location_id.is_(None))
            .group_by(StockCheck.depot_id)
            .subquery()
        )
        query = select(Depot, last.c.last).outerjoin(last, last.c.depot_id == Depot.id).where(Depot.active.is_(True)).order_by(Depot.code)
        if not actor.sees_all_depots:
            query = query.where(Depot.id.in_(actor.depot_ids))
        limit = dt.timedelta(days=self.full_count_days)
        async with self.db.read() as session:
            rows = (await session.execute(query)).all()
        return [DueDepot(depot, when, when is None or today - when > limit) for depot, when in rows]


async def _scope_filter(session: AsyncSession, depot_id: UUID, location_id: UUID | None) -> Any:
    """A filter for records inside the counted part of the tree (None: the whole depot)."""
    if location_id is None:
        return lambda model: True
    scope = await session.get(Location, location_id)
    if scope is None or scope.depot_id != depot_id:
        raise InvalidInput(f"location {location_id} is not in this depot", field="location_id")
    inside = select(Location.id).where(
        Location.depot_id == depot_id,
        or_(Location.path == scope.path, Location.path.startswith(scope.path + PATH_SEPARATOR, autoescape=True)),
    )
    return lambda model: model.location_id.in_(inside)


async def _view(session: AsyncSession, check_id: UUID) -> StockCheckView:
    check = await session.get(StockCheck, check_id)
    if check is None:
        raise NotFound(f"no stock check {check_id}")
    depot = await session.get(Depot, check.depot_id)
    scope = await session.get(Location, check.location_id) if check.location_id else None
    lines = list(await session.scalars(select(StockCheckLine).where(StockCheckLine.check_id == check_id)))
    if depot is None:  # pragma: no cover (a check always names a depot)
        raise NotFound(f"the depot of stock check {check_id} is missing")
    return StockCheckView(check, depot, scope, lines, reconcile(lines), await _counters(session, check_id))


class _Logged(msgspec.Struct):
    """The member of a logged event that says who did it."""

    actor: dict[str, Any]


async def _counters(session: AsyncSession, check_id: UUID) -> frozenset[str]:
    """The names of those who scanned into the check, read from its ``stockcheck.scanned`` events on the ledger."""
    query = (
        select(LedgerEntry.data)
        .join(LedgerSubject, LedgerSubject.idx == LedgerEntry.idx)
        .where(LedgerSubject.subject == stockcheck_subject(check_id), LedgerEntry.event_type == StockCheckScanned.type)
    )
    decode = msgspec.json.Decoder(_Logged).decode
    return frozenset(str(decode(data).actor.get("name")) for data in await session.scalars(query))
