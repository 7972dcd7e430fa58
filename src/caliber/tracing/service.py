"""The trace of seized, found and surrendered weapons: the only code that changes it, every step a custody event.

Events (see :mod:`caliber.tracing.events`): ``trace.step_recorded``, ``trace.excepted``, ``trace.request_sent``,
``trace.request_answered``, ``trace.incoming_registered``, ``trace.incoming_answered``, ``trace.iarms_hit``. Each names the weapon's
label code (so it is on the weapon's timeline) and, for a request, the request's own subject. Which step may be
taken, by whom, is :mod:`caliber.tracing.lifecycle`'s answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import new_id
from caliber.depots.models import Depot
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.items.makers import MakerList, load_makers
from caliber.items.models import Item, ItemPhoto
from caliber.ledger.store import Ledger
from caliber.tracing.events import (
    Identifiers,
    IncomingTraceAnswered,
    IncomingTraceRegistered,
    Recipient,
    TraceExcepted,
    TraceRequestAnswered,
    TraceRequestSent,
    TraceStepRecorded,
)
from caliber.tracing.hits import HitsReport, record_hits
from caliber.tracing.hits_file import HitRow
from caliber.tracing.lifecycle import (
    CONCLUDED,
    EXCEPTERS,
    TRACERS,
    TraceState,
    TraceStep,
    after,
    check_exception,
    check_step,
    refusal,
)
from caliber.tracing.models import IarmsHit, IncomingTrace, RequestStatus, TraceRequest, WeaponTrace
from caliber.tracing.progress import DueCounts, ToTrace, TraceEntry, due_counts, trace_entries, weapons_to_trace
from caliber.tracing.schemas import IncomingAnswer, NewIncoming, NewRequest, ResponseIn, StepIn, TraceExceptionIn
from caliber.tracing.scope import incoming_subject, request_subject

__all__ = ["TraceView", "TracingService", "identifiers_of", "next_steps"]


@dataclass(frozen=True)
class TraceView:
    """A weapon's trace: its state row (None: not started), its requests and its iARMS hits, oldest first."""

    code: str
    trace: WeaponTrace | None
    requests: list[TraceRequest]
    hits: list[IarmsHit] = field(default_factory=list)

    @property
    def state(self) -> TraceState:
        """Where the trace stands."""
        return TraceState.NOT_STARTED if self.trace is None else TraceState(self.trace.state)


def next_steps(state: TraceState) -> list[TraceStep]:
    """The steps the lifecycle allows from ``state`` (for some role)."""
    found = []
    for step in TraceStep:
        try:
            after(state, step)
        except Conflict:
            continue
        found.append(step)
    return found


def identifiers_of(item: Item) -> Identifiers:
    """A weapon's identifiers, copied from its record."""
    return Identifiers(
        manufacturer=item.manufacturer,
        model=item.model,
        calibre=item.calibre,
        serial=item.serial,
        country_of_manufacture=item.country_of_manufacture,
        year_of_manufacture=item.year_of_manufacture,
        import_country=item.import_country,
        import_year=item.import_year,
        other_marks=item.other_marks,
    )


