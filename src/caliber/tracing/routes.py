"""The tracing API (``/api/tracing``): a weapon's trace and its steps, trace requests out and in, the queue, iARMS hits."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.errors import InvalidInput
from caliber.tracing.events import HitMatch, Identifiers, Recipient, ReportedAs
from caliber.tracing.hits import HitsReport
from caliber.tracing.hits_file import read_hits_bytes
from caliber.tracing.lifecycle import EXCEPTERS, TRACERS, ExceptionReason
from caliber.tracing.models import IarmsHit, IncomingTrace, RequestStatus, TraceRequest
from caliber.tracing.schemas import (
    AmbiguousOut,
    HitOut,
    HitsOut,
    IncomingAnswer,
    IncomingOut,
    KnownOut,
    LinkedOut,
    NewIncoming,
    NewRequest,
    QueueOut,
    RequestOut,
    ResponseIn,
    StepIn,
    TraceExceptionIn,
    TraceOut,
    UnmatchedOut,
)
from caliber.tracing.service import TraceView, TracingService, next_steps

__all__ = ["MAX_HITS_BYTES", "TracingApi", "hit_out", "hits_out", "incoming_out", "read_upload", "request_out", "trace_out"]

tracers = [requires(*TRACERS)]
excepters = [requires(*EXCEPTERS)]
MAX_HITS_BYTES = 64 * 1024 * 1024
"""The largest hits file taken (about 400,000 hits)."""


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


def hit_out(hit: IarmsHit) -> HitOut:
    """An iARMS hit as the API shows it."""
    return HitOut(
        hit.reference,
        hit.reporting_country,
        ReportedAs(hit.reported_as),
        hit.reported_on,
        hit.queried_on,
        hit.serial,
        hit.make,
        hit.model,
        hit.calibre,
        HitMatch(hit.matched_by),
        hit.recorded_by,
        hit.recorded_at,
    )


def hits_out(report: HitsReport) -> HitsOut:
    """What became of an iARMS file's hits, as the API answers."""
    return HitsOut(
        report.rows,
        len(report.linked),
        len(report.known),
        len(report.unmatched),
        len(report.ambiguous),
        report.queried,
        [LinkedOut(h.row, h.reference, h.code, h.matched_by, h.queried) for h in report.linked],
        [KnownOut(h.row, h.reference, h.code) for h in report.known],
        [UnmatchedOut(h.row, h.reference, h.reason) for h in report.unmatched],
        [AmbiguousOut(h.row, h.reference, list(h.codes)) for h in report.ambiguous],
    )


async def read_upload(request: Request[Any, Any, Any]) -> bytes:
    """The file of a request: the ``file`` of a multipart form, else the body itself."""
    if request.content_type[0] != "multipart/form-data":
        return await request.body()
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose the CSV file of iARMS hits", field="file")
    return await upload.read()


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
        [hit_out(h) for h in view.hits],
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

    @post("/iarms-hits", guards=tracers, status_code=HTTP_200_OK, request_max_body_size=MAX_HITS_BYTES)
    async def record_iarms_hits(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> HitsOut:
        """Import a CSV of iARMS hits (the body, or the ``file`` of a multipart form; columns in docs/iarms.md): each
        is linked to a weapon of the caller's depots. A bad cell refuses the whole file (422, every row and column
        named); the answer counts what was linked, already known, unmatched and ambiguous, with their rows."""
        hits = read_hits_bytes(await read_upload(request), tracing.today())
        return hits_out(await tracing.record_iarms_hits(actor, hits))

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
