"""Counts by local day and month and jurisdiction: the figures of a period add up a few rows instead of every record.

Each record contributes, at the moments it went through them, to measures
(:func:`contributions`). The projections keep ``report_day`` and
``report_month`` in step with ``report_record``: whatever changes a record
takes its old contributions out and puts its new ones in (:func:`counted`),
in the same transaction.

A sum "before instant T" (:func:`sums`) adds the months before T's month
and the days of T's month through T's day, then takes out the records of the
rest of T's day (none when T is now: the ledger records nothing ahead of its
clock). Days and months are those of the region's time zone (:data:`BUCKET_ZONE`:
the six jurisdictions all keep Central European Time), so report periods,
which begin at local midnights, add up whole months; a period in another
time zone stays exact to the second and only reads more records.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, delete, func, literal_column, or_, select, union, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import AnyQuery, execute_many
from caliber.items.lifecycle import IntakeSource
from caliber.reports.models import ReportDay, ReportHold, ReportMonth, ReportRecord

__all__ = [
    "BUCKET_ZONE",
    "COHORTS",
    "DAYS_BUCKET",
    "MEASURES_AT",
    "TAKEN_IN",
    "cohort_month",
    "contributions",
    "count",
    "counted",
    "days_bucket",
    "local_day",
    "midnight",
    "rows_of",
    "sums",
    "trace_outcome",
]

BUCKET_ZONE = ZoneInfo("Europe/Belgrade")
"""The time zone of the buckets' days and months."""
Contribution = tuple[dt.datetime, str, str, int, int, int, int]
"""(moment, measure, detail, records, pieces, net grams, gross grams)."""
TAKEN_IN = (IntakeSource.SEIZED.value, IntakeSource.FOUND.value, IntakeSource.SURRENDERED.value)
"""The intake sources of the weapons taken in from illicit possession (Goal 5)."""
MEASURES_AT = {
    "registered": "registered_at",
    "declared": "declared_at",
    "exit": "surplus_until",
    "destroyed_type": "destroyed_at",
    "destroyed_method": "destroyed_at",
    "ammunition": "destroyed_at",
    "days_intake": "destroyed_at",
    "days_declared": "destroyed_at",
    "taken_destroyed": "destroyed_at",
    "held": "",
    "trace_started": "trace_started_at",
    "trace_ended": "trace_ended_at",
    "established": "trace_ended_at",
}
"""The record's column that says when each measure counts it (``held``: the record's evidence holds, begun and ended)."""
COHORTS = ("taken_destroyed", "held", "trace_started", "trace_ended")
"""The measures counted by cohort (detail ``YYYY-MM|source``: the month a weapon taken in was registered, and how;
``trace_ended`` adds ``|`` and how its trace ended: ``origin_established``, ``origin_not_established`` or the reason
it was excepted)."""
CHUNK = 500
VALUES = ("n", "pieces", "net_g", "gross_g")
"""What a count row adds up."""
Sums = dict[tuple[str, str, str], list[list[int]]]
"""``(jurisdiction, measure, detail) -> [[records, pieces, net, gross] per instant]``."""