class TracingService:
    """Tracing weapons, trace requests sent and received."""

    def __init__(self, ledger: Ledger, zone: dt.tzinfo, makers: MakerList | None = None) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.zone = zone
        self.makers = makers or load_makers()

    def today(self) -> dt.date:
        """Today in the deployment's time zone."""
        return dt.datetime.now(self.zone).date()

    async def trace(self, actor: Actor, code: str) -> TraceView:
        """A weapon's trace, within the actor's depots."""
        async with self.db.read() as session:
            await _weapon(session, actor, code)
            return await _view(session, code)

    async def steps(self, actor: Actor, code: str) -> list[TraceEntry]:
        """The custody events of a weapon's trace (steps, exception, requests and answers), within the actor's depots."""
        async with self.db.read() as session:
            await _weapon(session, actor, code)
        return await trace_entries(self.db, code)

    async def due(self, actor: Actor) -> DueCounts:
        """How many open requests of the actor's depots are overdue today, and how many are due this week."""
        return await due_counts(self.db, actor, self.today())

    async def to_trace(self, actor: Actor, *, after: UUID | None = None, limit: int = 50) -> ToTrace:
        """The weapons in the actor's depots whose trace is to do or under way, a page at a time."""
        return await weapons_to_trace(self.db, actor, after=after, limit=limit)

    async def record_step(self, actor: Actor, code: str, step: StepIn) -> TraceView:
        """A domestic record check, an iARMS query, or the trace's conclusion."""
        chosen = TraceStep(step.step)
        if chosen is TraceStep.ORIGIN_ESTABLISHED and step.origin_country is None:
            raise InvalidInput("name the country where the weapon was diverted (origin_country)", field="origin_country")
        if chosen is not TraceStep.ORIGIN_ESTABLISHED and step.origin_country is not None:
            raise InvalidInput("origin_country is given only when the origin is established", field="origin_country")
        async with self.ledger.write(actor) as tx:
            item = await _weapon(tx.session, actor, code)
            check_step(actor.role, await _state(tx.session, code), chosen, kind=item.kind, intake_source=item.intake_source)
            event = TraceStepRecorded(
                code=code, step=chosen, reference=step.reference.strip(), finding=step.finding.strip(), origin_country=step.origin_country
            )
            await tx.record(event, [code])
            return await _view(tx.session, code)

    async def record_iarms_hits(self, actor: Actor, hits: list[HitRow], progress: Callable[[int], None] | None = None) -> HitsReport:
        """Link the checked hits of an iARMS file to the weapons of the actor's depots, each a ``trace.iarms_hit``
        (with the ``iarms_query`` step of a trace at the domestic check); what matched nothing or more is reported."""
        return await record_hits(self.ledger, self.makers, actor, hits, progress)

    async def record_exception(self, actor: Actor, code: str, given: TraceExceptionIn) -> TraceView:
        """Except a weapon from tracing, with the reason (a depot manager or an admin)."""
        actor.require_role(*EXCEPTERS)
        async with self.ledger.write(actor) as tx:
            item = await _weapon(tx.session, actor, code)
            state = await _state(tx.session, code)
            check_exception(
                actor.role,
                state,
                given.reason,
                kind=item.kind,
                intake_source=item.intake_source,
                year_of_manufacture=item.year_of_manufacture,
            )
            await tx.record(TraceExcepted(code=code, reason=given.reason, explanation=given.explanation.strip()), [code])
            return await _view(tx.session, code)

    async def send_request(self, actor: Actor, code: str, new: NewRequest) -> TraceRequest:
        """Send a trace request about a weapon: its identifiers and photos go with it."""
        actor.require_role(*TRACERS)
        today = self.today()
        sent_on = new.sent_on or today
        if sent_on > today:
            raise InvalidInput(f"the request cannot be sent after today ({today:%Y-%m-%d})", field="sent_on")
        if new.due <= sent_on:
            raise InvalidInput(f"the due day comes after the day it is sent ({sent_on:%Y-%m-%d})", field="due")
        async with self.ledger.write(actor) as tx:
            item = await _weapon(tx.session, actor, code)
            check_step(actor.role, await _state(tx.session, code), TraceStep.REQUEST_SENT, kind=item.kind, intake_source=item.intake_source)
            case_reference = new.case_reference.strip() or item.case_reference
            if not case_reference:
                raise InvalidInput("the weapon has no case reference: give the request's (case_reference)", field="case_reference")
            photos = list(await tx.session.scalars(select(ItemPhoto.sha256).where(ItemPhoto.item_id == item.id).order_by(ItemPhoto.sha256)))
            request_id = new_id()
            event = TraceRequestSent(
                id=request_id,
                code=code,
                recipient=new.recipient,
                addressee=_addressee(item, new),
                case_reference=case_reference,
                sent_on=sent_on,
                due=new.due,
                identifiers=identifiers_of(item),
                photos=photos,
            )
            await tx.record(event, [request_subject(request_id), code])
            return await _request(tx.session, request_id)

    async def record_response(self, actor: Actor, request_id: UUID, given: ResponseIn) -> TraceRequest:
        """Record the answer to a trace request (after its due day: answered late)."""
        actor.require_role(*TRACERS)
        today = self.today()
        received_on = given.received_on or today
        async with self.ledger.write(actor) as tx:
            request = await _request(tx.session, request_id)
            item = await _weapon(tx.session, actor, request.code)
            if request.status != RequestStatus.OPEN:
                raise Conflict(f"this request was answered already, on {request.received_on:%Y-%m-%d}")
            if not request.sent_on <= received_on <= today:
                raise InvalidInput(f"the answer arrives between {request.sent_on:%Y-%m-%d} (sent) and today", field="received_on")
            state = await _state(tx.session, request.code)
            if state not in CONCLUDED and (
                refused := refusal(actor.role, state, TraceStep.RESPONSE_RECEIVED, kind=item.kind, intake_source=item.intake_source)
            ):
                raise refused
            answered = TraceRequestAnswered(id=request_id, code=request.code, received_on=received_on, answer=given.answer.strip())
            await tx.record(answered, [request_subject(request_id), request.code])
            return await _request(tx.session, request_id)

    async def request(self, actor: Actor, request_id: UUID) -> TraceRequest:
        """One trace request sent, within the actor's depots."""
        async with self.db.read() as session:
            request = await _request(session, request_id)
            await _weapon(session, actor, request.code)
            return request

    async def register_incoming(self, actor: Actor, new: NewIncoming) -> IncomingTrace:
        """Register a trace request from another state for a depot to answer."""
        actor.require_role(*TRACERS)
        received_on = new.received_on or self.today()
        if received_on > self.today():
            raise InvalidInput("the request cannot arrive after today", field="received_on")
        if new.due <= received_on:
            raise InvalidInput(f"the due day comes after the day it arrived ({received_on:%Y-%m-%d})", field="due")
        async with self.ledger.write(actor) as tx:
            depot = await tx.session.get(Depot, new.depot_id)
            if depot is None:
                raise InvalidInput(f"no depot with id {new.depot_id}", field="depot_id")
            actor.require_depot(depot.id, depot.code)
            if not depot.active:
                raise Conflict(f"depot {depot.code} is inactive: register the request for the depot that answers it now")
            incoming_id = new_id()
            given = new.identifiers
            event = IncomingTraceRegistered(
                id=incoming_id,
                depot_id=depot.id,
                requesting_state=new.requesting_state,
                their_reference=new.their_reference.strip(),
                received_on=received_on,
                due=new.due,
                identifiers=Identifiers(
                    manufacturer=given.manufacturer.strip(),
                    model=given.model.strip(),
                    calibre=given.calibre.strip(),
                    serial=given.serial.strip(),
                    country_of_manufacture=given.country_of_manufacture,
                    year_of_manufacture=given.year_of_manufacture,
                    import_country=given.import_country,
                    import_year=given.import_year,
                    other_marks=given.other_marks.strip(),
                ),
            )
            await tx.record(event, [incoming_subject(incoming_id), f"depot:{depot.id}"])
            return await _incoming(tx.session, incoming_id)

    async def answer_incoming(self, actor: Actor, incoming_id: UUID, given: IncomingAnswer) -> IncomingTrace:
        """Answer another state with the weapons found (their custody timelines go with them) and what is said."""
        actor.require_role(*TRACERS)
        async with self.ledger.write(actor) as tx:
            incoming = await _incoming(tx.session, incoming_id)
            depot = await _depot_of(tx.session, actor, incoming.depot_id)
            if incoming.status != RequestStatus.OPEN:
                raise Conflict(f"this request was answered already, on {incoming.answered_at:%Y-%m-%d}")
            codes = list(dict.fromkeys(given.codes))
            for code in codes:
                item = await _weapon(tx.session, actor, code, field="codes")
                if item.depot_id != depot.id:  # the request and its answer are read by the staff of its depot
                    raise InvalidInput(f"{code} is not in depot {depot.code}, which answers this request", field="codes")
            await tx.record(
                IncomingTraceAnswered(id=incoming_id, codes=codes, answer=given.answer.strip()), [incoming_subject(incoming_id), *codes]
            )
            return await _incoming(tx.session, incoming_id)

    async def incoming(self, actor: Actor, incoming_id: UUID) -> IncomingTrace:
        """One request from another state, within the actor's depots."""
        async with self.db.read() as session:
            incoming = await _incoming(session, incoming_id)
            await _depot_of(session, actor, incoming.depot_id)
            return incoming

    async def queue(self, actor: Actor, limit: int = 500) -> tuple[list[TraceRequest], list[IncomingTrace]]:
        """What is open in the actor's depots, the soonest due first: requests awaiting an answer, requests to answer."""
        outgoing = select(TraceRequest).where(TraceRequest.status == RequestStatus.OPEN.value).order_by(TraceRequest.due, TraceRequest.id)
        incoming = (
            select(IncomingTrace).where(IncomingTrace.status == RequestStatus.OPEN.value).order_by(IncomingTrace.due, IncomingTrace.id)
        )
        if not actor.sees_all_depots:
            mine = list(actor.depot_ids)
            outgoing = outgoing.join(Item, Item.code == TraceRequest.code).where(Item.depot_id.in_(mine))
            incoming = incoming.where(IncomingTrace.depot_id.in_(mine))
        async with self.db.read() as session:
            return list(await session.scalars(outgoing.limit(limit))), list(await session.scalars(incoming.limit(limit)))


