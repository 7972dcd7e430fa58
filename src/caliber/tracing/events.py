"""The custody events of tracing: a weapon's trace step by step or excepted, trace requests sent and answered,
requests from other states registered and answered, and iARMS hits linked to weapons.

Each struct is the ``data`` of one event type; ``docs/events.md`` is written from them. Every event about a
weapon names its label code among its subjects, so it is on the weapon's custody timeline.
"""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

import msgspec

from caliber.ledger.events import Event
from caliber.schemas import Labelled
from caliber.tracing.lifecycle import ExceptionReason, TraceStep

__all__ = [
    "Hit",
    "HitMatch",
    "IarmsHitRecorded",
    "Identifiers",
    "IncomingTraceAnswered",
    "IncomingTraceRegistered",
    "Recipient",
    "ReportedAs",
    "TraceExcepted",
    "TraceRequestAnswered",
    "TraceRequestSent",
    "TraceStepRecorded",
]


class Recipient(enum.StrEnum):
    """Whom a trace request goes to."""

    COUNTRY_OF_MANUFACTURE = "country_of_manufacture"
    COUNTRY_OF_IMPORT = "country_of_import"
    """The country of last import, from the weapon's import marking."""
    INTERPOL = "interpol"
    MANUFACTURER = "manufacturer"


class Identifiers(msgspec.Struct, frozen=True, kw_only=True):
    """What identifies a weapon to another state, as marked on it (ITI art. 8 and 17)."""

    manufacturer: str
    model: str
    calibre: str
    serial: str
    country_of_manufacture: str | None
    """ISO 3166-1 alpha-2, or null when not marked."""
    year_of_manufacture: int | None
    import_country: str | None
    """The country of the import marking, or null."""
    import_year: int | None
    other_marks: str
    """Proof marks, assembly numbers and other marks, as typed."""


class TraceStepRecorded(Event, frozen=True, kw_only=True):
    """A step of a weapon's trace was recorded: a domestic record check, an iARMS query, or its conclusion."""

    type = "trace.step_recorded"
    code: str
    """The weapon's label code."""
    step: TraceStep
    """``domestic_check``, ``iarms_query``, ``origin_established`` or ``origin_not_established``."""
    reference: str
    """The reference of the check or query (a register's file number, an iARMS query number), or empty."""
    finding: str
    """What the step found, in words."""
    origin_country: str | None
    """Where the weapon was diverted (ISO 3166-1 alpha-2), when the origin was established there; else null."""


class TraceExcepted(Event, frozen=True, kw_only=True):
    """A depot manager excepted a weapon from tracing, with the reason: its trace ends here."""

    type = "trace.excepted"
    code: str
    """The weapon's label code."""
    reason: ExceptionReason
    explanation: str
    """Why, in words (the amnesty's name, the date of manufacture's evidence, the delay tracing would cause)."""


class TraceRequestSent(Event, frozen=True, kw_only=True):
    """A trace request about a weapon was sent to a country, INTERPOL or a manufacturer."""

    type = "trace.request_sent"
    id: UUID
    """The request's id."""
    code: str
    """The weapon's label code."""
    recipient: Recipient
    addressee: str
    """The country's ISO 3166-1 alpha-2 code, ``INTERPOL``, or the manufacturer's name."""
    case_reference: str
    """The case the request is part of."""
    sent_on: dt.date
    """The day it was sent (a request sent on paper before it was recorded keeps its day)."""
    due: dt.date
    """The day an answer is due by."""
    identifiers: Identifiers
    """The weapon's identifiers as sent, copied from its record."""
    photos: list[str]
    """The SHA-256 of each photo sent with it."""


class TraceRequestAnswered(Event, frozen=True, kw_only=True):
    """An answer to a trace request was received."""

    type = "trace.request_answered"
    id: UUID
    """The request's id."""
    code: str
    """The weapon's label code."""
    received_on: dt.date
    """The day the answer arrived (after the due day: answered late)."""
    answer: str
    """What the answer says."""


class IncomingTraceRegistered(Event, frozen=True, kw_only=True):
    """Another state asked to trace a weapon; the request is registered for a depot to search its records."""

    type = "trace.incoming_registered"
    id: UUID
    """The request's id."""
    depot_id: UUID
    """The depot that answers it."""
    requesting_state: str
    """ISO 3166-1 alpha-2 code of the state that asked."""
    their_reference: str
    """The requesting state's own reference."""
    received_on: dt.date
    due: dt.date
    """The day an answer is due by."""
    identifiers: Identifiers
    """The weapon's identifiers as the request gives them."""


class IncomingTraceAnswered(Event, frozen=True, kw_only=True):
    """A request from another state was answered with what Caliber holds."""

    type = "trace.incoming_answered"
    id: UUID
    """The request's id."""
    codes: list[str]
    """The label codes of the weapons found that match it (empty: none held); their custody timelines go with it."""
    answer: str
    """What was answered."""


class ReportedAs(Labelled):
    """What the member state that reported a weapon to iARMS says became of it."""

    LOST = "lost"
    STOLEN = "stolen"
    TRAFFICKED = "trafficked"
    SMUGGLED = "smuggled"


class HitMatch(enum.StrEnum):
    """How an iARMS hit was linked to a weapon."""

    CODE = "code"
    """By the Caliber label code the query carried (its ``record_reference``, from an iARMS export)."""
    SERIAL = "serial"
    """By the serial (without case, spaces or dashes) and the maker (through the makers list), in the importer's depots."""


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    """What iARMS answered about one weapon queried: the hit's reference, the weapon as iARMS holds it, and the report."""

    reference: str
    """The iARMS reference of the hit."""
    serial: str
    """The serial queried, as the hit gives it."""
    make: str
    model: str
    """As the hit gives it, or empty."""
    calibre: str
    """As the hit gives it, or empty."""
    reporting_country: str
    """ISO 3166-1 alpha-2 code of the member state that reported the weapon."""
    reported_as: ReportedAs
    reported_on: dt.date
    """The day the member state reported it."""
    queried_on: dt.date
    """The day iARMS was queried."""


class IarmsHitRecorded(Event, frozen=True, kw_only=True):
    """An iARMS query hit a weapon: a member state reported it lost, stolen, trafficked or smuggled.

    A hit is recorded once per iARMS reference; it never concludes a trace (a weapon whose trace is at the
    domestic check has its ``iarms_query`` step recorded with it, in the same transaction)."""

    type = "trace.iarms_hit"
    code: str
    """The weapon's label code."""
    hit: Hit
    matched_by: HitMatch
