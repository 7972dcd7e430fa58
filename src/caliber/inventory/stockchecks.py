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

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

import msgspec
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import insert_many, new_id
from caliber.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from caliber.inventory.items import DEPOT_STAFF, MANAGERS
from caliber.inventory.lifecycle import COUNTABLE, Action, Status
from caliber.inventory.models import AmmunitionLot, Depot, Item, Location, StockCheck, StockCheckLine, StockCheckStatus
from caliber.inventory.schemas import MAX_PIECES
from caliber.inventory.service import PATH_SEPARATOR
from caliber.inventory.status import apply_transition
from caliber.inventory.stockcheck_events import StockCheckClosed, StockCheckCounted, StockCheckOpened, StockCheckScanned
from caliber.labels import service as labels
from caliber.labels.codes import CodeError, read_code
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger
from caliber.schemas import Input
from caliber.steps import Step, first_refusal, role_refusal

__all__ = [
    "DueDepot",
    "NewStockCheck",
    "Reconciliation",
    "Scan",
    "Security",
    "StockCheckService",
    "StockCheckView",
    "appliers",
    "reconcile",
    "security",
    "stockcheck_subject",
]

appliers = Appliers("stockchecks", tables=["stock_check", "stock_check_line"])
"""The events of stock checks, and what applies them."""


def stockcheck_subject(check_id: UUID) -> str:
    """The ledger subject of a stock check."""
    return f"stockcheck:{check_id}"


class Scan(Input, forbid_unknown_fields=True):
    """One scan during a count: a code, where it was found, and for a lot the pieces counted."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=400)]
    location_id: UUID | None = None
    quantity: Annotated[int, msgspec.Meta(ge=0, le=MAX_PIECES)] | None = None


class NewStockCheck(Input, forbid_unknown_fields=True):
    """A count of a depot, or of one part of its storage tree."""

    depot_id: UUID
    location_id: UUID | None = None


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
            self.can_close(actor, view.check).require()
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

    def can_close(self, actor: Actor, check: StockCheck) -> Step:
        """Whether ``actor`` may confirm and close ``check``: a manager who did not count, once counting is done."""
        status = StockCheckStatus(check.status)
        not_counted = {
            StockCheckStatus.OPEN: "the counter has not finished counting",
            StockCheckStatus.CLOSED: "this check is closed already",
        }.get(status)
        return first_refusal(
            "close",
            [
                role_refusal(actor, MANAGERS),
                Conflict(not_counted) if not_counted else None,
                PermissionDenied("whoever counts cannot confirm: another manager closes this check")
                if check.counted_by == actor.username
                else None,
            ],
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

    async def due(self, actor: Actor, today: dt.datetime | None = None) -> list[DueDepot]:
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
    return StockCheckView(check, depot, scope, lines, reconcile(lines))


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


# -- appliers ---------------------------------------------------------------------------------


@appliers.on(StockCheckOpened)
async def _opened(session: AsyncSession, event: Recorded[StockCheckOpened]) -> None:
    data = event.data
    session.add(
        StockCheck(
            id=data.id,
            depot_id=data.depot_id,
            location_id=data.location_id,
            status=StockCheckStatus.OPEN.value,
            opened_by=event.actor["name"],
            opened_at=event.moment,
        )
    )
    await session.flush()
    rows: list[dict[str, Any]] = []
    for model, kind, codes in ((Item, "item", data.items), (AmmunitionLot, "lot", data.lots)):
        quantity = model.quantity if model is AmmunitionLot else None
        for start in range(0, len(codes), 500):
            found = await session.execute(select(model.code, model.location_id, quantity).where(model.code.in_(codes[start : start + 500])))
            rows += [
                {
                    "check_id": data.id,
                    "code": code,
                    "kind": kind,
                    "expected_location_id": location_id,
                    "expected_quantity": pieces,
                    "expected": True,
                    "found_location_id": None,
                    "counted_quantity": None,
                    "scanned": False,
                }
                for code, location_id, pieces in found.all()
            ]
    await insert_many(session, StockCheckLine.__table__, rows)


@appliers.on(StockCheckScanned, batch=True)
async def _scanned(session: AsyncSession, events: list[Recorded[StockCheckScanned]]) -> None:
    keys = list(dict.fromkeys((e.data.id, e.data.code) for e in events))
    checks = {key[0] for key in keys}
    codes = {key[1] for key in keys}
    query = select(StockCheckLine).where(StockCheckLine.check_id.in_(checks), StockCheckLine.code.in_(codes))
    lines = {(line.check_id, line.code): line for line in await session.scalars(query)}
    unexpected = sorted(codes - {code for _, code in lines})
    kinds = await labels.kinds(session, unexpected)
    for event in events:
        data = event.data
        key = (data.id, data.code)
        line = lines.get(key)
        if line is None:
            line = StockCheckLine(check_id=key[0], code=key[1], kind=kinds.get(key[1], "unknown"), expected=False)
            session.add(line)
            lines[key] = line
        line.scanned = True
        line.found_location_id = data.location_id or line.found_location_id
        if data.quantity is not None:
            line.counted_quantity = data.quantity
    await session.flush()


@appliers.on(StockCheckCounted)
async def _counted(session: AsyncSession, event: Recorded[StockCheckCounted]) -> None:
    check = await session.get(StockCheck, event.data.id)
    if check is None:
        raise LookupError(f"stock check {event.data.id} was never opened")
    check.status = StockCheckStatus.COUNTED.value
    check.counted_by = event.actor["name"]
    await session.flush()


@appliers.on(StockCheckClosed)
async def _closed(session: AsyncSession, event: Recorded[StockCheckClosed]) -> None:
    data = event.data
    check = await session.get(StockCheck, data.id)
    if check is None:
        raise LookupError(f"stock check {data.id} was never opened")
    moment = event.moment
    check.status = StockCheckStatus.CLOSED.value
    check.closed_by = event.actor["name"]
    check.closed_at = moment
    check.found = data.found
    check.missing = len(data.missing) + len(data.gone_since)
    check.wrong_location = len(data.wrong_location)
    check.unknown = len(data.unknown)
    check.lot_differences = len(data.lot_differences)
    for model in (Item, AmmunitionLot):
        for record in await session.scalars(select(model).where(model.code.in_(data.missing))):
            apply_transition(record, Action.REPORT_MISSING, moment)
    await session.flush()