def _addressee(item: Item, new: NewRequest) -> str:
    if new.recipient is Recipient.INTERPOL:
        return "INTERPOL"
    if new.recipient is Recipient.MANUFACTURER:
        if not (name := new.addressee.strip() or item.manufacturer):
            raise InvalidInput("name the manufacturer (addressee)", field="addressee")
        return name
    country = item.country_of_manufacture if new.recipient is Recipient.COUNTRY_OF_MANUFACTURE else item.import_country
    if country is None:
        what = "country of manufacture" if new.recipient is Recipient.COUNTRY_OF_MANUFACTURE else "import marking"
        raise InvalidInput(f"the weapon's record has no {what}: correct the record, or send to INTERPOL", field="recipient")
    if new.addressee.strip() and new.addressee.strip() != country:
        raise InvalidInput(f"the weapon's record names {country}; the request goes there", field="addressee")
    return country


async def _depot_of(session: AsyncSession, actor: Actor, depot_id: UUID) -> Depot:
    depot = await session.get(Depot, depot_id)
    if depot is None:
        raise LookupError(f"depot {depot_id} is missing")
    actor.require_depot(depot.id, depot.code)
    return depot


async def _weapon(session: AsyncSession, actor: Actor, code: str, *, field: str | None = None) -> Item:
    item = await session.scalar(select(Item).where(Item.code == code))
    if item is None:
        if field is not None:
            raise InvalidInput(f"no weapon with label code {code}", field=field)
        raise NotFound(f"no weapon with label code {code}")
    await _depot_of(session, actor, item.depot_id)
    return item


async def _state(session: AsyncSession, code: str) -> TraceState:
    trace = await session.get(WeaponTrace, code)
    return TraceState.NOT_STARTED if trace is None else TraceState(trace.state)


async def _view(session: AsyncSession, code: str) -> TraceView:
    requests = await session.scalars(select(TraceRequest).where(TraceRequest.code == code).order_by(TraceRequest.sent_on, TraceRequest.id))
    hits = await session.scalars(select(IarmsHit).where(IarmsHit.code == code).order_by(IarmsHit.queried_on, IarmsHit.reference))
    return TraceView(code, await session.get(WeaponTrace, code), list(requests), list(hits))


async def _request(session: AsyncSession, request_id: UUID) -> TraceRequest:
    request = await session.get(TraceRequest, request_id)
    if request is None:
        raise NotFound(f"no trace request {request_id}")
    return request


async def _incoming(session: AsyncSession, incoming_id: UUID) -> IncomingTrace:
    incoming = await session.get(IncomingTrace, incoming_id)
    if incoming is None:
        raise NotFound(f"no incoming trace request {incoming_id}")
    return incoming
