"""The register of label codes: every code ever issued, and what it labels.

One register for items, ammunition lots and storage locations, so a scanned
code always resolves to exactly one record. Rows are only ever inserted (by
the appliers of the events that issue codes).
"""

from __future__ import annotations

from uuid import UUID

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import GUID
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["Label"]


class Label(DefaultBase):
    """A label code and the record it was issued for."""

    __tablename__ = "label"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``item``, ``lot`` or ``location``."""
    record_id: Mapped[UUID] = mapped_column(GUID, index=True)
