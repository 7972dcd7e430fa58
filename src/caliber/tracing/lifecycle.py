"""The trace of a weapon (ISACS 05.31, International Tracing Instrument): its states, every allowed step, who may
take it and why not, in one table. Pure: no database, no clock; the service and the appliers both ask it.

A trace runs ``not_started`` -> ``domestic_check`` (the national records) -> ``iarms_query`` (INTERPOL's iARMS)
-> ``request_sent`` (an international trace request) -> ``response_received`` -> ``origin_established`` or
``origin_not_established``. The origin may be established as soon as a step finds it (a domestic check that
finds the weapon in a national register ends the trace there). A depot manager (or an admin) may instead
record an exception, with its reason, at any step before the trace ends. Only weapons are traced, and only
those that came in illicit or of unknown provenance (seized, found, surrendered, collected): state surplus has
a known origin.
"""

from __future__ import annotations

from collections.abc import Mapping

from caliber.accounts.models import Role
from caliber.errors import Conflict, InvalidInput, PermissionDenied
from caliber.items.lifecycle import IntakeSource
from caliber.schemas import Labelled

__all__ = [
    "CONCLUDED",
    "CONCLUDERS",
    "EXCEPTERS",
    "SURRENDER_SOURCES",
    "TRACED_SOURCES",
    "TRACERS",
    "ExceptionReason",
    "TraceState",
    "TraceStep",
    "after",
    "after_response",
    "check_exception",
    "check_step",
    "refusal",
    "step_roles",
]


class TraceState(Labelled):
    """Where the trace of one weapon stands."""

    NOT_STARTED = "not_started"
    DOMESTIC_CHECK = "domestic_check"
    IARMS_QUERY = "iarms_query"
    REQUEST_SENT = "request_sent"
    RESPONSE_RECEIVED = "response_received"
    ORIGIN_ESTABLISHED = "origin_established"
    ORIGIN_NOT_ESTABLISHED = "origin_not_established"
    EXCEPTED = "excepted"


class TraceStep(Labelled):
    """A step recorded on a trace; each is one custody event."""

    DOMESTIC_CHECK = "domestic_check"
    """The national records were searched (registers of civilian, police and army weapons, of losses and thefts)."""
    IARMS_QUERY = "iarms_query"
    """The weapon was queried in iARMS (a hit means a member state reported it lost, stolen, trafficked or smuggled)."""
    REQUEST_SENT = "request_sent"
    """A trace request went to a country, INTERPOL or a manufacturer (recorded by sending one)."""
    RESPONSE_RECEIVED = "response_received"
    """A trace request was answered (recorded with the answer)."""
    ORIGIN_ESTABLISHED = "origin_established"
    """The point where the weapon was diverted into illicit hands was found."""
    ORIGIN_NOT_ESTABLISHED = "origin_not_established"
    """Every line was followed and the origin is still unknown."""


class ExceptionReason(Labelled):
    """Why a weapon is not traced (the exceptions ISACS 05.31 and national practice allow)."""

    AMNESTY = "amnesty"
    """Surrendered under an amnesty or a voluntary surrender where the law waives tracing."""
    MADE_BEFORE_1946 = "made_before_1946"
    """Made before 1946: outside the International Tracing Instrument."""
    UNDUE_DELAY = "undue_delay"
    """Tracing would unduly delay its destruction."""
    INSUFFICIENT_MARKINGS = "insufficient_markings"
    """The markings are too few or too damaged to trace it."""


TRACED_SOURCES = frozenset({IntakeSource.SEIZED, IntakeSource.FOUND, IntakeSource.SURRENDERED, IntakeSource.COLLECTION_PROGRAMME})
"""The intake sources whose weapons are traced: those that came from illicit possession or of unknown provenance."""
SURRENDER_SOURCES = frozenset({IntakeSource.SURRENDERED, IntakeSource.COLLECTION_PROGRAMME})
"""The intake sources an amnesty may waive tracing for."""
TRACERS = (Role.DEPOT_CLERK, Role.DEPOT_MANAGER, Role.ADMIN)
"""Who records a check, a query, a request and its answer: depot staff."""
CONCLUDERS = (Role.DEPOT_MANAGER, Role.ADMIN)
"""Who concludes a trace (origin established or not): a depot manager, since the figures report it."""
EXCEPTERS = CONCLUDERS
"""Who records an exception: a depot manager (or an admin) only."""
CONCLUDED = frozenset({TraceState.ORIGIN_ESTABLISHED, TraceState.ORIGIN_NOT_ESTABLISHED, TraceState.EXCEPTED})
"""The states a trace ends in: nothing more is recorded on it."""

