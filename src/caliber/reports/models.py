"""What the Roadmap reports count, kept as a projection of the ledger (rebuilt by replay like every state table).

``report_record`` holds one row per weapon, component and ammunition lot with
the moments the measures ask about; ``report_hold`` the evidence-hold
intervals; ``report_request`` the trace requests sent and received. Only the projections in :mod:`caliber.reports.projection` write them.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, Boolean, Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["ReportDay", "ReportHold", "ReportMonth", "ReportRecord", "ReportRequest", "ReportTarget"]


class ReportRecord(DefaultBase):
    """One record as the reports count it."""

    __tablename__ = "report_record"
    __table_args__ = (
        Index("ix_report_record_registered", "jurisdiction", "registered_at"),
        Index("ix_report_record_declared", "jurisdiction", "declared_at"),
        # covering: the percentiles of the days to destruction read the index alone
        Index("ix_report_record_destroyed_days", "jurisdiction", "destroyed_at", "kind", "days_from_intake", "days_from_declaration"),
        Index("ix_report_record_depot", "depot_id"),
        Index("ix_report_record_surplus_until", "jurisdiction", "surplus_until", "declared_at", "kind"),
        Index("ix_report_record_days_intake", "jurisdiction", "kind", "days_from_intake", "destroyed_at"),
        Index("ix_report_record_days_declared", "jurisdiction", "kind", "days_from_declaration", "destroyed_at"),
        Index("ix_report_record_taken_in", "jurisdiction", "registered_at", "intake_source", "kind", "destroyed_at"),
        Index("ix_report_record_trace_ended", "jurisdiction", "trace_ended_at", "trace_end"),
    )

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    """``weapon``, ``component`` or ``lot``."""
    category: Mapped[str] = mapped_column(String(40))
    """The UN SALW type of a weapon, the part of a component, ``ammunition`` for a lot."""
    intake_source: Mapped[str] = mapped_column(String(32))
    depot_id: Mapped[UUID] = mapped_column(GUID)
    jurisdiction: Mapped[str] = mapped_column(String(2))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    declared_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When it was first declared surplus."""
    left_surplus_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When a declared record left the surplus other than by destruction (retained, returned, transferred out, ...)."""
    destroyed_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    surplus_until: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When a declared record left the surplus stock: the first of leaving it and destruction."""
    methods: Mapped[str] = mapped_column(String(200), default="")
    """The destruction's methods, comma-separated."""
    days_from_intake: Mapped[float | None] = mapped_column(Float, default=None)
    """Days from intake to destruction (for the percentiles)."""
    days_from_declaration: Mapped[float | None] = mapped_column(Float, default=None)
    pieces: Mapped[int] = mapped_column(BigInteger, default=1)
    net_g: Mapped[int] = mapped_column(BigInteger, default=0)
    gross_g: Mapped[int] = mapped_column(BigInteger, default=0)
    trace_started_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When the first step of its trace (or its exception) was recorded."""
    trace_ended_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When its trace was concluded: origin established or not, or excepted."""
    trace_end: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """``origin_established``, ``origin_not_established`` or ``excepted`` (empty while not concluded)."""
    exception_reason: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """Why it was excepted from tracing (an :class:`~caliber.tracing.lifecycle.ExceptionReason`), or empty."""


