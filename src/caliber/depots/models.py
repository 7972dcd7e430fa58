"""Tables of jurisdictions, depots and their storage locations.

These tables are a view: every change to them is made by
:mod:`caliber.depots.service`, never by a handler or command.
"""

from __future__ import annotations

import enum
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase
from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["Depot", "DepotKind", "Jurisdiction", "Location", "LocationKind"]


class DepotKind(enum.StrEnum):
    """What a depot is used for."""

    ARMY_DEPOT = "army_depot"
    POLICE_EVIDENCE_STORE = "police_evidence_store"
    COLLECTION_POINT = "collection_point"
    DESTRUCTION_FACILITY = "destruction_facility"

    @property
    def label(self) -> str:
        """The kind as people write it."""
        return self.value.replace("_", " ").capitalize()


class LocationKind(enum.StrEnum):
    """Levels of the storage tree inside a depot; depth is free."""

    BUILDING = "building"
    ROOM = "room"
    RACK = "rack"
    SHELF = "shelf"
    BIN = "bin"
    AREA = "area"


class Jurisdiction(DefaultBase):
    """One of the six Roadmap jurisdictions; seeded by the first migration."""

    __tablename__ = "jurisdiction"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    capital: Mapped[str] = mapped_column(String(80))
    footnote: Mapped[str | None] = mapped_column(String(400), default=None)


class Depot(UUIDv7AuditBase):
    """A place that keeps weapons and ammunition in custody."""

    __tablename__ = "depot"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"), index=True)
    address: Mapped[str] = mapped_column(String(400), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Location(UUIDv7AuditBase):
    """A node of a depot's storage tree (building, room, rack, shelf, ...)."""

    __tablename__ = "location"
    __table_args__ = (
        UniqueConstraint("depot_id", "path", name="uq_location_depot_path"),
        Index("ix_location_parent_id", "parent_id"),
    )

    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"))
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    path: Mapped[str] = mapped_column(String(1000))
    """Names from the depot's root down, joined by `` / ``: what people read on a label."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    code: Mapped[str | None] = mapped_column(String(10), unique=True, default=None)
    """The label code on the shelf or door, scanned to move items here."""
