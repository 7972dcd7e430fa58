"""Request bodies of the destruction API: plan, manifest changes, site checks, attestations, completion."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from caliber.destruction.models import Method, Stage
from caliber.items.schemas import LabelCode, Notes
from caliber.schemas import LINES, Input, Lines, Name
from caliber.transfers.schemas import LotPart

__all__ = [
    "MAX_MANIFEST",
    "AttestationInput",
    "Completion",
    "ManifestChange",
    "NewDestruction",
    "ObserverInput",
    "ResidueCheck",
    "Verification",
    "Withdrawal",
]

MAX_MANIFEST = 30_000
"""Records one destruction event may hold (the region destroys tens of thousands of weapons in a day)."""

Reason = Annotated[str, msgspec.Meta(max_length=2000, extra=LINES)]
Codes = Annotated[list[LabelCode], msgspec.Meta(max_length=MAX_MANIFEST)]
ScannedLine = Annotated[str, msgspec.Meta(max_length=400)]


class ObserverInput(Input, forbid_unknown_fields=True):
    """Someone present to observe: ministry, EU, OSCE, UNDP/SEESAC, a donor."""

    name: Name
    organisation: Name


class NewDestruction(Input, forbid_unknown_fields=True):
    """The plan of a destruction event."""

    depot_id: UUID
    site_name: Name
    planned_date: dt.date
    methods: Annotated[list[Method], msgspec.Meta(min_length=1, max_length=10)]
    authority_number: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    authority_date: dt.date
    organiser: Name
    site_depot_id: UUID | None = None
    site_address: Lines = ""
    required_witnesses: Annotated[int, msgspec.Meta(ge=2, le=20)] = 2
    observers: Annotated[list[ObserverInput], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    notes: Notes = ""


class ManifestChange(Input, forbid_unknown_fields=True):
    """Records to add to or remove from a manifest; after approval a change is an amendment and needs a reason.

    ``lines``: labels as scanned or typed, one a line (a code, its grouped form or label URL; ``CODE x 400`` for 400
    pieces of a lot); a line that names no record is refused with the line as typed.
    ``partial``: add what can be added and report the rest, instead of refusing the whole change.
    """

    add: Codes = msgspec.field(default_factory=list)
    lines: Annotated[list[ScannedLine], msgspec.Meta(max_length=MAX_MANIFEST)] = msgspec.field(default_factory=list)
    remove: Codes = msgspec.field(default_factory=list)
    lot_parts: Annotated[list[LotPart], msgspec.Meta(max_length=1000)] = msgspec.field(default_factory=list)
    reason: Reason = ""
    partial: bool = False


class Verification(Input, forbid_unknown_fields=True):
    """Records checked at the site (label scanned, serial read); ``serial_read`` with a single code."""

    codes: Annotated[list[LabelCode], msgspec.Meta(min_length=1, max_length=MAX_MANIFEST)]
    serial_read: Annotated[str, msgspec.Meta(max_length=120)] = ""


class Withdrawal(Input, forbid_unknown_fields=True):
    """Records taken off the manifest at the site, with why; ``missing`` reports them missing for investigation."""

    codes: Annotated[list[LabelCode], msgspec.Meta(min_length=1, max_length=MAX_MANIFEST)]
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000, extra=LINES)]
    missing: bool = False


class AttestationInput(Input, forbid_unknown_fields=True):
    """A witness's attestation: ``before`` to the verified manifest, ``after`` to the result."""

    stage: Stage
    manifest_sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    """The hash the witness was shown: an attestation counts only for the manifest it names."""
    statement: Reason = ""


class Completion(Input, forbid_unknown_fields=True):
    """What the day did: the method used, when, and the records not destroyed (back to storage, with why)."""

    methods_used: Annotated[list[Method], msgspec.Meta(min_length=1, max_length=10)]
    started_at: dt.datetime
    ended_at: dt.datetime
    returned: Codes = msgspec.field(default_factory=list)
    reason: Reason = ""


class ResidueCheck(Input, forbid_unknown_fields=True):
    """A witness's inspection of the residue: frames and receivers made unusable beyond repair."""

    notes: Annotated[str, msgspec.Meta(min_length=3, max_length=4000, extra=LINES)]
