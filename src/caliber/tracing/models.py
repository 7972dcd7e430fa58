"""Tables of tracing: the trace of each weapon, trace requests sent, requests from other states, and iARMS hits."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["IarmsHit", "IncomingTrace", "RequestStatus", "TraceRequest", "WeaponTrace"]


class RequestStatus(enum.StrEnum):
    """Where a trace request stands: open until answered."""

    OPEN = "open"
    ANSWERED = "answered"


class WeaponTrace(DefaultBase):
    """The trace of one weapon, once a step is recorded on it (no row: not started)."""

    __tablename__ = "weapon_trace"

    code: Mapped[str] = mapped_column(String(10), ForeignKey("item.code"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    """A :class:`~caliber.tracing.lifecycle.TraceState`."""
    exception_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    origin_country: Mapped[str | None] = mapped_column(String(2), default=None)
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class TraceRequest(UUIDv7AuditBase):
    """A trace request sent about a weapon, and its answer."""

    __tablename__ = "trace_request"
    __table_args__ = (Index("ix_trace_request_status_due", "status", "due"),)

    code: Mapped[str] = mapped_column(String(10), ForeignKey("item.code"), index=True)
    recipient: Mapped[str] = mapped_column(String(32))
    addressee: Mapped[str] = mapped_column(String(200))
    case_reference: Mapped[str] = mapped_column(String(120))
    sent_on: Mapped[dt.date] = mapped_column(Date)
    due: Mapped[dt.date] = mapped_column(Date)
    identifiers: Mapped[dict[str, Any]] = mapped_column(JSON)
    photos: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    """A :class:`RequestStatus`."""
    sent_by: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    received_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    answer: Mapped[str] = mapped_column(Text, default="")


class IncomingTrace(UUIDv7AuditBase):
    """A trace request from another state, registered for a depot, and the answer sent."""

    __tablename__ = "incoming_trace"
    __table_args__ = (Index("ix_incoming_trace_status_due", "status", "due"),)

    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"), index=True)
    requesting_state: Mapped[str] = mapped_column(String(2))
    their_reference: Mapped[str] = mapped_column(String(120))
    received_on: Mapped[dt.date] = mapped_column(Date)
    due: Mapped[dt.date] = mapped_column(Date)
    identifiers: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    """A :class:`RequestStatus`."""
    registered_by: Mapped[str] = mapped_column(String(200))
    answered_by: Mapped[str | None] = mapped_column(String(200), default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text, default="")


class IarmsHit(DefaultBase):
    """An iARMS hit linked to the weapon it concerns: a member state reported it lost, stolen, trafficked or smuggled."""

    __tablename__ = "iarms_hit"

    reference: Mapped[str] = mapped_column(String(120), primary_key=True)
    """The iARMS reference of the hit: one row per hit, however often its file is imported."""
    code: Mapped[str] = mapped_column(String(10), ForeignKey("item.code"), index=True)
    serial: Mapped[str] = mapped_column(String(80))
    """The serial queried, as the hit gives it."""
    make: Mapped[str] = mapped_column(String(120))
    model: Mapped[str] = mapped_column(String(120))
    calibre: Mapped[str] = mapped_column(String(40))
    reporting_country: Mapped[str] = mapped_column(String(2))
    reported_as: Mapped[str] = mapped_column(String(16))
    """A :class:`~caliber.tracing.hits_file.ReportedAs`."""
    reported_on: Mapped[dt.date] = mapped_column(Date)
    queried_on: Mapped[dt.date] = mapped_column(Date)
    matched_by: Mapped[str] = mapped_column(String(16))
    """How the hit was linked: by the label code the query carried (``code``) or by serial and maker (``serial``)."""
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
