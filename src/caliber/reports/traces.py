"""The reports' projection of tracing: where each weapon's trace stands, and the trace requests sent and received.

Registered as projections of the tracing events (after tracing's own appliers,
in the same transaction, and again on replay):

- ``trace.step_recorded`` / ``trace.excepted``: when the weapon's trace started
  and ended, and how (origin established or not, or excepted with its reason),
  on its ``report_record`` row and in the counts (:mod:`caliber.reports.summary`)
- ``trace.request_sent`` / ``trace.request_answered``: a ``sent`` row of
  ``report_request`` where the weapon is; the day its answer arrived
- ``trace.incoming_registered`` / ``trace.incoming_answered``: a ``received``
  row where its depot is; when it was answered
- ``transfer.received``: the requests sent about the weapons that arrived move
  with them
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.depots.service import DepotService
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.reports.models import ReportRecord, ReportRequest
from caliber.reports.summary import counted
from caliber.tracing.events import (
    IncomingTraceAnswered,
    IncomingTraceRegistered,
    TraceExcepted,
    TraceRequestAnswered,
    TraceRequestSent,
    TraceStepRecorded,
)
from caliber.tracing.lifecycle import TraceStep
from caliber.transfers.events import TransferReceived

__all__ = ["ENDS", "RECEIVED", "SENT", "appliers"]

appliers = Appliers("reports_tracing", tables=["report_request"])
"""The reports' views of the tracing events."""
SENT, RECEIVED = "sent", "received"
"""The directions of a trace request: sent about a weapon held here, received from another state."""
ENDS = frozenset({TraceStep.ORIGIN_ESTABLISHED.value, TraceStep.ORIGIN_NOT_ESTABLISHED.value})
"""The steps that conclude a trace (an exception concludes it too)."""
CHUNK = 500


async def _trace(session: AsyncSession, code: str, moment: dt.datetime, end: str = "", reason: str = "") -> None:
    """The weapon's trace started at ``moment`` unless it had already; and ended there when ``end`` is given."""
    r = ReportRecord
    async with counted(session, [code]):
        await session.execute(update(r).where(r.code == code, r.trace_started_at.is_(None)).values(trace_started_at=moment))
        if end:
            await session.execute(update(r).where(r.code == code).values(trace_ended_at=moment, trace_end=end, exception_reason=reason))


@appliers.projection(TraceStepRecorded)
async def _step(session: AsyncSession, event: Recorded[TraceStepRecorded]) -> None:
    step = event.data.step.value
    await _trace(session, event.data.code, event.moment, step if step in ENDS else "")


@appliers.projection(TraceExcepted)
async def _excepted(session: AsyncSession, event: Recorded[TraceExcepted]) -> None:
    await _trace(session, event.data.code, event.moment, "excepted", event.data.reason.value)


@appliers.projection(TraceRequestSent)
async def _sent(session: AsyncSession, event: Recorded[TraceRequestSent]) -> None:
    data = event.data
    await _trace(session, data.code, event.moment)
    where = (await session.execute(select(ReportRecord.depot_id, ReportRecord.jurisdiction).where(ReportRecord.code == data.code))).one()
    session.add(
        ReportRequest(
            id=data.id, direction=SENT, code=data.code, depot_id=where[0], jurisdiction=where[1], opened_on=data.sent_on, due=data.due
        )
    )
    await session.flush()


@appliers.projection(TraceRequestAnswered)
async def _answered(session: AsyncSession, event: Recorded[TraceRequestAnswered]) -> None:
    await session.execute(
        update(ReportRequest).where(ReportRequest.id == event.data.id).values(answered_on=event.data.received_on, answered_at=event.moment)
    )


@appliers.projection(IncomingTraceRegistered)
async def _incoming(session: AsyncSession, event: Recorded[IncomingTraceRegistered]) -> None:
    data = event.data
    jurisdiction = (await DepotService.jurisdictions_of(session, {data.depot_id}))[data.depot_id]
    session.add(
        ReportRequest(
            id=data.id, direction=RECEIVED, depot_id=data.depot_id, jurisdiction=jurisdiction, opened_on=data.received_on, due=data.due
        )
    )
    await session.flush()


@appliers.projection(IncomingTraceAnswered)
async def _incoming_answered(session: AsyncSession, event: Recorded[IncomingTraceAnswered]) -> None:
    await session.execute(update(ReportRequest).where(ReportRequest.id == event.data.id).values(answered_at=event.moment))


@appliers.projection(TransferReceived)
async def _moved(session: AsyncSession, event: Recorded[TransferReceived]) -> None:
    codes = event.data.received
    if not codes:
        return
    to_depot: UUID = await DepotService.transfer_destination(session, event.data.id)
    jurisdiction = (await DepotService.jurisdictions_of(session, {to_depot}))[to_depot]
    for start in range(0, len(codes), CHUNK):
        await session.execute(
            update(ReportRequest)
            .where(ReportRequest.direction == SENT, ReportRequest.code.in_(codes[start : start + CHUNK]))
            .values(depot_id=to_depot, jurisdiction=jurisdiction)
        )
