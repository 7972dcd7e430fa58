"""Tables of stock checks and their lines: what the records expect and what was counted."""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["StockCheck", "StockCheckLine", "StockCheckStatus"]


class StockCheckStatus(enum.StrEnum):
    """Where a stock check stands: counted by one person, then confirmed and closed by another."""

    OPEN = "open"
    COUNTED = "counted"
    CLOSED = "closed"


class StockCheck(UUIDv7AuditBase):
    """A count of a depot, or of one part of its storage tree, against what the records expect."""

    __tablename__ = "stock_check"
    __table_args__ = (Index("ix_stock_check_depot_status", "depot_id", "status"),)

    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"))
    location_id: Mapped[UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    """The part of the tree counted; None for the whole depot (a full count)."""
    status: Mapped[str] = mapped_column(String(16))
    """A :class:`StockCheckStatus`: ``open`` while counting, ``counted`` when the counter is done, ``closed`` once confirmed."""
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    counted_by: Mapped[str | None] = mapped_column(String(200), default=None)
    closed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    found: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    wrong_location: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    lot_differences: Mapped[int] = mapped_column(Integer, default=0)


class StockCheckLine(DefaultBase):
    """What a stock check expected of one record (fixed when it opened) and what the count found."""

    __tablename__ = "stock_check_line"

    check_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("stock_check.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    """``item``, ``lot``, or ``unknown`` for a scanned code the check did not expect."""
    expected_location_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    expected_quantity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    expected: Mapped[bool] = mapped_column(Boolean, default=True)
    found_location_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    counted_quantity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    scanned: Mapped[bool] = mapped_column(Boolean, default=False)
