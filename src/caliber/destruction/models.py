"""Tables of destruction events, their manifests, observers, attestations and photos.

A view of the ledger like every state table: only the appliers of
``destruction.*`` events in :mod:`caliber.destruction.appliers` write them.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caliber.schemas import Labelled

__all__ = [
    "Attestation",
    "DestructionEvent",
    "DestructionParty",
    "DestructionPhoto",
    "EventStatus",
    "LineStatus",
    "ManifestLine",
    "Method",
    "Observer",
    "Stage",
]


class Method(Labelled):
    """How weapons and ammunition are destroyed (MOSAIC 05.50 and practice in the region)."""

    SMELTING = "smelting"
    CUTTING_TORCH = "cutting_torch"
    CUTTING_PLASMA = "cutting_plasma"
    HYDRAULIC_SHEAR = "hydraulic_shear"
    CRUSHING = "crushing"
    SHREDDING = "shredding"
    DISASSEMBLY_RECYCLING = "disassembly_and_recycling"
    OPEN_BURNING = "open_burning"
    OPEN_DETONATION = "open_detonation"
    INDUSTRIAL_DEMILITARISATION = "industrial_demilitarisation"


class EventStatus(Labelled):
    """Where a destruction event stands."""

    PLANNED = "planned"
    """Being prepared, or amended after approval: the manifest can change and needs approval."""
    APPROVED = "approved"
    """The manifest is frozen (its hash is on the ledger)."""
    IN_PROGRESS = "in_progress"
    """Verification at the site has begun."""
    COMPLETED = "completed"
    CERTIFIED = "certified"


class LineStatus(Labelled):
    """What became of one record on a manifest."""

    LISTED = "listed"
    VERIFIED = "verified"
    WITHDRAWN = "withdrawn"
    DESTROYED = "destroyed"
    RESIDUE_VERIFIED = "residue_verified"
    CERTIFIED = "certified"
    RETURNED = "returned"
    """Not destroyed on the day: back to storage, with a reason."""
    REMOVED = "removed"
    """Taken off the manifest while it was being prepared or amended."""
    UNEXPECTED = "unexpected"
    """Scanned at the site but not on the manifest: set apart, and counted."""


class Stage(Labelled):
    """When a witness attests: to the verified manifest before destruction, to the result after."""

    BEFORE = "before"
    AFTER = "after"


class DestructionEvent(UUIDv7AuditBase):
    """One destruction: its plan, where it stands, and what the day recorded."""

    __tablename__ = "destruction_event"
    __table_args__ = (Index("ix_destruction_event_status", "status"),)

    code: Mapped[str] = mapped_column(String(10), unique=True)
    """Its label code (kind ``destruction``): crates and the certificate carry it."""
    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"))
    """The organising depot: its staff prepare the manifest."""
    site_depot_id: Mapped[UUID | None] = mapped_column(ForeignKey("depot.id"), default=None)
    site_name: Mapped[str] = mapped_column(String(200))
    site_address: Mapped[str] = mapped_column(String(400), default="")
    planned_date: Mapped[dt.date] = mapped_column()
    methods: Mapped[str] = mapped_column(String(400))
    """Planned methods, comma-separated :class:`Method` values."""
    authority_number: Mapped[str] = mapped_column(String(120))
    authority_date: Mapped[dt.date] = mapped_column()
    organiser: Mapped[str] = mapped_column(String(200))
    required_witnesses: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    """Of the approved manifest; cleared by an amendment until it is approved again."""
    approved_by: Mapped[str | None] = mapped_column(String(200), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    method_used: Mapped[str] = mapped_column(String(400), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    residue_verified_by: Mapped[str | None] = mapped_column(String(200), default=None)
    residue_notes: Mapped[str] = mapped_column(Text, default="")
    certificate_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    certified_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ManifestLine(DefaultBase):
    """One weapon, component or ammunition lot on a destruction manifest."""

    __tablename__ = "destruction_line"
    __table_args__ = (Index("ix_destruction_line_code", "code"),)

    event_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("destruction_event.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    """``item`` or ``lot``."""
    status: Mapped[str] = mapped_column(String(20))
    serial_read: Mapped[str] = mapped_column(String(120), default="")
    """What the verifier read off the weapon at the site, when typed."""
    verified_by: Mapped[str | None] = mapped_column(String(200), default=None)
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    """Why it was withdrawn or returned."""
    missing: Mapped[bool] = mapped_column(Boolean, default=False)


class Observer(DefaultBase):
    """Someone recorded as present: ministry, EU, OSCE, UNDP/SEESAC, donors."""

    __tablename__ = "destruction_observer"

    event_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("destruction_event.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))


class DestructionParty(DefaultBase):
    """Who prepared or approved an event's manifest: they cannot attest to it (separation of duties)."""

    __tablename__ = "destruction_party"

    event_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("destruction_event.id"), primary_key=True)
    user_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    part: Mapped[str] = mapped_column(String(16), primary_key=True)
    """``prepared`` or ``approved``."""


class Attestation(DefaultBase):
    """A witness's signed word: to the verified manifest before, or to the result after."""

    __tablename__ = "destruction_attestation"

    event_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("destruction_event.id"), primary_key=True)
    user_id: Mapped[UUID] = mapped_column(GUID, primary_key=True)
    stage: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text, default="")
    attested_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class DestructionPhoto(DefaultBase):
    """A photograph before or after destruction, stored in the data dir under its SHA-256."""

    __tablename__ = "destruction_photo"

    event_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("destruction_event.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(40))
