"""The custody events of witnessed destruction, from the plan to the certificate.

Each struct is the ``data`` of one event type; ``docs/events.md`` is written from them. Every event
names its destruction by ``id``. Lists of label codes go in chunks of at most
:data:`caliber.destruction.queries.CHUNK` an event, each event's subjects naming the destruction's
code and the records it changes, so that every weapon's own custody chain shows its destruction.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from caliber.accounts.models import Role
from caliber.destruction.models import Method, Stage
from caliber.ledger.events import Event

__all__ = [
    "DestructionApproved",
    "DestructionAttested",
    "DestructionCertified",
    "DestructionCompleted",
    "DestructionDestroyed",
    "DestructionManifestChanged",
    "DestructionPhotoAdded",
    "DestructionPlanned",
    "DestructionResidueChecked",
    "DestructionReturned",
    "DestructionUnexpected",
    "DestructionVerified",
    "DestructionWithdrawn",
]

# -- plan and manifest ---------------------------------------------------------


class DestructionPlanned(Event, frozen=True, kw_only=True):
    """A destruction was planned: where and when, by which methods, under which legal authority, before whom."""

    type = "destruction.planned"
    id: UUID
    """The destruction's id."""
    code: str
    """Its label code (kind ``destruction``): crates and the certificate carry it."""
    depot_id: UUID
    """The organising depot: its staff prepare the manifest."""
    site_depot_id: UUID | None
    """The depot where the destruction takes place, or null when the site is not a depot (a steel plant)."""
    site_name: str
    site_address: str
    planned_date: dt.date
    methods: list[Method]
    """The methods planned."""
    authority_number: str
    """The number of the legal act that authorises the destruction."""
    authority_date: dt.date
    """The date of that act (on or before the planned date)."""
    organiser: str
    """Who organises it (a ministry, usually)."""
    required_witnesses: int
    """How many witnesses must attest before and after destruction."""
    observer_names: list[str]
    """The observers recorded as present (ministry, EU, OSCE, UNDP/SEESAC, donors), in order."""
    observer_organisations: list[str]
    """The organisation of each observer, in the same order as ``observer_names``."""
    notes: str


class DestructionManifestChanged(Event, frozen=True, kw_only=True):
    """Records were added to or removed from a destruction's manifest; after approval, an amendment that needs approval again."""

    type = "destruction.manifest_changed"
    id: UUID
    """The destruction's id."""
    items: list[str]
    """The label codes of the weapons and components added."""
    lots: list[str]
    """The label codes of the ammunition lots added."""
    removed: list[str]
    """The label codes taken off the manifest."""
    reason: str
    """Why (required for an amendment, may be empty before approval)."""
    amendment: bool
    """Whether the manifest had been approved: it is planned again, and its approved hash is cleared."""


class DestructionApproved(Event, frozen=True, kw_only=True):
    """A depot manager approved a destruction's manifest: it is frozen, its hash on the ledger."""

    type = "destruction.approved"
    id: UUID
    """The destruction's id."""
    manifest_sha256: str
    """SHA-256 of the manifest's sorted label codes, each followed by a line feed: anyone holding the list can recompute it."""
    records: int
    """How many records the approved manifest lists."""


# -- at the site -------------------------------------------------------------------


class DestructionVerified(Event, frozen=True, kw_only=True):
    """Records on the manifest were checked at the site: label scanned, and serial read when typed."""

    type = "destruction.verified"
    id: UUID
    """The destruction's id."""
    codes: list[str]
    """The label codes verified."""
    serial_read: str
    """The serial (or lot number) read off the one record verified, as typed; empty when none was typed."""


class DestructionUnexpected(Event, frozen=True, kw_only=True):
    """A label scanned at the site is not on the manifest: the record is set apart and counted."""

    type = "destruction.unexpected"
    id: UUID
    """The destruction's id."""
    code: str
    """The label code scanned."""
    kind: str
    """What the code was issued for (``item``, ``lot``, another label kind), or ``unknown`` for a code never issued."""


class DestructionWithdrawn(Event, frozen=True, kw_only=True):
    """A manager took records off the manifest at the site, with a reason; they go back to storage, or are reported missing."""

    type = "destruction.withdrawn"
    id: UUID
    """The destruction's id."""
    codes: list[str]
    """The label codes withdrawn."""
    reason: str
    missing: bool
    """Whether the records are reported missing (for investigation)."""


class DestructionAttested(Event, frozen=True, kw_only=True):
    """A witness attested to the verified manifest (before destruction) or to the result (after), naming the hash shown."""

    type = "destruction.attested"
    id: UUID
    """The destruction's id."""
    stage: Stage
    """``before`` (the verified manifest) or ``after`` (the records destroyed)."""
    manifest_sha256: str
    """The hash the witness attested to: of the open manifest before, of the destroyed records after."""
    user_id: UUID
    """The witness's account."""
    name: str
    """The witness's name as shown."""
    role: Role
    """The witness's role when attesting."""
    statement: str
    """What the witness wrote, if anything."""


class DestructionPhotoAdded(Event, frozen=True, kw_only=True):
    """A photograph before or after destruction was added, stored under its SHA-256."""

    type = "destruction.photo_added"
    id: UUID
    """The destruction's id."""
    sha256: str
    """SHA-256 of the photograph's bytes (the name it is stored under)."""
    stage: Stage
    """Taken before or after destruction."""
    content_type: str
    """Its media type (``image/jpeg``, ``image/png``...)."""
    size: int
    """Its size in bytes."""


# -- the day's result ------------------------------------------------------------------


class DestructionReturned(Event, frozen=True, kw_only=True):
    """Verified records were not destroyed on the day: back to storage, with a reason."""

    type = "destruction.returned"
    id: UUID
    """The destruction's id."""
    codes: list[str]
    """The label codes returned to storage."""
    reason: str


class DestructionDestroyed(Event, frozen=True, kw_only=True):
    """Records were destroyed."""

    type = "destruction.destroyed"
    id: UUID
    """The destruction's id."""
    codes: list[str]
    """The label codes destroyed."""
    methods: list[Method]
    """The methods used."""


class DestructionCompleted(Event, frozen=True, kw_only=True):
    """A destruction's day was recorded: the methods used, when it started and ended, how many records were destroyed."""

    type = "destruction.completed"
    id: UUID
    """The destruction's id."""
    methods_used: list[Method]
    started_at: dt.datetime
    """When the destruction started (UTC)."""
    ended_at: dt.datetime
    """When it ended (UTC)."""
    destroyed: int
    """How many records were destroyed."""
    returned: int
    """How many verified records went back to storage."""


class DestructionResidueChecked(Event, frozen=True, kw_only=True):
    """A witness who did not prepare the manifest inspected the residue: the destroyed records are verified destroyed."""

    type = "destruction.residue_checked"
    id: UUID
    """The destruction's id."""
    codes: list[str]
    """The label codes verified destroyed (empty when nothing was destroyed)."""
    notes: str
    """What the witness found."""


class DestructionCertified(Event, frozen=True, kw_only=True):
    """A manager issued the certificate of destruction: the destroyed records are certified, the certificate's hash on the ledger."""

    type = "destruction.certified"
    id: UUID
    """The destruction's id."""
    codes: list[str]
    """The label codes certified destroyed."""
    certificate_sha256: str
    """SHA-256 of the certificate's statement as canonical JSON (``certificate.json``)."""
