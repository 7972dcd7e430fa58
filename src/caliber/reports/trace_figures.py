"""SDG 16.4.2 and tracing activity for a period, by jurisdiction (the ``tracing`` part of the figures).

Definitions (a period is ``[start, end)``; its days are the local days that begin in it):

- SDG 16.4.2, "the proportion of seized, found or surrendered arms whose illicit origin or context has been traced
  or established by a competent authority": of the weapons taken in during the period (Goal 5's: registered from
  seizure, finds and voluntary surrender; weapons of a collection programme are traced too but, as in Goal 5, are
  not counted among those taken in), those whose trace reached *origin established* before the period's end. Beside
  it, of the same weapons at the end: traced but origin not established, excepted (by reason), still open (a step
  recorded, not concluded) and not started. The share is a percentage with one decimal; none when none were taken in.
- origins established: weapons (of any intake and period) whose origin was established in the period
- trace requests sent in the period (by the day they were sent), answered in it (by the day the answer arrived)
  and of them answered late (after the due day), and overdue at the end: sent before the end, due on or before the
  period's last day, and not answered by its end
- requests from other states received in the period, answered in it, and overdue at the end (as above, answered
  by the time the answer was recorded)

A weapon counts where it is (as every other figure); a request sent, where its weapon is; a request received,
where the depot that answers it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.errors import InvalidInput
from caliber.reports.models import ReportRecord, ReportRequest
from caliber.reports.periods import Period
from caliber.reports.traces import RECEIVED, SENT

__all__ = [
    "RECORD_DRILLS",
    "REQUEST_DRILLS",
    "TRACE_COHORTS",
    "Tracing",
    "add_counted",
    "finish",
    "record_filter",
    "request_counts",
    "request_filter",
    "request_scope",
]

TRACE_COHORTS = ("trace_started", "trace_ended")
"""The cohort counts of the traces of the weapons taken in."""
RECORD_DRILLS = (
    "traced_established",
    "traced_not_established",
    "traced_excepted",
    "traced_open",
    "traced_not_started",
    "origins_established",
)
"""The tracing figures whose weapons can be listed (``traced_excepted`` narrowed by reason with ``detail``)."""
REQUEST_DRILLS = (
    "requests_sent",
    "requests_answered",
    "requests_answered_late",
    "requests_overdue",
    "incoming_received",
    "incoming_answered",
    "incoming_overdue",
)
"""The tracing figures whose trace requests can be listed."""


@dataclass
class Tracing:
    """SDG 16.4.2 and the tracing activity of one jurisdiction in one period (see the module's definitions)."""

    taken_in: int = 0
    """Weapons taken in during the period from seizure, finds and voluntary surrender: the denominator."""
    established: int = 0
    """Of them, origin established by the end of the period: the numerator."""
    not_established: int = 0
    excepted: dict[str, int] = field(default_factory=dict)
    """By reason of the exception."""
    open: int = 0
    not_started: int = 0
    share: float | None = None
    """``established`` as a percentage of ``taken_in``, one decimal (None: none taken in)."""
    origins_established: int = 0
    requests_sent: int = 0
    requests_answered: int = 0
    requests_answered_late: int = 0
    requests_overdue: int = 0
    incoming_received: int = 0
    incoming_answered: int = 0
    incoming_overdue: int = 0


def add_counted(tracing: Tracing, measure: str, detail: str, n: int) -> None:
    """Add ``n`` of one count (``registered``, a trace cohort or ``established``) to ``tracing``."""
    if measure == "registered":
        tracing.taken_in += n
    elif measure == "established":
        tracing.origins_established += n
    elif measure == "trace_started":
        tracing.open += n
    elif measure == "trace_ended":
        tracing.open -= n
        outcome = detail.split("|")[2]
        if outcome == "origin_established":
            tracing.established += n
        elif outcome == "origin_not_established":
            tracing.not_established += n
        else:
            tracing.excepted[outcome] = tracing.excepted.get(outcome, 0) + n


def finish(tracing: Tracing) -> None:
    """The weapons not started and the share, once the others are counted."""
    tracing.excepted = {reason: n for reason, n in tracing.excepted.items() if n}
    started = tracing.established + tracing.not_established + sum(tracing.excepted.values()) + tracing.open
    tracing.not_started = tracing.taken_in - started
    tracing.share = round(100 * tracing.established / tracing.taken_in, 1) if tracing.taken_in else None


def record_filter(measure: str, period: Period, detail: str | None, taken_in: list[Any]) -> list[Any]:
    """What a weapon must be to count in a tracing figure (``taken_in``: the conditions of Goal 5's weapons taken in)."""
    r = ReportRecord
    ended = r.trace_ended_at < period.end
    if measure == "origins_established":
        return [r.kind == "weapon", r.trace_end == "origin_established", r.trace_ended_at >= period.start, ended]
    if measure == "traced_established":
        return [*taken_in, r.trace_end == "origin_established", ended]
    if measure == "traced_not_established":
        return [*taken_in, r.trace_end == "origin_not_established", ended]
    if measure == "traced_excepted":
        return [*taken_in, r.trace_end == "excepted", ended, *([r.exception_reason == detail] if detail else [])]
    if measure == "traced_open":
        return [*taken_in, r.trace_started_at < period.end, or_(r.trace_ended_at.is_(None), r.trace_ended_at >= period.end)]
    if measure == "traced_not_started":
        return [*taken_in, or_(r.trace_started_at.is_(None), r.trace_started_at >= period.end)]
    raise InvalidInput(f"measure must be one of {', '.join(RECORD_DRILLS)}", field="measure")


def request_filter(measure: str, period: Period) -> list[Any]:
    """What a trace request must be to count in ``measure`` over ``period`` (the counts and the lists share it)."""
    q = ReportRequest
    first, after = period.days()
    sent, received = q.direction == SENT, q.direction == RECEIVED
    due_passed = [q.opened_on < after, q.due < after]
    filters = {
        "requests_sent": [sent, q.opened_on >= first, q.opened_on < after],
        "requests_answered": [sent, q.answered_on >= first, q.answered_on < after],
        "requests_answered_late": [sent, q.answered_on >= first, q.answered_on < after, q.answered_on > q.due],
        "requests_overdue": [sent, *due_passed, or_(q.answered_on.is_(None), q.answered_on >= after)],
        "incoming_received": [received, q.opened_on >= first, q.opened_on < after],
        "incoming_answered": [received, q.answered_at >= period.start, q.answered_at < period.end],
        "incoming_overdue": [received, *due_passed, or_(q.answered_at.is_(None), q.answered_at >= period.end)],
    }
    if measure not in filters:
        raise InvalidInput(f"measure must be one of {', '.join(REQUEST_DRILLS)}", field="measure")
    return filters[measure]


def request_scope(jurisdictions: list[str], depot_ids: frozenset[Any] | None) -> list[Any]:
    """The requests of ``jurisdictions`` (and of ``depot_ids`` only, unless None)."""
    scope = [ReportRequest.jurisdiction.in_(jurisdictions)]
    if depot_ids is not None:
        scope.append(ReportRequest.depot_id.in_(list(depot_ids)))
    return scope


async def request_counts(
    session: AsyncSession, jurisdictions: list[str], depot_ids: frozenset[Any] | None, period: Period, out: dict[str, Tracing]
) -> None:
    """Every request figure of ``period``, by jurisdiction: one statement, a branch per figure, each reading the index
    range of its own filter (the requests opened, answered, or not yet answered), never every request of the past."""
    scope = request_scope(jurisdictions, depot_ids)
    branches = [
        select(ReportRequest.jurisdiction, literal(n), func.count())
        .where(*scope, *request_filter(measure, period))
        .group_by(ReportRequest.jurisdiction)
        for n, measure in enumerate(REQUEST_DRILLS)
    ]
    for jurisdiction, n, count in (await session.execute(union_all(*branches))).all():
        setattr(out[jurisdiction], REQUEST_DRILLS[n], int(count))
