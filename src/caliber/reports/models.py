"""What the Roadmap reports count, kept as a projection of the ledger (rebuilt by replay like every state table).

``report_record`` holds one row per weapon, component and ammunition lot with
the moments the measures ask about; ``report_hold`` the evidence-hold
intervals. Only the projections in :mod:`caliber.reports.projection` write them.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["ReportHold", "ReportRecord", "ReportTarget"]


class ReportRecord(DefaultBase):
    """One record as the reports count it."""

    __tablename__ = "report_record"
    __table_args__ = (
        Index("ix_report_record_registered", "jurisdiction", "registered_at"),
        Index("ix_report_record_declared", "jurisdiction", "declared_at"),
        Index("ix_report_record_destroyed", "jurisdiction", "destroyed_at"),
        Index("ix_report_record_depot", "depot_id"),
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
    methods: Mapped[str] = mapped_column(String(200), default="")
    """The destruction's methods, comma-separated."""
    pieces: Mapped[int] = mapped_column(BigInteger, default=1)
    net_g: Mapped[int] = mapped_column(BigInteger, default=0)
    gross_g: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportHold(DefaultBase):
    """An evidence-hold interval of a record (``released_at`` empty while it lasts)."""

    __tablename__ = "report_hold"
    __table_args__ = (Index("ix_report_hold_code", "code"),)

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
