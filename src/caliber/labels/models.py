"""The register of label codes: every code ever issued, and what it labels; and the label printers.

One register for items, ammunition lots and storage locations, so a scanned
code always resolves to exactly one record. Rows are only ever inserted (by
the appliers of the events that issue codes). Printers are registered and
changed by :mod:`caliber.labels.printers` (``printer.*`` events).
"""

from __future__ import annotations

from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase
from advanced_alchemy.types import GUID
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["Label", "LabelCalibration", "Printer", "QrMatrix"]


class Label(DefaultBase):
    """A label code and the record it was issued for."""

    __tablename__ = "label"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``item``, ``lot`` or ``location``."""
    record_id: Mapped[UUID] = mapped_column(GUID, index=True)
    prints: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many times the label was printed: a second print is a reprint and needs a reason."""


class LabelCalibration(DefaultBase):
    """A sheet layout's printer calibration: how far to move everything right and down, in mm."""

    __tablename__ = "label_calibration"

    layout: Mapped[str] = mapped_column(String(80), primary_key=True)
    dx_mm: Mapped[str] = mapped_column(String(16))
    dy_mm: Mapped[str] = mapped_column(String(16))


class QrMatrix(DefaultBase):
    """A QR matrix kept by the text it encodes (a cache, not custody data).

    Choosing a QR's mask takes milliseconds; labels are made ahead, when their
    records come in, so a print job of thousands only reads them.
    """

    __tablename__ = "label_qr"

    text: Mapped[str] = mapped_column(String(512), primary_key=True)
    modules: Mapped[bytes] = mapped_column(LargeBinary)
    """``caliber.labels.qr.pack`` of the matrix."""


class Printer(UUIDv7AuditBase):
    """A thermal label printer an admin registered for a depot: the only kind of address the server sends jobs to."""

    __tablename__ = "label_printer"
    __table_args__ = (UniqueConstraint("depot_id", "name"),)

    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    host: Mapped[str] = mapped_column(String(253))
    """A host name or an IP address, as registered."""
    port: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(120))
    dpi: Mapped[int] = mapped_column(Integer)
    size: Mapped[str] = mapped_column(String(8))
    """The ZPL label stock loaded, e.g. ``2x1`` (inches)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
