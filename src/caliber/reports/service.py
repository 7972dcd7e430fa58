"""Roadmap measures for a period, by jurisdiction, computed from the report projection (never typed in).

Definitions (weapons are records of kind ``weapon``; a period is ``[start, end)``):

- declared: weapons first declared surplus in the period
- destroyed: weapons destroyed in the period, by UN type and by method
- surplus stock at an instant T: weapons declared before T, not destroyed and
  not taken out of the surplus (retained, returned, transferred out,
  deactivated, voided) before T; at the start and at the end of the period
- taken in: weapons registered in the period from seizure, finds and voluntary
  surrender, by source; of them, those destroyed before the end, and those on
  evidence hold at the end
- ammunition destroyed: pieces, net explosive and gross mass of lots destroyed
- days from intake, and from declaration, to destruction of the weapons destroyed
  in the period: median and 90th percentile (nearest rank)
- stockpile security (Goal 7): depots, those with a full stock check closed in
  the twelve months before the end, discrepancies found by checks closed in the
  period, and records missing now
- tracing (SDG 16.4.2): of the weapons taken in (as above; a collection
  programme's are traced but, as in Goal 5, not counted), those whose origin was
  established by the end of the period, as a share with one decimal; beside it
  traced but origin not established, excepted by reason, open, not started; and
  the trace requests sent, answered (late), overdue, and those from other states
  (definitions in :mod:`caliber.reports.trace_figures`)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import Database
from caliber.errors import InvalidInput
from caliber.ledger.models import LedgerHead
from caliber.ledger.store import HEAD_ID
from caliber.reports.models import ReportHold, ReportRecord, ReportRequest
from caliber.reports.periods import Period
from caliber.reports.summary import DAYS_BUCKET, TAKEN_IN, cohort_month, contributions, local_day, midnight, rows_of, sums
from caliber.reports.trace_figures import (
    RECORD_DRILLS,
    REQUEST_DRILLS,
    TRACE_COHORTS,
    Tracing,
    add_counted,
    finish,
    record_filter,
    request_counts,
    request_filter,
    request_scope,
)
from caliber.stockchecks.security import security

__all__ = [
    "DRILLS",
    "JURISDICTIONS",
    "PARTS",
    "REQUEST_DRILLS",
    "TAKEN_IN",
    "Figures",
    "ReportService",
    "Snapshot",
    "Tracing",
    "measure_filter",
    "nearest_rank",
]

JURISDICTIONS = ("AL", "BA", "XK", "ME", "MK", "RS")
PARTS = frozenset({"counts", "stock", "taken_in", "durations", "security", "tracing"})
"""The parts of :class:`Figures` computed apart: the additive counts, the surplus stock, the outcomes of the weapons taken
in, the days to destruction, Goal 7, and tracing (SDG 16.4.2). A caller that reads only some asks only for them."""


@dataclass
class Figures:
    """Every measure of one jurisdiction for one period."""

    declared: int = 0
    destroyed: int = 0
    surplus_start: int = 0
    surplus_end: int = 0
    taken_in: dict[str, int] = field(default_factory=dict)
    taken_in_destroyed: dict[str, int] = field(default_factory=dict)
    taken_in_held: dict[str, int] = field(default_factory=dict)
    destroyed_by_type: dict[str, int] = field(default_factory=dict)
    destroyed_by_method: dict[str, int] = field(default_factory=dict)
    ammunition_pieces: int = 0
    ammunition_net_g: int = 0
    ammunition_gross_g: int = 0
    days_from_intake: tuple[float, float] | None = None
    days_from_declaration: tuple[float, float] | None = None
    depots: int = 0
    depots_counted: int = 0
    """Depots with a full stock check closed in the twelve months before the period's end (Goal 7)."""
    discrepancies: int = 0
    """Missing, misplaced and unknown records and lot differences found by stock checks closed in the period."""
    missing_now: int = 0
    """Records reported missing and not found since, as of today."""
    tracing: Tracing = field(default_factory=Tracing)
    """SDG 16.4.2 and the trace requests (the ``tracing`` part)."""


