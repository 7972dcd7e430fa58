"""The tracing API (``/api/tracing``): a weapon's trace and its steps, trace requests out and in, the queue."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.tracing.events import Identifiers, Recipient
from caliber.tracing.lifecycle import EXCEPTERS, TRACERS, ExceptionReason
from caliber.tracing.models import IncomingTrace, RequestStatus, TraceRequest
from caliber.tracing.schemas import (
    IncomingAnswer,
    IncomingOut,
    NewIncoming,
    NewRequest,
    QueueOut,
    RequestOut,
    ResponseIn,
    StepIn,
    TraceExceptionIn,
    TraceOut,
)
from caliber.tracing.service import TraceView, TracingService, next_steps

__all__ = ["TracingApi", "incoming_out", "request_out", "trace_out"]

tracers = [requires(*TRACERS)]
excepters = [requires(*EXCEPTERS)]


def request_out(request: TraceRequest, on: dt.date) -> RequestOut:
    """A trace request as the API shows it; ``overdue`` counted against ``on``."""
    answered = request.received_on
    return RequestOut(
        request.id,
        request.code,
        Recipient(request.recipient),
        request.addressee,
        request.case_reference,
        request.sent_on,
        request.due,
        RequestStatus(request.status),
        answered is None and on > request.due,
        answered is not None and answered > request.due,
        Identifiers(**request.identifiers),
        list(request.photos),
        request.sent_by,
        answered,
        request.answer,
    )


def incoming_out(incoming: IncomingTrace, on: dt.date, zone: dt.tzinfo) -> IncomingOut:
    """A request from another state as the API shows it; ``overdue`` counted against ``on``."""
    answered = incoming.answered_at.astimezone(zone).date() if incoming.answered_at is not None else None
    return IncomingOut(
        incoming.id,
        incoming.depot_id,
        incoming.requesting_state,
        incoming.their_reference,
        incoming.received_on,
        incoming.due,
        RequestStatus(incoming.status),
        answered is None and on > incoming.due,
        answered is not None and answered > incoming.due,
        Identifiers(**incoming.identifiers),
        incoming.registered_by,
        incoming.answered_by,
        incoming.answered_at,
        list(incoming.codes),
        incoming.answer,
    )


def trace_out(view: TraceView, on: dt.date) -> TraceOut:
    """A weapon's trace as the API shows it."""
    trace = view.trace
    return TraceOut(
        view.code,
        view.state,
        next_steps(view.state),
        ExceptionReason(trace.exception_reason) if trace is not None and trace.exception_reason else None,
        trace.origin_country if trace is not None else None,
        [request_out(r, on) for r in view.requests],
    )


class TracingApi(Controller):
    """Tracing weapons: steps, exceptions, trace requests sent and received, the queue of what is due."""

    path = "/api/tracing"
    tags = ["tracing"]

    @get("/weapons/{code:str}")
    async def get_trace(self, code: FromPath[str], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]) -> TraceOut:
        """Where a weapon's trace stands, with its requests and the steps that may come next."""
        return trace_out(await tracing.trace(actor, code), tracing.today())

    @post("/weapons/{code:str}/steps", guards=tracers, status_code=HTTP_200_OK)
    async def record_step(
        self, code: FromPath[str], data: JSONBody[StepIn], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> TraceOut:
        """Record a domestic record check, an iARMS query, or the conclusion (origin established or not: managers)."""
        return trace_out(await tracing.record_step(actor, code, data), tracing.today())

    @post("/weapons/{code:str}/exception", guards=excepters, status_code=HTTP_200_OK)
    async def record_exception(
        self, code: FromPath[str], data: JSONBody[TraceExceptionIn], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> TraceOut:
        """Except a weapon from tracing, with the reason (depot managers and admins)."""
        return trace_out(await tracing.record_exception(actor, code, data), tracing.today())

    @post("/weapons/{code:str}/requests", guards=tracers, status_code=HTTP_201_CREATED)
    async def send_request(
        self, code: FromPath[str], data: JSONBody[NewRequest], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> RequestOut:
        """Send a trace request about a weapon to a country, INTERPOL or a manufacturer."""
        return request_out(await tracing.send_request(actor, code, data), tracing.today())

    @get("/requests/{request_id:uuid}")
    async def get_request(
        self, request_id: FromPath[UUID], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> RequestOut:
        """One trace request sent, and its answer."""
        return request_out(await tracing.request(actor, request_id), tracing.today())

    @post("/requests/{request_id:uuid}/response", guards=tracers, status_code=HTTP_200_OK)
    async def record_response(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[ResponseIn],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
    ) -> RequestOut:
        """Record the answer to a trace request."""
        return request_out(await tracing.record_response(actor, request_id, data), tracing.today())

    @post("/incoming", guards=tracers, status_code=HTTP_201_CREATED)
    async def register_incoming(
        self, data: JSONBody[NewIncoming], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> IncomingOut:
        """Register a trace request from another state for a depot to answer."""
        return incoming_out(await tracing.register_incoming(actor, data), tracing.today(), tracing.zone)

    @get("/incoming/{incoming_id:uuid}")
    async def get_incoming(
        self, incoming_id: FromPath[UUID], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> IncomingOut:
        """One trace request from another state."""
        return incoming_out(await tracing.incoming(actor, incoming_id), tracing.today(), tracing.zone)

    @post("/incoming/{incoming_id:uuid}/answer", guards=tracers, status_code=HTTP_200_OK)
    async def answer_incoming(
        self,
        incoming_id: FromPath[UUID],
        data: JSONBody[IncomingAnswer],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
    ) -> IncomingOut:
        """Answer a request from another state with the weapons found and what is said."""
        return incoming_out(await tracing.answer_incoming(actor, incoming_id, data), tracing.today(), tracing.zone)

    @get("/queue")
    async def queue(
        self, actor: NamedDependency[Actor], tracing: NamedDependency[TracingService], on: FromQuery[dt.date | None] = None
    ) -> QueueOut:
        """What is open in the caller's depots, the soonest due first; ``overdue`` counted against ``on`` (default today)."""
        day = on or tracing.today()
        outgoing, incoming = await tracing.queue(actor)
        return QueueOut(day, [request_out(r, day) for r in outgoing], [incoming_out(i, day, tracing.zone) for i in incoming])
