"""What applies the events of tracing to its tables, live and on replay: the one place each event changes them."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.tracing.events import (
    IarmsHitRecorded,
    IncomingTraceAnswered,
    IncomingTraceRegistered,
    TraceExcepted,
    TraceRequestAnswered,
    TraceRequestSent,
    TraceStepRecorded,
)
from caliber.tracing.lifecycle import TraceState, TraceStep, after, after_response
from caliber.tracing.models import IarmsHit, IncomingTrace, RequestStatus, TraceRequest, WeaponTrace

__all__ = ["appliers"]

appliers = Appliers("tracing", tables=["weapon_trace", "trace_request", "incoming_trace", "iarms_hit"])
"""The events of tracing, and what applies them."""


async def _move(session: AsyncSession, code: str, state: TraceState, actor: str, moment: dt.datetime) -> WeaponTrace:
    trace = await session.get(WeaponTrace, code)
    if trace is None:
        trace = WeaponTrace(code=code, state=state.value, changed_by=actor, changed_at=moment)
        session.add(trace)
    trace.state, trace.changed_by, trace.changed_at = state.value, actor, moment
    return trace


async def _state(session: AsyncSession, code: str) -> TraceState:
    trace = await session.get(WeaponTrace, code)
    return TraceState.NOT_STARTED if trace is None else TraceState(trace.state)


@appliers.on(TraceStepRecorded)
async def _step(session: AsyncSession, event: Recorded[TraceStepRecorded]) -> None:
    data = event.data
    trace = await _move(session, data.code, after(await _state(session, data.code), data.step), event.actor["name"], event.moment)
    if data.step is TraceStep.ORIGIN_ESTABLISHED:
        trace.origin_country = data.origin_country
    await session.flush()


@appliers.on(TraceExcepted)
async def _excepted(session: AsyncSession, event: Recorded[TraceExcepted]) -> None:
    data = event.data
    trace = await _move(session, data.code, after(await _state(session, data.code), None), event.actor["name"], event.moment)
    trace.exception_reason = data.reason.value
    await session.flush()


@appliers.on(TraceRequestSent)
async def _sent(session: AsyncSession, event: Recorded[TraceRequestSent]) -> None:
    data = event.data
    await _move(session, data.code, after(await _state(session, data.code), TraceStep.REQUEST_SENT), event.actor["name"], event.moment)
    session.add(
        TraceRequest(
            id=data.id,
            code=data.code,
            recipient=data.recipient.value,
            addressee=data.addressee,
            case_reference=data.case_reference,
            sent_on=data.sent_on,
            due=data.due,
            identifiers=msgspec.to_builtins(data.identifiers),
            photos=list(data.photos),
            status=RequestStatus.OPEN.value,
            sent_by=event.actor["name"],
            sent_at=event.moment,
        )
    )
    await session.flush()


@appliers.on(TraceRequestAnswered)
async def _answered(session: AsyncSession, event: Recorded[TraceRequestAnswered]) -> None:
    data = event.data
    request = await session.get(TraceRequest, data.id)
    if request is None:
        raise LookupError(f"trace request {data.id} was never sent")
    request.status, request.received_on, request.answer = RequestStatus.ANSWERED.value, data.received_on, data.answer
    state = await _state(session, data.code)
    if (new := after_response(state)) is not state:
        await _move(session, data.code, new, event.actor["name"], event.moment)
    await session.flush()


@appliers.on(IncomingTraceRegistered)
async def _incoming(session: AsyncSession, event: Recorded[IncomingTraceRegistered]) -> None:
    data = event.data
    session.add(
        IncomingTrace(
            id=data.id,
            depot_id=data.depot_id,
            requesting_state=data.requesting_state,
            their_reference=data.their_reference,
            received_on=data.received_on,
            due=data.due,
            identifiers=msgspec.to_builtins(data.identifiers),
            status=RequestStatus.OPEN.value,
            registered_by=event.actor["name"],
            codes=[],
            answer="",
        )
    )
    await session.flush()


@appliers.on(IncomingTraceAnswered)
async def _incoming_answered(session: AsyncSession, event: Recorded[IncomingTraceAnswered]) -> None:
    data = event.data
    incoming = await session.get(IncomingTrace, data.id)
    if incoming is None:
        raise LookupError(f"incoming trace request {data.id} was never registered")
    incoming.status, incoming.codes, incoming.answer = RequestStatus.ANSWERED.value, list(data.codes), data.answer
    incoming.answered_by, incoming.answered_at = event.actor["name"], event.moment
    await session.flush()


@appliers.on(IarmsHitRecorded, batch=True)
async def _hits(session: AsyncSession, events: list[Recorded[IarmsHitRecorded]]) -> None:
    for event in events:
        d = event.data.hit
        row = IarmsHit(
            reference=d.reference,
            code=event.data.code,
            serial=d.serial,
            make=d.make,
            model=d.model,
            calibre=d.calibre,
            reporting_country=d.reporting_country,
            reported_as=d.reported_as.value,
            reported_on=d.reported_on,
            queried_on=d.queried_on,
            matched_by=event.data.matched_by.value,
            recorded_by=event.actor["name"],
            recorded_at=event.moment,
        )
        session.add(row)
    await session.flush()