def nearest_rank(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (sorted or not): the smallest value with ``share`` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class Snapshot:
    """Figures of a period as they stood at one ledger tree size (read in one consistent transaction)."""

    period: Period
    figures: dict[str, Figures]
    tree_size: int
    root: bytes
    computed_at: dt.datetime


DRILLS = (
    "declared",
    "destroyed",
    "destroyed_by_method",
    "surplus_start",
    "surplus_end",
    "taken_in",
    "taken_in_destroyed",
    "taken_in_held",
    "ammunition",
    *RECORD_DRILLS,
)
"""Measures whose records can be listed (those of :data:`REQUEST_DRILLS` list trace requests instead).

``detail`` narrows: the UN type of ``destroyed``, the method of
``destroyed_by_method`` (needed), the intake source of the ``taken_in`` ones,
the reason of ``traced_excepted``.
"""


class ReportService:
    """Measures from the report projection."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def figures(
        self, actor: Actor, period: Period, jurisdictions: Iterable[str] = JURISDICTIONS, *, parts: Iterable[str] = PARTS
    ) -> dict[str, Figures]:
        """The measures of ``period`` for each jurisdiction (those of ``parts``, the others left at zero); depot staff count
        their own depots only."""
        async with self.db.read() as session:
            return await _figures(session, actor, period, _wanted(actor, jurisdictions), frozenset(parts))

    async def snapshot(self, actor: Actor, period: Period, jurisdictions: Iterable[str] = JURISDICTIONS) -> Snapshot:
        """:meth:`figures` with the ledger's tree size and root they were computed at, read as one snapshot."""
        async with self.db.read() as session:
            if not self.db.is_sqlite:  # one snapshot for every statement (SQLite's read transaction is one already)
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            head = await session.execute(select(LedgerHead.size, LedgerHead.root).where(LedgerHead.id == HEAD_ID))
            size, root = head.one_or_none() or (0, b"")
            figures = await _figures(session, actor, period, _wanted(actor, jurisdictions), PARTS)
        return Snapshot(period, figures, size, root, dt.datetime.now(dt.UTC))

    async def records(
        self, actor: Actor, period: Period, jurisdiction: str, measure: str, detail: str | None = None, *, after: str = "", limit: int = 200
    ) -> list[ReportRecord]:
        """The records behind one number: ``measure`` of ``jurisdiction`` in ``period``, by label code after ``after``."""
        where = [*_scope(actor, _wanted(actor, [jurisdiction])), *measure_filter(measure, period, detail), ReportRecord.code > after]
        query = select(ReportRecord).where(*where).order_by(ReportRecord.code).limit(limit)
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def requests(
        self, actor: Actor, period: Period, jurisdiction: str, measure: str, *, after: str = "", limit: int = 200
    ) -> list[ReportRequest]:
        """The trace requests behind one number (``measure`` of :data:`REQUEST_DRILLS`), by id after ``after``."""
        where = request_filter(measure, period)
        wanted = _wanted(actor, [jurisdiction])
        scope = request_scope(wanted, None if actor.sees_all_depots else actor.depot_ids)
        query = select(ReportRequest).where(*scope, *where)
        if after:
            query = query.where(ReportRequest.id > _request_id(after))
        async with self.db.read() as session:
            return list(await session.scalars(query.order_by(ReportRequest.id).limit(limit)))

    async def timeline(
        self, actor: Actor, instants: list[dt.datetime], jurisdictions: Iterable[str] = JURISDICTIONS
    ) -> dict[str, tuple[list[int], list[int]]]:
        """By jurisdiction, at each of ``instants`` (ascending): weapons destroyed since the first, and the declared surplus stock."""
        wanted = _wanted(actor, jurisdictions)
        scope = _scope(actor, wanted)
        destroyed = {j: [0] * len(instants) for j in wanted}
        async with self.db.read() as session:
            if _whole(actor):  # one sum of the counts: the stock from the beginning, the destroyed since the first instant
                stock = {j: [0] * len(instants) for j in wanted}
                found = await sums(session, scope, wanted, instants, ["declared", "exit", "destroyed_type"], since_first=["destroyed_type"])
                for (jurisdiction, measure, _), values in found.items():
                    sign, into = {"declared": (1, stock), "exit": (-1, stock), "destroyed_type": (1, destroyed)}[measure]
                    for k, (n, *_) in enumerate(values):
                        into[jurisdiction][k] += sign * n
            else:
                stock = await _stock_at(session, actor, scope, wanted, instants)
                query = select(
                    ReportRecord.jurisdiction, *(func.count(case((ReportRecord.destroyed_at < at, 1))) for at in instants)
                ).where(*_weapons(scope), ReportRecord.destroyed_at >= instants[0], ReportRecord.destroyed_at < instants[-1])
                for jurisdiction, *counts in (await session.execute(query.group_by(ReportRecord.jurisdiction))).all():
                    destroyed[jurisdiction] = [int(c) for c in counts]
        return {j: (destroyed[j], stock[j]) for j in wanted}

    async def clearance(
        self, actor: Actor, baseline: dt.datetime, now: dt.datetime, jurisdictions: Iterable[str] = JURISDICTIONS
    ) -> dict[str, tuple[int, int]]:
        """By jurisdiction: declared surplus weapons in stock at ``baseline``, and how many of them are still in stock at ``now``."""
        wanted = _wanted(actor, jurisdictions)
        scope = _scope(actor, wanted)
        r = ReportRecord
        remaining: dict[str, int] = {}
        async with self.db.read() as session:
            stock = await _stock_at(session, actor, scope, wanted, [baseline])
            # still in stock: never left it (the index's NULL range), or left it after ``now``
            for still in (r.surplus_until.is_(None), r.surplus_until >= now):
                query = select(r.jurisdiction, func.count()).where(*_weapons(scope), still, r.declared_at < baseline)
                for jurisdiction, n in (await session.execute(query.group_by(r.jurisdiction))).all():
                    remaining[jurisdiction] = remaining.get(jurisdiction, 0) + int(n)
        return {jurisdiction: (stock[jurisdiction][0], remaining.get(jurisdiction, 0)) for jurisdiction in wanted}


def _request_id(after: str) -> UUID:
    try:
        return UUID(after)
    except ValueError:
        raise InvalidInput("after is the id of the last request listed", field="after") from None


def _whole(actor: Actor) -> bool:
    """Whether ``actor`` reads whole jurisdictions (the daily counts serve them; depot staff add up their depots' records)."""
    return not actor.role.is_depot_staff


async def _figures(session: AsyncSession, actor: Actor, period: Period, wanted: list[str], parts: frozenset[str]) -> dict[str, Figures]:
    if unknown := parts - PARTS:
        raise ValueError(f"no such parts of the figures: {sorted(unknown)}")
    out = {j: Figures() for j in wanted}
    scope = _scope(actor, wanted)
    if _whole(actor):
        await _counted(session, scope, wanted, period, out, parts=parts)
    else:
        if "counts" in parts:
            await _recounted(session, scope, period, out)
        if "stock" in parts:
            stock = await _stock_at(session, actor, scope, wanted, [period.start, period.end])
            for jurisdiction, (start, end) in stock.items():
                out[jurisdiction].surplus_start, out[jurisdiction].surplus_end = start, end
        if "taken_in" in parts:
            await _taken_in(session, scope, period, out)
        if "durations" in parts:
            await _durations(session, scope, period, out)
        if "tracing" in parts:
            await _traced(session, scope, period, out)
    if "tracing" in parts:
        tracing = {j: f.tracing for j, f in out.items()}
        await request_counts(session, wanted, None if actor.sees_all_depots else actor.depot_ids, period, tracing)
        for traced in tracing.values():
            finish(traced)
    if "security" in parts:
        found = await security(session, period.start, period.end, None if actor.sees_all_depots else actor.depot_ids)
        for jurisdiction, figures in found.items():
            if jurisdiction in out:
                out[jurisdiction].depots, out[jurisdiction].depots_counted = figures.depots, figures.depots_counted
                out[jurisdiction].discrepancies, out[jurisdiction].missing_now = figures.discrepancies, figures.missing_now
    return out


DURATIONS = {
    "days_intake": ("days_from_intake", ReportRecord.days_from_intake),
    "days_declared": ("days_from_declaration", ReportRecord.days_from_declaration),
}


COUNTED = {
    "counts": ("registered", "declared", "destroyed_type", "destroyed_method", "ammunition"),
    "stock": ("declared", "exit"),
    "taken_in": ("taken_destroyed", "held"),
    "durations": ("days_intake", "days_declared"),
    "tracing": ("registered", *TRACE_COHORTS, "established"),
}
"""The measures of the counts each part of the figures reads (the stock's from the beginning, the others' over the period)."""
OUTCOMES = {"taken_destroyed": "taken_in_destroyed", "held": "taken_in_held"}
"""The cohort counts of the outcomes of the weapons taken in, and the figures they make."""


async def _counted(
    session: AsyncSession, scope: list[Any], wanted: list[str], period: Period, out: dict[str, Figures], *, parts: frozenset[str]
) -> None:
    """The parts of the figures the counts hold, from one sum of the counts at the period's start and end."""
    measures = {measure for part in parts for measure in COUNTED.get(part, ())}
    if not measures:
        return
    absolute = set(COUNTED["stock"]) if "stock" in parts else set()
    first_cohort = cohort_month(period.start)  # the weapons registered since the period's start: their cohorts from its month on
    found = await sums(
        session, scope, wanted, [period.start, period.end], measures, since_first=measures - absolute, cohorts_from=first_cohort
    )
    buckets: Buckets = {}
    for (jurisdiction, measure, detail), (before, after) in found.items():
        figures = out[jurisdiction]
        n = after[0] - before[0]  # during the period (``before`` is zero for the measures summed since its start)
        if measure in absolute:
            sign = 1 if measure == "declared" else -1
            figures.surplus_start += sign * before[0]
            figures.surplus_end += sign * after[0]
        if not n:
            continue
        if "counts" in parts:
            if measure == "registered" and detail in TAKEN_IN:
                figures.taken_in[detail] = n
            elif measure == "declared":
                figures.declared = n
            elif measure == "destroyed_type":
                figures.destroyed += n
                figures.destroyed_by_type[detail] = n
            elif measure == "destroyed_method":
                figures.destroyed_by_method[detail] = n
            elif measure == "ammunition":
                pieces, net, gross = (a - b for a, b in zip(after[1:], before[1:], strict=True))
                figures.ammunition_pieces, figures.ammunition_net_g, figures.ammunition_gross_g = pieces, net, gross
        if measure in OUTCOMES:  # ``sums`` gave only the cohorts from the period's first month on
            counts = getattr(figures, OUTCOMES[measure])
            source = detail.split("|")[1]
            counts[source] = counts.get(source, 0) + n
        if measure in DURATIONS:
            buckets.setdefault((jurisdiction, measure), []).append((int(detail), n))
        if "tracing" in parts and measure in COUNTED["tracing"] and (measure != "registered" or detail in TAKEN_IN):
            add_counted(figures.tracing, measure, detail, n)
    if parts & {"taken_in", "tracing"}:
        await _before_the_start(session, scope, period, out, parts)
    if "durations" in parts:
        await _picked(session, period, buckets, out)


async def _before_the_start(
    session: AsyncSession, scope: list[Any], period: Period, out: dict[str, Figures], parts: frozenset[str]
) -> None:
    """Take out of the taken-in outcomes (and traces) the weapons of the first cohort registered before the period began
    (a period that starts inside a month of the counts: another time zone); their outcomes are read from their records."""
    month_start = midnight(local_day(period.start).replace(day=1))
    if month_start < period.start:
        r = ReportRecord
        query = select(r.code).where(
            *scope, r.kind == "weapon", r.intake_source.in_(TAKEN_IN), r.registered_at >= month_start, r.registered_at < period.start
        )
        for row in await rows_of(session, list(await session.scalars(query))):
            for moment, measure, detail, n, *_ in contributions(row):
                if not period.start <= moment < period.end:
                    continue
                if measure in TRACE_COHORTS and "tracing" in parts:
                    add_counted(out[row["jurisdiction"]].tracing, measure, detail, -n)
                if measure in OUTCOMES and "taken_in" in parts:
                    counts = getattr(out[row["jurisdiction"]], OUTCOMES[measure])
                    source = detail.split("|")[1]
                    counts[source] = counts.get(source, 0) - n
    for figures in out.values():
        for name in OUTCOMES.values():
            setattr(figures, name, {source: n for source, n in getattr(figures, name).items() if n})


async def _stock_at(
    session: AsyncSession, actor: Actor, scope: list[Any], wanted: list[str], instants: list[dt.datetime]
) -> dict[str, list[int]]:
    """The declared surplus weapons in stock at each of ``instants``, by jurisdiction."""
    stock = {j: [0] * len(instants) for j in wanted}
    if _whole(actor):
        for (jurisdiction, measure, _), values in (await sums(session, scope, wanted, instants, ["declared", "exit"])).items():
            sign = 1 if measure == "declared" else -1
            for k, (n, *_) in enumerate(values):
                stock[jurisdiction][k] += sign * n
        return stock
    query = select(ReportRecord.jurisdiction, *(func.count(case((_in_stock(at), 1))) for at in instants)).where(
        *_weapons(scope), ReportRecord.declared_at < max(instants)
    )
    for jurisdiction, *counts in (await session.execute(query.group_by(ReportRecord.jurisdiction))).all():
        stock[jurisdiction] = [int(c) for c in counts]
    return stock


def measure_filter(measure: str, period: Period, detail: str | None = None) -> list[Any]:
    """What a record must be to count in ``measure`` over ``period`` (the one definition the counts and the lists share)."""
    if measure not in DRILLS or (measure == "destroyed_by_method" and not detail):
        raise InvalidInput(f"measure must be one of {', '.join((*DRILLS, *REQUEST_DRILLS))}", field="measure")
    r = ReportRecord
    weapon = r.kind == "weapon"
    if measure in RECORD_DRILLS:
        return record_filter(measure, period, detail, [weapon, _during(r.registered_at, period), r.intake_source.in_(TAKEN_IN)])
    if measure == "declared":
        return [weapon, _during(r.declared_at, period)]
    if measure in {"surplus_start", "surplus_end"}:
        return [weapon, _in_stock(period.start if measure == "surplus_start" else period.end)]
    if measure == "ammunition":
        return [r.kind == "lot", _during(r.destroyed_at, period)]
    if measure.startswith("destroyed"):
        destroyed = [weapon, _during(r.destroyed_at, period)]
        if detail is not None and measure == "destroyed":
            destroyed.append(r.category == detail)
        if measure == "destroyed_by_method":
            destroyed.append((literal(",") + r.methods + ",").like(f"%,{detail},%"))
        return destroyed
    taken_in = [weapon, _during(r.registered_at, period), r.intake_source.in_(TAKEN_IN)]
    if detail is not None:
        taken_in.append(r.intake_source == detail)
    if measure == "taken_in_destroyed":
        taken_in.append(r.destroyed_at < period.end)
    elif measure == "taken_in_held":
        on_hold = exists().where(
            ReportHold.code == r.code,
            ReportHold.held_at < period.end,
            or_(ReportHold.released_at.is_(None), ReportHold.released_at >= period.end),
        )
        taken_in.append(on_hold)
    return taken_in


def _wanted(actor: Actor, jurisdictions: Iterable[str]) -> list[str]:
    """The jurisdictions asked for that ``actor`` reads, in the Roadmap's order."""
    asked = set(jurisdictions)
    return [j for j in JURISDICTIONS if j in asked and actor.reads_jurisdiction(j)]


def _scope(actor: Actor, wanted: list[str]) -> list[Any]:
    scope = [ReportRecord.jurisdiction.in_(wanted)]
    if not actor.sees_all_depots:
        scope.append(ReportRecord.depot_id.in_(list(actor.depot_ids)))
    return scope


def _weapons(scope: list[Any]) -> list[Any]:
    return [*scope, ReportRecord.kind == "weapon"]


def _during(column: Any, period: Period) -> Any:
    return and_(column >= period.start, column < period.end)


def _in_stock(at: dt.datetime) -> Any:
    r = ReportRecord
    return and_(r.declared_at < at, or_(r.surplus_until.is_(None), r.surplus_until >= at))


async def _count_by(session: AsyncSession, where: list[Any], *columns: Any) -> list[Any]:
    query = select(ReportRecord.jurisdiction, *columns, func.count()).where(*where).group_by(ReportRecord.jurisdiction, *columns)
    return list((await session.execute(query)).all())


async def _recounted(session: AsyncSession, scope: list[Any], period: Period, out: dict[str, Figures]) -> None:
    """The additive measures of ``period`` counted from the records (depot staff: the counts hold whole jurisdictions)."""
    for jurisdiction, n in await _count_by(session, [*scope, *measure_filter("declared", period)]):
        out[jurisdiction].declared = n
    for jurisdiction, source, n in await _count_by(session, [*scope, *measure_filter("taken_in", period)], ReportRecord.intake_source):
        out[jurisdiction].taken_in[source] = n
    grouped = await _count_by(session, [*scope, *measure_filter("destroyed", period)], ReportRecord.category, ReportRecord.methods)
    for jurisdiction, category, methods, n in grouped:
        figures = out[jurisdiction]
        figures.destroyed += n
        figures.destroyed_by_type[category] = figures.destroyed_by_type.get(category, 0) + n
        for method in methods.split(","):
            figures.destroyed_by_method[method] = figures.destroyed_by_method.get(method, 0) + n
    query = (
        select(ReportRecord.jurisdiction, func.sum(ReportRecord.pieces), func.sum(ReportRecord.net_g), func.sum(ReportRecord.gross_g))
        .where(*scope, *measure_filter("ammunition", period))
        .group_by(ReportRecord.jurisdiction)
    )
    for jurisdiction, pieces, net, gross in (await session.execute(query)).all():
        out[jurisdiction].ammunition_pieces, out[jurisdiction].ammunition_net_g, out[jurisdiction].ammunition_gross_g = (
            int(pieces or 0),
            int(net or 0),
            int(gross or 0),
        )


async def _taken_in(session: AsyncSession, scope: list[Any], period: Period, out: dict[str, Figures]) -> None:
    """Of the weapons taken in during the period: destroyed by its end, and on evidence hold at its end."""
    for jurisdiction, source, n in await _count_by(
        session, [*scope, *measure_filter("taken_in_destroyed", period)], ReportRecord.intake_source
    ):
        out[jurisdiction].taken_in_destroyed[source] = n
    r, hold = ReportRecord, ReportHold
    taken_in = [r.kind == "weapon", _during(r.registered_at, period), r.intake_source.in_(TAKEN_IN)]
    # a hold of a record taken in during the period began in it: the holds of the period lead (the same count as taken_in_held)
    held = (
        select(r.jurisdiction, r.intake_source, func.count(func.distinct(r.code)))
        .join(hold, hold.code == r.code)
        .where(*scope, *taken_in, _during(hold.held_at, period), or_(hold.released_at.is_(None), hold.released_at >= period.end))
        .group_by(r.jurisdiction, r.intake_source)
    )
    for jurisdiction, source, n in (await session.execute(held)).all():
        out[jurisdiction].taken_in_held[source] = n


async def _traced(session: AsyncSession, scope: list[Any], period: Period, out: dict[str, Figures]) -> None:
    """The tracing figures of the weapons, counted from the records (depot staff: the counts hold whole jurisdictions)."""
    for jurisdiction, n in await _count_by(session, [*scope, *measure_filter("taken_in", period)]):
        out[jurisdiction].tracing.taken_in = n
    for measure, name in (
        ("traced_established", "established"),
        ("traced_not_established", "not_established"),
        ("traced_open", "open"),
        ("origins_established", "origins_established"),
    ):
        for jurisdiction, n in await _count_by(session, [*scope, *measure_filter(measure, period)]):
            setattr(out[jurisdiction].tracing, name, n)
    for jurisdiction, reason, n in await _count_by(
        session, [*scope, *measure_filter("traced_excepted", period)], ReportRecord.exception_reason
    ):
        out[jurisdiction].tracing.excepted[reason] = n


async def _durations(session: AsyncSession, scope: list[Any], period: Period, out: dict[str, Figures]) -> None:
    """Median and 90th percentile (nearest rank) of the days to destruction, ranked in the database in one pass."""
    r = ReportRecord
    columns = {"days_from_intake": r.days_from_intake, "days_from_declaration": r.days_from_declaration}
    ranks = []
    for name, column in columns.items():
        known = case((column.is_not(None), 1))
        ranks += [
            func.row_number().over(partition_by=(r.jurisdiction, known), order_by=column).label(f"{name}_rank"),
            func.count(known).over(partition_by=r.jurisdiction).label(f"{name}_of"),
        ]
    ranked = (
        select(r.jurisdiction.label("jurisdiction"), *columns.values(), *ranks)
        .where(*scope, *measure_filter("destroyed", period))
        .subquery()
    )
    wanted = []
    for name in columns:
        rank, of = ranked.c[f"{name}_rank"], ranked.c[f"{name}_of"]
        wanted += [and_(ranked.c[name].is_not(None), or_(rank == (of + 1) // 2, rank == (9 * of + 9) // 10))]
    query = select(ranked).where(or_(*wanted))
    found: dict[tuple[str, str], list[float]] = {}
    for row in (await session.execute(query)).mappings().all():
        for name in columns:
            days, rank, of = row[name], row[f"{name}_rank"], row[f"{name}_of"]
            if days is None:
                continue
            pair = found.setdefault((row["jurisdiction"], name), [0.0, 0.0])
            if rank == (of + 1) // 2:
                pair[0] = days
            if rank == (9 * of + 9) // 10:
                pair[1] = days
    for (jurisdiction, name), (middle, high) in found.items():
        setattr(out[jurisdiction], name, (middle, high))


Buckets = dict[tuple[str, str], list[tuple[int, int]]]
"""``(jurisdiction, measure) -> [(30-day bucket, weapons)]``."""


async def _picked(session: AsyncSession, period: Period, buckets: Buckets, out: dict[str, Figures]) -> None:
    """Median and 90th percentile (nearest rank) of the days to destruction: the 30-day buckets of the counts say which
    bucket holds each rank, and one statement reads each exact value from the records of its bucket alone."""
    picks = []
    for (jurisdiction, measure), counts in buckets.items():
        counts.sort()
        total = sum(n for _, n in counts)
        for which, rank in enumerate(((total + 1) // 2, (9 * total + 9) // 10)):
            before = 0
            for bucket, n in counts:
                if before + n >= rank:
                    picks.append((jurisdiction, measure, which, bucket, rank - before - 1))
                    break
                before += n
    if not picks:
        return
    r = ReportRecord
    destroyed = measure_filter("destroyed", period)
    branches = []
    for k, (jurisdiction, measure, _, bucket, offset) in enumerate(picks):
        column = DURATIONS[measure][1]
        low, below = bucket * DAYS_BUCKET, (bucket + 1) * DAYS_BUCKET
        value = (
            select(column.label("days"))
            .where(r.jurisdiction == jurisdiction, *destroyed, column >= low, column < below)
            .order_by(column)
            .limit(1)
            .offset(offset)
            .subquery()
        )
        branches.append(select(literal(k).label("pick"), value.c.days))
    values: dict[tuple[str, str], list[float]] = {}
    for k, days in (await session.execute(union_all(*branches))).all():
        jurisdiction, measure, which, _, _ = picks[k]
        values.setdefault((jurisdiction, measure), [0.0, 0.0])[which] = days
    for (jurisdiction, measure), (middle, high) in values.items():
        setattr(out[jurisdiction], DURATIONS[measure][0], (middle, high))
