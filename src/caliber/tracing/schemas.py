"""Request and response structs of the tracing API: steps, exceptions, trace requests out and in, the queue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from caliber.items.schemas import Country, LabelCode, Reason
from caliber.schemas import Input
from caliber.tracing.events import HitMatch, Identifiers, Recipient, ReportedAs
from caliber.tracing.lifecycle import ExceptionReason, TraceState, TraceStep
from caliber.tracing.models import RequestStatus

__all__ = [
    "AmbiguousOut",
    "HitOut",
    "HitsOut",
    "IdentifiersIn",
    "IncomingAnswer",
    "IncomingOut",
    "KnownOut",
    "LinkedOut",
    "NewIncoming",
    "NewRequest",
    "QueueOut",
    "RequestOut",
    "ResponseIn",
    "StepIn",
    "TraceExceptionIn",
    "TraceOut",
    "UnmatchedOut",
]

Reference = Annotated[str, msgspec.Meta(max_length=120)]
Finding = Annotated[str, msgspec.Meta(max_length=4000)]
Answer = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
Field = Annotated[str, msgspec.Meta(max_length=120)]
RecordedStep = Literal["domestic_check", "iarms_query", "origin_established", "origin_not_established"]
"""The steps recorded on their own; a request sent and its answer are recorded with the request."""


class StepIn(Input, forbid_unknown_fields=True):
    """A step of a weapon's trace: its reference, what it found, and where the origin is when established."""

    step: RecordedStep
    reference: Reference = ""
    finding: Finding = ""
    origin_country: Country | None = None
    """Required with ``origin_established``, refused with the other steps."""


class TraceExceptionIn(Input, forbid_unknown_fields=True):
    """An exception from tracing, with its reason and why."""

    reason: ExceptionReason
    explanation: Reason


class NewRequest(Input, forbid_unknown_fields=True):
    """A trace request to send about a weapon: the identifiers and photos are copied from its record."""

    recipient: Recipient
    due: dt.date
    addressee: Annotated[str, msgspec.Meta(max_length=200)] = ""
    """For a manufacturer: its name (default: the weapon's maker). A country is the one marked on the weapon."""
    case_reference: Reference = ""
    """Default: the weapon's case reference; one of the two is required."""
    sent_on: dt.date | None = None
    """Default: today; a request sent earlier on paper keeps its day."""


class ResponseIn(Input, forbid_unknown_fields=True):
    """The answer to a trace request."""

    answer: Answer
    received_on: dt.date | None = None
    """Default: today."""


class IdentifiersIn(Input, forbid_unknown_fields=True):
    """A weapon's identifiers as another state gives them."""

    serial: Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"\S")]
    manufacturer: Field = ""
    model: Field = ""
    calibre: Annotated[str, msgspec.Meta(max_length=40)] = ""
    country_of_manufacture: Country | None = None
    year_of_manufacture: Annotated[int, msgspec.Meta(ge=1800, le=2100)] | None = None
    import_country: Country | None = None
    import_year: Annotated[int, msgspec.Meta(ge=1800, le=2100)] | None = None
    other_marks: Annotated[str, msgspec.Meta(max_length=400)] = ""


class NewIncoming(Input, forbid_unknown_fields=True):
    """A trace request from another state, for a depot to answer."""

    depot_id: UUID
    requesting_state: Country
    their_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
    due: dt.date
    identifiers: IdentifiersIn
    received_on: dt.date | None = None
    """Default: today."""


class IncomingAnswer(Input, forbid_unknown_fields=True):
    """The answer to another state: the weapons found (possibly none) and what is said."""

    answer: Answer
    codes: Annotated[list[LabelCode], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)


# -- API structs ------------------------------------------------------------------------------


class RequestOut(msgspec.Struct):
    """A trace request sent, and its answer."""

    id: UUID
    code: str
    recipient: Recipient
    addressee: str
    case_reference: str
    sent_on: dt.date
    due: dt.date
    status: RequestStatus
    overdue: bool
    """Open after its due day."""
    late: bool
    """Answered after its due day."""
    identifiers: Identifiers
    photos: list[str]
    sent_by: str
    received_on: dt.date | None
    answer: str


class HitOut(msgspec.Struct):
    """An iARMS hit on a weapon: a member state reported it lost, stolen, trafficked or smuggled."""

    reference: str
    reporting_country: str
    reported_as: ReportedAs
    reported_on: dt.date
    queried_on: dt.date
    serial: str
    make: str
    model: str
    calibre: str
    matched_by: HitMatch
    recorded_by: str
    recorded_at: dt.datetime


class TraceOut(msgspec.Struct):
    """Where a weapon's trace stands, with its requests and its iARMS hits."""

    code: str
    state: TraceState
    next_steps: list[TraceStep]
    """The steps that may be taken now (by some role)."""
    exception_reason: ExceptionReason | None
    origin_country: str | None
    requests: list[RequestOut]
    hits: list[HitOut] = msgspec.field(default_factory=list)
    """Its iARMS hits, the oldest query first."""


class LinkedOut(msgspec.Struct):
    """A hit of the file recorded on a weapon; ``queried``: its trace's ``iarms_query`` step was recorded with it."""

    row: int
    reference: str
    code: str
    matched_by: HitMatch
    queried: bool


class KnownOut(msgspec.Struct):
    """A hit of the file Caliber held already (on weapon ``code``): not recorded again."""

    row: int
    reference: str
    code: str


class UnmatchedOut(msgspec.Struct):
    """A hit of the file that matches no weapon of the importer's depots, and why."""

    row: int
    reference: str
    reason: str


class AmbiguousOut(msgspec.Struct):
    """A hit of the file that matches several weapons (their label codes): not linked."""

    row: int
    reference: str
    codes: list[str]


class HitsOut(msgspec.Struct):
    """What became of each hit of an iARMS file; the counts first, then the rows of each kind."""

    rows: int
    linked_count: int
    known_count: int
    unmatched_count: int
    ambiguous_count: int
    queried_count: int
    """Traces whose ``iarms_query`` step the hits recorded."""
    linked: list[LinkedOut]
    known: list[KnownOut]
    unmatched: list[UnmatchedOut]
    ambiguous: list[AmbiguousOut]


class IncomingOut(msgspec.Struct):
    """A trace request from another state."""

    id: UUID
    depot_id: UUID
    requesting_state: str
    their_reference: str
    received_on: dt.date
    due: dt.date
    status: RequestStatus
    overdue: bool
    late: bool
    identifiers: Identifiers
    registered_by: str
    answered_by: str | None
    answered_at: dt.datetime | None
    codes: list[str]
    answer: str


class QueueOut(msgspec.Struct):
    """What is open, the soonest due first: requests sent awaiting an answer and requests from other states to answer."""

    on: dt.date
    """The day ``overdue`` is counted against."""
    outgoing: list[RequestOut]
    incoming: list[IncomingOut]