def contributions(row: Mapping[str, Any]) -> Iterator[Contribution]:
    """What one record adds to the counts, and when (weapons by measure; lots only when destroyed).

    A weapon taken in (:data:`TAKEN_IN`) also counts, under the month it was
    registered and its source (``2026-03|seized``: its cohort), when it is
    destroyed and when each of its evidence holds (``row["holds"]``) begins
    (+1) and ends (-1), and when its trace starts and ends (and how). Any weapon whose origin is established counts
    then (``established``).
    """
    if row["kind"] == "weapon":
        yield row["registered_at"], "registered", row["intake_source"], 1, 0, 0, 0
        if row["declared_at"] is not None:
            yield row["declared_at"], "declared", "", 1, 0, 0, 0
            if row["surplus_until"] is not None:
                yield row["surplus_until"], "exit", "", 1, 0, 0, 0
        if row["destroyed_at"] is not None:
            yield row["destroyed_at"], "destroyed_type", row["category"], 1, 0, 0, 0
            for method in row["methods"].split(","):
                yield row["destroyed_at"], "destroyed_method", method, 1, 0, 0, 0
            for measure, days in (("days_intake", row["days_from_intake"]), ("days_declared", row["days_from_declaration"])):
                if days is not None:
                    yield row["destroyed_at"], measure, days_bucket(days), 1, 0, 0, 0
        if row["intake_source"] in TAKEN_IN:
            cohort = f"{cohort_month(row['registered_at'])}|{row['intake_source']}"
            if row["destroyed_at"] is not None:
                yield row["destroyed_at"], "taken_destroyed", cohort, 1, 0, 0, 0
            for held_at, released_at in row["holds"]:
                yield held_at, "held", cohort, 1, 0, 0, 0
                if released_at is not None:
                    yield released_at, "held", cohort, -1, 0, 0, 0
            if row["trace_started_at"] is not None:
                yield row["trace_started_at"], "trace_started", cohort, 1, 0, 0, 0
            if row["trace_ended_at"] is not None:
                yield row["trace_ended_at"], "trace_ended", f"{cohort}|{trace_outcome(row)}", 1, 0, 0, 0
        if row["trace_end"] == "origin_established":
            yield row["trace_ended_at"], "established", "", 1, 0, 0, 0
    elif row["kind"] == "lot" and row["destroyed_at"] is not None:
        yield row["destroyed_at"], "ammunition", "", 1, row["pieces"], row["net_g"], row["gross_g"]


def trace_outcome(row: Mapping[str, Any]) -> str:
    """How a concluded trace ended, as the counts keep it: the origin established or not, or the reason of its exception."""
    return str(row["exception_reason"] if row["trace_end"] == "excepted" else row["trace_end"])


def cohort_month(moment: dt.datetime) -> str:
    """The month of ``moment`` in :data:`BUCKET_ZONE` as a cohort's detail (``"2026-03"``)."""
    return f"{local_day(moment):%Y-%m}"


DAYS_BUCKET = 30
"""Days to destruction are counted in buckets of 30 days; a percentile then reads the records of one bucket."""


def days_bucket(days: float) -> str:
    """The bucket of ``days`` (``"004"``: 120 to 150 days), as a sortable detail."""
    return f"{math.floor(days) // DAYS_BUCKET:03d}"


def local_day(moment: dt.datetime) -> dt.date:
    """The day of ``moment`` in :data:`BUCKET_ZONE`."""
    return moment.astimezone(BUCKET_ZONE).date()


def midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in :data:`BUCKET_ZONE`, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=BUCKET_ZONE).astimezone(dt.UTC)