class ReportRequest(DefaultBase):
    """A trace request as the reports count it: ``sent`` about a weapon, or ``received`` from another state.

    A request sent belongs where its weapon is (moved with it by a transfer); a
    request received belongs to the depot that answers it. Days are the
    deployment's local days, as the requests give them.
    """

    __tablename__ = "report_request"
    __table_args__ = (
        Index("ix_report_request_opened", "direction", "jurisdiction", "opened_on"),
        # covering: the figures of the requests answered, late and overdue read these indexes alone
        Index("ix_report_request_answered_on", "direction", "answered_on", "jurisdiction", "due", "opened_on"),
        Index("ix_report_request_answered_at", "direction", "answered_at", "jurisdiction", "due", "opened_on"),
        Index("ix_report_request_code", "code"),
    )

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    """``sent`` or ``received``."""
    code: Mapped[str] = mapped_column(String(10), default="")
    """The weapon a request sent is about (empty for a request received)."""
    depot_id: Mapped[UUID] = mapped_column(GUID)
    jurisdiction: Mapped[str] = mapped_column(String(2))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    """The day it was sent, or received."""
    due: Mapped[dt.date] = mapped_column(Date)
    answered_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    """The day the answer arrived (sent) or was given (received: the local day of the answer's record)."""
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """When the answer was recorded."""


class ReportHold(DefaultBase):
    """An evidence-hold interval of a record (``released_at`` empty while it lasts)."""

    __tablename__ = "report_hold"
    __table_args__ = (
        Index("ix_report_hold_code", "code"),
        Index("ix_report_hold_held_at", "held_at"),
        Index("ix_report_hold_released_at", "released_at"),
    )

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    held_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), primary_key=True)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ReportTarget(DefaultBase):
    """A target as an admin set it; the latest setting of a (jurisdiction, KPI, year) is the one in force.

    Every setting stays (each is a ``report.target_set`` event), so the history
    of a target can be shown beside it.
    """

    __tablename__ = "report_target"
    __table_args__ = (Index("ix_report_target_key", "jurisdiction", "kpi", "year"),)

    id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    """From the event (UUIDv7: later settings sort after earlier ones)."""
    jurisdiction: Mapped[str] = mapped_column(String(2))
    kpi: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    """The calendar year of an annual target; the year by whose end a clearance target is due."""
    amount: Mapped[str] = mapped_column(String(24), default="")
    """An annual target's number, as a decimal string (empty for a clearance target)."""
    declared_before: Mapped[dt.date | None] = mapped_column(Date, default=None)
    """A clearance target's baseline: surplus declared before this day is to be gone."""
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(2000), default="")
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class _Counts:
    """The columns of a bucket of counts (see :class:`ReportDay`)."""

    jurisdiction: Mapped[str] = mapped_column(String(2), primary_key=True)
    measure: Mapped[str] = mapped_column(String(20), primary_key=True)
    detail: Mapped[str] = mapped_column(String(60), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    pieces: Mapped[int] = mapped_column(BigInteger, default=0)
    net_g: Mapped[int] = mapped_column(BigInteger, default=0)
    gross_g: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportDay(_Counts, DefaultBase):
    """Counts of one local day and jurisdiction: what the figures add up without reading every record.

    ``measure`` is ``registered`` (detail: intake source), ``declared``,
    ``exit`` (left the surplus stock), ``destroyed_type`` (detail: UN type),
    ``destroyed_method`` (detail: method), ``days_intake`` and ``days_declared``
    (detail: the 30-day bucket of the days to destruction) for weapons;
    ``taken_destroyed`` and ``held`` (detail: ``YYYY-MM|source``, the month
    of registration and the intake source) for weapons taken in, when destroyed
    and when an evidence hold begins (+1) or ends (-1); and ``ammunition``
    (with pieces and masses) for lots destroyed. Days and months are those of
    the region's time zone (:data:`caliber.reports.summary.BUCKET_ZONE`). Kept
    by the projections beside ``report_record`` (see :mod:`caliber.reports.summary`).
    """

    __tablename__ = "report_day"
    __table_args__ = (Index("ix_report_day_measure", "measure", "jurisdiction", "day", "detail", "n", "pieces", "net_g", "gross_g"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class ReportMonth(_Counts, DefaultBase):
    """The same counts by local month (``month`` is its first day): a period of months adds up a few rows."""

    __tablename__ = "report_month"
    __table_args__ = (Index("ix_report_month_measure", "measure", "jurisdiction", "month", "detail", "n", "pieces", "net_g", "gross_g"),)

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
