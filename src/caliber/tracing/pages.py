"""Tracing pages (``/tracing/``): the queue of what is due, a weapon's trace with the forms of its next steps, a
trace request sent, and requests from other states to register, search for and answer.

What may be done next, by whom, and why not is asked of :mod:`caliber.tracing.lifecycle` and the service; the
pages only show it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, CaliberError, FieldError, InvalidInput
from caliber.forms import refusal
from caliber.items.queries import item_filters
from caliber.items.service import ItemService
from caliber.schemas import convert
from caliber.tracing.events import Identifiers
from caliber.tracing.lifecycle import EXCEPTERS, TRACERS
from caliber.tracing.page_context import DONE, IDENTIFIER_FIELDS, STATE_WORDS, request_context, trace_context, upper
from caliber.tracing.progress import standing
from caliber.tracing.schemas import IdentifiersIn, IncomingAnswer, NewIncoming, NewRequest, ResponseIn, StepIn, TraceExceptionIn
from caliber.tracing.service import TracingService
from caliber.web import form_data, page

__all__ = ["TracingPages"]

tracers = [requires(*TRACERS)]
excepters = [requires(*EXCEPTERS)]


def _filled(values: dict[str, Any], *countries: str) -> dict[str, Any]:
    """A submitted form without its blank fields, country codes in capitals."""
    return upper(
        {k: v.strip() if isinstance(v, str) else v for k, v in values.items() if not (isinstance(v, str) and not v.strip())}, countries
    )


class TracingPages(Controller):
    """The queue, a weapon's trace, a request sent, and requests from other states."""

    path = "/tracing"
    include_in_schema = False

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """What is due in the actor's depots, the soonest first, and the weapons whose trace is to do or under way."""
        today = tracing.today()
        outgoing, incoming = await tracing.queue(actor)
        after = request.query_params.get("after")
        try:
            cursor = UUID(after) if after else None
        except ValueError:
            cursor = None
        to_trace = await tracing.to_trace(actor, after=cursor)
        return page(
            request,
            "tracing/queue.html",
            today=today,
            outgoing=[(r, standing(r.due, None, today)) for r in outgoing],
            incoming=[(i, standing(i.due, None, today)) for i in incoming],
            to_trace=to_trace,
            depot_codes={d.id: d.code for d in await inventory.depots(actor)},
            can_work=actor.role in TRACERS,
            state_words=STATE_WORDS,
        )

    @get("/weapons/{code:str}")
    async def trace(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
    ) -> Template:
        """A weapon's trace: its state, the steps taken, its requests, and the forms of the next steps."""
        notice = DONE.get(request.query_params.get("done", ""))
        return page(request, "tracing/trace.html", **await trace_context(actor, tracing, items, code, notice=notice))

    async def _trace_form(
        self, request: Request[Any, Any, Any], code: str, sent: str, services: tuple[Actor, TracingService, ItemService], work: Any
    ) -> Response[Any]:
        actor, tracing, items = services
        values = await form_data(request)
        try:
            target = await work(values)
        except CORRECTABLE as exc:
            context = await trace_context(actor, tracing, items, code, error=exc, sent=sent, values=values)
            return page(request, "tracing/trace.html", status_code=exc.status_code, **context)
        return Redirect(target)

    @post("/weapons/{code:str}/steps", guards=tracers)
    async def record_step(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
    ) -> Response[Any]:
        """Record a domestic record check, an iARMS query, or the conclusion."""

        async def work(values: dict[str, Any]) -> str:
            await tracing.record_step(actor, code, convert(_filled(values, "origin_country"), StepIn))
            return f"/tracing/weapons/{code}?done=step"

        return await self._trace_form(request, code, "step", (actor, tracing, items), work)

    @post("/weapons/{code:str}/exception", guards=excepters)
    async def record_exception(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
    ) -> Response[Any]:
        """Except the weapon from tracing, with the reason (depot managers and admins)."""

        async def work(values: dict[str, Any]) -> str:
            await tracing.record_exception(actor, code, convert(_filled(values), TraceExceptionIn))
            return f"/tracing/weapons/{code}?done=exception"

        return await self._trace_form(request, code, "exception", (actor, tracing, items), work)

    @post("/weapons/{code:str}/requests", guards=tracers)
    async def send_request(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
    ) -> Response[Any]:
        """Send a trace request about the weapon; go to the request's page."""

        async def work(values: dict[str, Any]) -> str:
            sent = await tracing.send_request(actor, code, convert(_filled(values), NewRequest))
            return f"/tracing/requests/{sent.id}?done=sent"

        return await self._trace_form(request, code, "request", (actor, tracing, items), work)

    @get("/requests/{request_id:uuid}")
    async def request_page(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
    ) -> Template:
        """A trace request sent: what went with it, how it stands, and the form to record its answer."""
        notice = DONE.get(request.query_params.get("done", ""))
        return page(request, "tracing/request.html", **await request_context(actor, tracing, items, request_id, notice=notice))

    @post("/requests/{request_id:uuid}/response", guards=tracers)
    async def record_response(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
    ) -> Response[Any]:
        """Record the answer to the request."""
        values = await form_data(request)
        try:
            await tracing.record_response(actor, request_id, convert(_filled(values), ResponseIn))
        except CORRECTABLE as exc:
            context = await request_context(actor, tracing, items, request_id, error=exc, values=values)
            return page(request, "tracing/request.html", status_code=exc.status_code, **context)
        return Redirect(f"/tracing/requests/{request_id}?done=answered")

    @get("/incoming/new", guards=tracers)
    async def incoming_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Template:
        """Register a trace request from another state."""
        return page(request, "tracing/incoming_form.html", **await _incoming_form_context(actor, inventory, {}, None))

    @post("/incoming/new", guards=tracers)
    async def register_incoming(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Register it from the form; go to its page, where the depot's records are searched."""
        values = await form_data(request)
        filled = _filled(values, "requesting_state", "country_of_manufacture", "import_country")
        given = {k: v for k, v in filled.items() if k in IDENTIFIER_FIELDS}
        rest = {k: v for k, v in filled.items() if k not in IDENTIFIER_FIELDS}
        errors: list[FieldError] = []
        identifiers: IdentifiersIn | None = None
        try:
            identifiers = convert(given, IdentifiersIn)
        except InvalidInput as exc:
            errors += exc.errors
        try:
            new = convert({**rest, "identifiers": {"serial": "-"}}, NewIncoming)
        except InvalidInput as exc:
            errors += exc.errors
        try:
            if errors or identifiers is None:
                raise refusal(errors)
            registered = await tracing.register_incoming(
                actor, NewIncoming(new.depot_id, new.requesting_state, new.their_reference, new.due, identifiers, new.received_on)
            )
        except CORRECTABLE as exc:
            context = await _incoming_form_context(actor, inventory, values, exc)
            return page(request, "tracing/incoming_form.html", status_code=exc.status_code, **context)
        return Redirect(f"/tracing/incoming/{registered.id}?done=registered")

    @get("/incoming/{incoming_id:uuid}")
    async def incoming_page(
        self,
        *,
        request: Request[Any, Any, Any],
        incoming_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """The request, a search of the depot's records for its weapon, and the answer."""
        search = {k: v for k, v in request.query_params.items() if k in ("q", "manufacturer", "model")}
        context = await _incoming_context(actor, (tracing, items, inventory), incoming_id, search=search or None)
        context["notice"] = DONE.get(request.query_params.get("done", ""))
        return page(request, "tracing/incoming.html", status_code=422 if context["search_error"] else 200, **context)

    @post("/incoming/{incoming_id:uuid}/answer", guards=tracers)
    async def answer_incoming(
        self,
        *,
        request: Request[Any, Any, Any],
        incoming_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        tracing: NamedDependency[TracingService],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Answer with the weapons chosen and what is said."""
        values = await form_data(request, "codes")
        try:
            await tracing.answer_incoming(actor, incoming_id, convert(_filled(values), IncomingAnswer))
        except CORRECTABLE as exc:
            context = await _incoming_context(actor, (tracing, items, inventory), incoming_id, search=None, error=exc, values=values)
            return page(request, "tracing/incoming.html", status_code=exc.status_code, **context)
        return Redirect(f"/tracing/incoming/{incoming_id}?done=answered_incoming")


async def _incoming_form_context(
    actor: Actor, inventory: DepotService, values: dict[str, Any], error: CaliberError | None
) -> dict[str, Any]:
    depots = [d for d in await inventory.depots(actor) if d.active]
    return {"depot_options": [(str(d.id), f"{d.code} · {d.name}") for d in depots], "values": values, "error": error}


async def _incoming_context(
    actor: Actor,
    services: tuple[TracingService, ItemService, DepotService],
    incoming_id: UUID,
    *,
    search: dict[str, str] | None,
    error: CaliberError | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    tracing, items, inventory = services
    incoming = await tracing.incoming(actor, incoming_id)
    given = Identifiers(**incoming.identifiers)
    today = tracing.today()
    answered_on = incoming.answered_at.astimezone(tracing.zone).date() if incoming.answered_at is not None else None
    if search is None:
        search = {"q": given.serial, "manufacturer": given.manufacturer}
    found, search_error = [], None
    if incoming.status == "open":
        try:
            found = (await items.search(actor, item_filters({**search, "depot_id": str(incoming.depot_id)}), limit=50)).records
        except CaliberError as exc:
            search_error = exc.message
    depot = next((d for d in await inventory.depots(actor) if d.id == incoming.depot_id), None)
    return {
        "incoming": incoming,
        "given": given,
        "depot": depot,
        "stands": standing(incoming.due, answered_on, today),
        "answered_on": answered_on,
        "search": search,
        "search_error": search_error,
        "found": found,
        "can_work": actor.role in TRACERS,
        "values": values or {},
        "chosen": set((values or {}).get("codes", [])),
        "error": error,
    }