async def rows_of(session: AsyncSession, codes: Sequence[str]) -> list[dict[str, Any]]:
    """The report rows of ``codes`` as they stand, each with its evidence holds (``holds``: (held at, released at) pairs)
    when it is a weapon taken in (the only holds the counts read)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(codes), CHUNK):
        query = select(ReportRecord.__table__).where(ReportRecord.code.in_(codes[start : start + CHUNK]))
        found.extend(dict(row) for row in (await session.execute(query)).mappings())
    taken = [row["code"] for row in found if row["kind"] == "weapon" and row["intake_source"] in TAKEN_IN]
    holds: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for start in range(0, len(taken), CHUNK):
        query = select(ReportHold.code, ReportHold.held_at, ReportHold.released_at).where(ReportHold.code.in_(taken[start : start + CHUNK]))
        for code, held_at, released_at in (await session.execute(query)).all():
            holds.setdefault(code, []).append((held_at, released_at))
    for row in found:
        row["holds"] = holds.get(row["code"], [])
    return found


async def count(session: AsyncSession, removed: Iterable[Mapping[str, Any]], added: Iterable[Mapping[str, Any]]) -> None:
    """Take the contributions of ``removed`` rows out of the day and month counts and put those of ``added`` in."""
    deltas: dict[tuple[str, dt.date, str, str], list[int]] = {}
    for sign, rows in ((-1, removed), (1, added)):
        for row in rows:
            for moment, measure, detail, *values in contributions(row):
                total = deltas.setdefault((row["jurisdiction"], local_day(moment), measure, detail), [0, 0, 0, 0])
                for k, value in enumerate(values):
                    total[k] += sign * value
    months: dict[tuple[str, dt.date, str, str], list[int]] = {}
    for (jurisdiction, day, measure, detail), values in deltas.items():
        total = months.setdefault((jurisdiction, day.replace(day=1), measure, detail), [0, 0, 0, 0])
        for k, value in enumerate(values):
            total[k] += value
    await _add(session, ReportDay.__table__, "day", deltas)
    await _add(session, ReportMonth.__table__, "month", months)


async def _add(session: AsyncSession, table: Any, period: str, deltas: dict[tuple[str, dt.date, str, str], list[int]]) -> None:
    changes = [
        {"jurisdiction": j, period: when, "measure": m, "detail": d, "n": n, "pieces": p, "net_g": ne, "gross_g": g}
        for (j, when, m, d), (n, p, ne, g) in deltas.items()
        if n or p or ne or g
    ]
    if not changes:
        return
    upsert, emptied = _count_statements(session.get_bind().dialect.name, table, period)
    await execute_many(session, upsert, changes)
    # a count that comes to nothing leaves no row, as if nothing had been counted (a replay that nets the same changes
    # in one batch writes none)
    await execute_many(session, emptied, changes)


_COUNT_STATEMENTS: dict[tuple[str, str], tuple[Any, Any]] = {}


def _count_statements(dialect: str, table: Any, period: str) -> tuple[Any, Any]:
    """For one count table: the upsert that adds a row's values to its key's, and the delete of its key's row where
    every value has come to nothing (both with a parameter per column, built once)."""
    if (dialect, table.name) not in _COUNT_STATEMENTS:
        key = ["jurisdiction", period, "measure", "detail"]
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        insert = insert.values({name: bindparam(name, type_=table.c[name].type) for name in [*key, *VALUES]})
        upsert = insert.on_conflict_do_update(
            index_elements=[table.c[name] for name in key],
            set_={name: table.c[name] + insert.excluded[name] for name in VALUES},
        )
        emptied = delete(table).where(
            *(table.c[name] == bindparam(name, type_=table.c[name].type) for name in key),
            *(table.c[name] == literal_column("0") for name in VALUES),
        )
        _COUNT_STATEMENTS[(dialect, table.name)] = (upsert, emptied)
    return _COUNT_STATEMENTS[(dialect, table.name)]


@asynccontextmanager
async def counted(session: AsyncSession, codes: Sequence[str]) -> AsyncIterator[None]:
    """Keep the counts in step with whatever the block changes in the report rows of ``codes``."""
    before = await rows_of(session, codes)
    yield
    await session.flush()
    await count(session, before, await rows_of(session, codes))


async def sums(
    session: AsyncSession,
    scope: Sequence[Any],
    jurisdictions: Sequence[str],
    instants: Sequence[dt.datetime],
    measures: Collection[str],
    *,
    since_first: Collection[str] | bool = False,
    cohorts_from: str = "",
) -> Sums:
    """For each instant, the sums of ``measures`` counted before it; those of ``since_first`` (every one with ``True``)
    since the first instant instead; those of :data:`COHORTS` only of the cohorts from month ``cohorts_from`` (``YYYY-MM``) on.

    ``scope`` are the conditions on ``report_record`` that select ``jurisdictions``
    (the counts hold whole jurisdictions: depot-scoped readers add up records instead).
    """
    firsts = set(measures) if since_first is True else set(since_first or ())
    days = [local_day(moment) for moment in instants]
    months = [day.replace(day=1) for day in days]
    totals = ["n", "pieces", "net_g", "gross_g"] if "ammunition" in measures else ["n"]
    out: Sums = {}

    def add(key: tuple[str, str, str], k: int, values: Sequence[int], sign: int = 1) -> None:
        slot = out.setdefault(key, [[0, 0, 0, 0] for _ in instants])[k]
        for i, value in enumerate(values):
            slot[i] += sign * int(value or 0)

    month = ReportMonth
    columns = [func.sum(case((month.month < m, getattr(month, name)), else_=0)) for m in months for name in totals]
    branches = []
    # one index range of months for each group of measures: those since the first instant from its month on
    for group, since in ((set(measures) - firsts, None), (set(measures) & firsts, months[0])):
        if not group:
            continue
        where = [month.measure.in_(sorted(group)), month.jurisdiction.in_(list(jurisdictions)), month.month < max(months)]
        if since is not None:
            where.append(month.month >= since)
        if cohorts_from and group & set(COHORTS):
            where.append(or_(month.measure.not_in(COHORTS), month.detail >= cohorts_from))
        query = select(month.jurisdiction, month.measure, month.detail, *columns).where(*where)
        branches.append(query.group_by(month.jurisdiction, month.measure, month.detail))
    for jurisdiction, measure, detail, *values in (await session.execute(union_all(*branches))).all():
        for k in range(len(instants)):
            add((jurisdiction, measure, detail), k, values[k * len(totals) : (k + 1) * len(totals)])
    # the days of each instant's month before it: up to its day when it is a midnight; otherwise its whole day, less
    # the records of the rest of that day (none when the instant is now: the ledger records nothing ahead of its clock)
    aligned = [midnight(d) == moment for d, moment in zip(days, instants, strict=True)]
    lasts = [d - dt.timedelta(days=1) if at_midnight else d for d, at_midnight in zip(days, aligned, strict=True)]
    spans = {(m, last) for m, last in zip(months, lasts, strict=True) if m <= last}
    if spans:
        day = ReportDay
        ranges = or_(*(day.day.between(m, last) for m, last in spans))
        daily: AnyQuery = select(day.jurisdiction, day.measure, day.detail, day.day, *(getattr(day, name) for name in totals)).where(
            day.measure.in_(list(measures)), day.jurisdiction.in_(list(jurisdictions)), ranges
        )
        if cohorts_from:
            daily = daily.where(or_(day.measure.not_in(COHORTS), day.detail >= cohorts_from))
        for jurisdiction, measure, detail, when, *values in (await session.execute(daily)).all():
            for k, (m, last) in enumerate(zip(months, lasts, strict=True)):
                if m <= when <= last:
                    add((jurisdiction, measure, detail), k, values)
    windows = [
        (moment, moment if at_midnight else midnight(d + dt.timedelta(days=1)))
        for d, moment, at_midnight in zip(days, instants, aligned, strict=True)
    ]
    for row in await _partial_rows(session, scope, windows, measures):
        for moment, measure, detail, *values in contributions(row):
            if measure in measures and (measure not in COHORTS or detail >= cohorts_from):
                for k, (start, end) in enumerate(windows):
                    if start <= moment < end:
                        add((row["jurisdiction"], measure, detail), k, values, sign=-1)
    # what the first instant's month held before it is not "since the first instant"
    for (_, measure, _), values in out.items():
        if measure in firsts:
            first = values[0]
            for k in range(1, len(values)):
                values[k] = [a - b for a, b in zip(values[k], first, strict=True)]
            values[0] = [0, 0, 0, 0]
    return out


async def _partial_rows(
    session: AsyncSession, scope: Sequence[Any], windows: list[tuple[dt.datetime, dt.datetime]], measures: Collection[str]
) -> list[dict[str, Any]]:
    """The records with a moment of ``measures`` inside any of ``windows`` (the rest of a day after an instant)."""
    columns = sorted({MEASURES_AT[measure] for measure in measures} - {""})
    spans = [(start, end) for start, end in set(windows) if start < end]
    branches = [
        select(ReportRecord.code).where(*scope, getattr(ReportRecord, column) >= start, getattr(ReportRecord, column) < end)
        for column in columns
        for start, end in spans
    ]
    if "held" in measures:
        hold = ReportHold
        branches += [
            select(hold.code)
            .join(ReportRecord, ReportRecord.code == hold.code)
            .where(*scope, or_(and_(hold.held_at >= start, hold.held_at < end), and_(hold.released_at >= start, hold.released_at < end)))
            for start, end in spans
        ]
    if not branches:
        return []
    codes = [code for (code,) in (await session.execute(union(*branches))).all()]
    return await rows_of(session, codes)