_S = TraceState
_STEPS: Mapping[TraceStep, tuple[frozenset[TraceState], TraceState]] = {
    TraceStep.DOMESTIC_CHECK: (frozenset({_S.NOT_STARTED}), _S.DOMESTIC_CHECK),
    TraceStep.IARMS_QUERY: (frozenset({_S.DOMESTIC_CHECK}), _S.IARMS_QUERY),
    TraceStep.REQUEST_SENT: (frozenset({_S.IARMS_QUERY, _S.REQUEST_SENT, _S.RESPONSE_RECEIVED}), _S.REQUEST_SENT),
    TraceStep.RESPONSE_RECEIVED: (frozenset({_S.REQUEST_SENT, _S.RESPONSE_RECEIVED}), _S.RESPONSE_RECEIVED),
    TraceStep.ORIGIN_ESTABLISHED: (frozenset({_S.DOMESTIC_CHECK, _S.IARMS_QUERY, _S.RESPONSE_RECEIVED}), _S.ORIGIN_ESTABLISHED),
    TraceStep.ORIGIN_NOT_ESTABLISHED: (frozenset({_S.REQUEST_SENT, _S.RESPONSE_RECEIVED}), _S.ORIGIN_NOT_ESTABLISHED),
}
"""For each step: the states it may be taken from, and the state it leads to."""
_BEFORE = {
    TraceStep.DOMESTIC_CHECK: "the domestic record check is done once, first",
    TraceStep.IARMS_QUERY: "the iARMS query comes after the domestic record check",
    TraceStep.REQUEST_SENT: "a trace request is sent after the domestic record check and the iARMS query",
    TraceStep.RESPONSE_RECEIVED: "a response is recorded on a trace request that was sent",
    TraceStep.ORIGIN_ESTABLISHED: "the origin is established from a check, a query or a response, not while a request is unanswered",
    TraceStep.ORIGIN_NOT_ESTABLISHED: "the origin is declared not established only after a trace request was sent",
}


def step_roles(step: TraceStep) -> tuple[Role, ...]:
    """The roles that may take ``step``."""
    return CONCLUDERS if step in (TraceStep.ORIGIN_ESTABLISHED, TraceStep.ORIGIN_NOT_ESTABLISHED) else TRACERS


def after(state: TraceState, step: TraceStep | None) -> TraceState:
    """The state a trace in ``state`` is in after ``step`` (None: an exception). Raises :class:`Conflict` when the
    step may not be taken from ``state``; who takes it is :func:`check_step`'s question."""
    if state in CONCLUDED:
        raise Conflict(f"the trace is concluded ({state.label.lower()}): nothing more is recorded on it")
    if step is None:
        return TraceState.EXCEPTED
    sources, target = _STEPS[step]
    if state not in sources:
        raise Conflict(f"{_BEFORE[step]}; the trace is at: {state.label.lower()}")
    return target


def after_response(state: TraceState) -> TraceState:
    """The state after a trace request is answered: a concluded trace keeps its conclusion (a late answer is still
    recorded on its request)."""
    return state if state in CONCLUDED else after(state, TraceStep.RESPONSE_RECEIVED)


def _traceable(kind: str, intake_source: str) -> str | None:
    if kind != "weapon":
        return f"only weapons are traced; this record is a {kind}"
    if intake_source not in TRACED_SOURCES:
        return f"weapons from {IntakeSource(intake_source).label.lower()} have a known origin and are not traced"
    return None


def refusal(
    role: Role,
    state: TraceState,
    step: TraceStep | None,
    *,
    kind: str,
    intake_source: str,
    reason: ExceptionReason | None = None,
    year_of_manufacture: int | None = None,
) -> PermissionDenied | Conflict | InvalidInput | None:
    """Why ``role`` may not take ``step`` (None: record the exception ``reason``) on a weapon's trace, in plain
    words, or None when it may. Checked in order: the record, the role, the state, the reason."""
    if (why := _traceable(kind, intake_source)) is not None:
        return Conflict(why)
    roles = EXCEPTERS if step is None else step_roles(step)
    if role not in roles:
        who = "a depot manager or an admin" if roles == CONCLUDERS else "depot staff"
        what = "an exception" if step is None else f"the step {step.label.lower()}"
        name = role.label.lower()
        return PermissionDenied(f"only {who} may record {what}; you are {'an' if name[0] in 'aeiou' else 'a'} {name}")
    try:
        after(state, step)
    except Conflict as exc:
        return exc
    if reason is ExceptionReason.AMNESTY and intake_source not in SURRENDER_SOURCES:
        source = IntakeSource(intake_source).label.lower()
        return InvalidInput(f"an amnesty waives tracing only for surrendered or collected weapons; this one is {source}", field="reason")
    if reason is ExceptionReason.MADE_BEFORE_1946 and year_of_manufacture is not None and year_of_manufacture >= 1946:
        return InvalidInput(f"the record says it was made in {year_of_manufacture}: correct the year first", field="reason")
    return None


def check_step(role: Role, state: TraceState, step: TraceStep, *, kind: str, intake_source: str) -> TraceState:
    """The state after ``step``, or the refusal raised."""
    if (refused := refusal(role, state, step, kind=kind, intake_source=intake_source)) is not None:
        raise refused
    return after(state, step)


def check_exception(
    role: Role, state: TraceState, reason: ExceptionReason, *, kind: str, intake_source: str, year_of_manufacture: int | None
) -> None:
    """Raise the refusal of an exception for ``reason``, if any."""
    found = refusal(role, state, None, kind=kind, intake_source=intake_source, reason=reason, year_of_manufacture=year_of_manufacture)
    if found is not None:
        raise found
