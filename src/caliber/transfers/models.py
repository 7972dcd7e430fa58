"""Tables of transfers between depots and the lines of their manifests."""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["Transfer", "TransferLine", "TransferStatus"]


class TransferStatus(enum.StrEnum):
    """Where a transfer stands: on the road until the receiving depot confirms it."""

    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


class Transfer(UUIDv7AuditBase):
    """A sealed consignment of items and lots from one depot to another."""

    __tablename__ = "transfer"
    __table_args__ = (Index("ix_transfer_to_depot_status", "to_depot_id", "status"), Index("ix_transfer_from_depot", "from_depot_id"))

    from_depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"))
    to_depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"))
    status: Mapped[str] = mapped_column(String(16))
    """A :class:`TransferStatus`: ``in_transit`` until the receiving depot confirms, then ``received``."""
    seals: Mapped[str] = mapped_column(String(400), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    dispatched_by: Mapped[str] = mapped_column(String(200))
    dispatched_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    received_by: Mapped[str | None] = mapped_column(String(200), default=None)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class TransferLine(DefaultBase):
    """One record on a transfer's manifest, or found extra on receipt, and what became of it."""

    __tablename__ = "transfer_line"

    transfer_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("transfer.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    """``item``, ``lot``, or ``unknown`` for a scanned code that is neither."""
    outcome: Mapped[str] = mapped_column(String(16))
    """``in_transit``, then ``received``, ``missing`` (on the manifest, not found) or ``extra`` (found, not on it)."""
