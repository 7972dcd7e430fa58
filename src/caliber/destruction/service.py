"""Destruction events, from the plan to the certificate: the only code that changes them, every step a custody event.

Events (structs in :mod:`caliber.destruction.events`; lists of codes go in
chunks of at most ``CHUNK`` an event, each event naming the destruction and the
records it changes, so every weapon's own custody chain shows its destruction):

- ``destruction.planned``: id, code, depot_id, site_depot_id, site_name,
  site_address, planned_date, methods, authority_number, authority_date,
  organiser, required_witnesses, observer_names, observer_organisations, notes
- ``destruction.manifest_changed``: id, items, lots (added), removed, reason,
  amendment (a change after approval: the manifest needs approval again)
- ``destruction.approved``: id, manifest_sha256, records
- ``destruction.verified``: id, codes, serial_read (checked at the site)
- ``destruction.unexpected``: id, code, kind (scanned at the site, not on the manifest)
- ``destruction.withdrawn``: id, codes, reason, missing
- ``destruction.attested``: id, stage, manifest_sha256, user_id, name, role, statement
- ``destruction.photo_added``: id, sha256, stage, content_type, size
- ``destruction.returned``: id, codes, reason (not destroyed on the day: back to storage)
- ``destruction.destroyed``: id, codes, methods
- ``destruction.completed``: id, methods_used, started_at, ended_at, destroyed, returned
- ``destruction.residue_checked``: id, codes, notes
- ``destruction.certified``: id, codes, certificate_sha256

The day's times follow one another: the approval, the site verification, the
witnesses' attestations before, the destruction's start and end, the
attestations and residue check after, the certification. Each step refuses a
time before the one it follows (to the minute, as times are typed and printed),
naming both in local time.

The manifest hash (:func:`manifest_sha256`) is SHA-256 over the sorted label
codes, one a line: anyone holding the list can recompute it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import insert_many, new_id
from caliber.depots.service import DepotService
from caliber.destruction import rules
from caliber.destruction.certificate import certificate_bytes, certificate_sha256, statement
from caliber.destruction.events import (
    DestructionApproved,
    DestructionAttested,
    DestructionCertified,
    DestructionCompleted,
    DestructionDestroyed,
    DestructionManifestChanged,
    DestructionPhotoAdded,
    DestructionPlanned,
    DestructionResidueChecked,
    DestructionReturned,
    DestructionUnexpected,
    DestructionVerified,
    DestructionWithdrawn,
)
from caliber.destruction.models import (
    Attestation,
    DestructionEvent,
    DestructionParty,
    DestructionPhoto,
    EventStatus,
    LineStatus,
    ManifestLine,
    Observer,
    Stage,
)
from caliber.destruction.rules import MANAGERS, SITE_STAFF, STAFF, WITNESSES
from caliber.destruction.schemas import AttestationInput, Completion, ManifestChange, NewDestruction, ResidueCheck, Verification, Withdrawal
from caliber.errors import CORRECTABLE, Conflict, InvalidInput, NotFound
from caliber.items.lifecycle import Action, Status, transition
from caliber.items.moves import apply_lifecycle
from caliber.items.photos import store_photo
from caliber.items.queries import records_by_code
from caliber.items.records import serial_key, squeeze
from caliber.items.service import ItemService
from caliber.labels import service as labels
from caliber.labels.codes import is_valid, kind_of
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import CustodyTransaction, Ledger
from caliber.steps import Step
from caliber.times import local_time
from caliber.transfers.schemas import LotPart
from caliber.transfers.service import CHECK_DIGIT_MISMATCH, manifest_line

__all__ = [
    "CHUNK",
    "DestructionService",
    "EventView",
    "ManifestRefused",
    "ManifestReport",
    "Refusal",
    "appliers",
    "destruction_subject",
    "manifest_sha256",
]

appliers = Appliers(
    "destruction",
    tables=[
        "destruction_event",
        "destruction_line",
        "destruction_observer",
        "destruction_party",
        "destruction_attestation",
        "destruction_photo",
    ],
)
"""The events of destruction, from the plan to the certificate, and what applies them."""

CHUNK = 500
OPEN = (LineStatus.LISTED.value, LineStatus.VERIFIED.value)
"""Lines still on the manifest before the day's result."""
RECORD_KINDS = ("weapon", "component", "lot")
"""The kinds of label whose records a manifest lists (not a shelf's or an event's own)."""
DONE = (LineStatus.DESTROYED.value, LineStatus.RESIDUE_VERIFIED.value, LineStatus.CERTIFIED.value)
"""Lines destroyed on the day."""


def destruction_subject(code: str) -> str:
    """The ledger subject of a destruction event: its label code, like any labelled record."""
    return code


def manifest_sha256(codes: Sequence[str]) -> str:
    """SHA-256 of the sorted label codes, each followed by a line feed."""
    return hashlib.sha256("".join(f"{code}\n" for code in sorted(codes)).encode()).hexdigest()


def _chunks(codes: Sequence[str]) -> list[list[str]]:
    return [list(codes[start : start + CHUNK]) for start in range(0, len(codes), CHUNK)]


@dataclass(frozen=True)
class Refusal:
    """A record that cannot join a manifest, and why."""

    code: str
    reason: str


class ManifestRefused(Conflict):
    """A manifest change that would leave records out: nothing was changed; ``refused`` says which and why."""

    def __init__(self, refused: list[Refusal]) -> None:
        listed = "; ".join(f"{r.code}: {r.reason}" for r in refused)
        super().__init__(f"nothing was changed: {len(refused)} cannot be added ({listed})")
        self.refused = refused


@dataclass(frozen=True)
class ManifestReport:
    """What a manifest change did."""

    added: list[str]
    removed: list[str]
    refused: list[Refusal]


@dataclass(frozen=True)
class EventView:
    """A destruction event with its counts, people and photos."""

    event: DestructionEvent
    counts: dict[str, int]
    observers: list[Observer]
    attestations: list[Attestation]
    photos: list[DestructionPhoto]
    parties: set[UUID]

    @property
    def on_manifest(self) -> int:
        """Records on the manifest now (not removed, withdrawn or unexpected)."""
        return sum(n for status, n in self.counts.items() if status not in ("removed", "withdrawn", "unexpected"))

    @property
    def open_records(self) -> int:
        """Records on the manifest before the day's result (listed or verified)."""
        return sum(self.counts.get(status, 0) for status in OPEN)

    @property
    def remaining(self) -> int:
        """Records still to verify at the site."""
        return self.counts.get(LineStatus.LISTED.value, 0)

    def valid_attestations(self, stage: Stage, current_sha256: str) -> list[Attestation]:
        """Attestations of ``stage`` to the manifest as it is now (one a person)."""
        return [a for a in self.attestations if a.stage == stage.value and a.manifest_sha256 == current_sha256]

    def attestation_by(self, user_id: UUID | None, stage: Stage, current_sha256: str) -> Attestation | None:
        """The attestation ``user_id`` gave to ``stage`` of the manifest as it is now, if they gave one."""
        return next((a for a in self.valid_attestations(stage, current_sha256) if a.user_id == user_id), None)

    def last_attested(self, stage: Stage, current_sha256: str) -> dt.datetime | None:
        """When the last attestation of ``stage`` to the manifest as it is now was given."""
        return max((a.attested_at for a in self.valid_attestations(stage, current_sha256)), default=None)


class DestructionService:
    """Plan, manifest, site verification, attestation, completion and certification of destruction events."""

    def __init__(self, ledger: Ledger, items: ItemService, photo_dir: Path, zone: dt.tzinfo = dt.UTC) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.items = items
        self.photo_dir = photo_dir
        self.zone = zone
        """The deployment's time zone: times in refusals and on pages are read in it."""

    def local(self, moment: dt.datetime) -> str:
        """A time as people read it: local, to the minute, with the zone named."""
        return local_time(moment, self.zone)

    # -- plan and manifest ---------------------------------------------------------------

    async def plan(self, actor: Actor, new: NewDestruction) -> DestructionEvent:
        """Record the plan of a destruction event; it gets a label code of kind ``destruction``."""
        actor.require_role(*STAFF)
        if new.authority_date > new.planned_date:
            raise InvalidInput("the legal authority must be dated on or before the planned date", field="authority_date")
        async with self.ledger.write(actor) as tx:
            depots = await DepotService.depot_codes(tx.session, [new.depot_id, *([new.site_depot_id] if new.site_depot_id else [])])
            if new.depot_id not in depots:
                raise InvalidInput(f"no depot with id {new.depot_id}", field="depot_id")
            if new.site_depot_id and new.site_depot_id not in depots:
                raise InvalidInput(f"no depot with id {new.site_depot_id} to be the site", field="site_depot_id")
            actor.require_depot(new.depot_id, depots[new.depot_id])
            (code,) = await labels.issue_codes(tx.session, "destruction", 1)
            event_id = new_id()
            planned = DestructionPlanned(
                id=event_id,
                code=code,
                depot_id=new.depot_id,
                site_depot_id=new.site_depot_id,
                site_name=squeeze(new.site_name),
                site_address=squeeze(new.site_address),
                planned_date=new.planned_date,
                methods=list(new.methods),
                authority_number=squeeze(new.authority_number),
                authority_date=new.authority_date,
                organiser=squeeze(new.organiser),
                required_witnesses=new.required_witnesses,
                observer_names=[squeeze(o.name) for o in new.observers],
                observer_organisations=[squeeze(o.organisation) for o in new.observers],
                notes=new.notes.strip(),
            )
            await tx.record(planned, [code])
            return await _event(tx.session, event_id)

    async def change_manifest(self, actor: Actor, event_id: UUID, change: ManifestChange) -> ManifestReport:
        """Add records to a manifest (each checked: approved for destruction, not on hold, on no other manifest) or remove them.

        After approval a change is an amendment: it needs a reason, and the
        manifest needs approval again.
        """
        actor.require_role(*STAFF)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            event = await self._event_for_staff(session, actor, event_id)
            rules.manifest(actor, event).require()
            amendment = event.status != EventStatus.PLANNED
            if amendment and len(squeeze(change.reason)) < 3:
                raise InvalidInput("the manifest was approved: say why it is amended (it will need approval again)", field="reason")
            typed = _typed(change.lines)
            split: list[str] = []
            for part, line in [*((p, p.code) for p in change.lot_parts), *typed.parts]:
                try:
                    split.append(await self._split_part(tx, actor, event, part))
                except CORRECTABLE as exc:  # refused before anything of this part was written
                    typed.refused.append(Refusal(line, exc.message))
            adds = list(dict.fromkeys([*change.add, *typed.codes, *split]))
            added, by_code = await _admissible(session, actor, event, adds)
            refused = typed.refused + [Refusal(line, r.reason) for r in by_code for line in typed.codes.get(r.code, [r.code])]
            order = {line.strip(): n for n, line in reversed(list(enumerate(change.lines)))}
            refused.sort(key=lambda r: order.get(r.code, len(order)))  # as typed, then the rest
            if refused and not change.partial:
                raise ManifestRefused(refused)
            lines = await _lines(session, event.id, change.remove)
            removed = [code for code in dict.fromkeys(change.remove) if lines.get(code) == LineStatus.LISTED.value]
            if wrong := [code for code in change.remove if code not in removed]:
                raise Conflict(f"{wrong[0]} is not a listed record of this manifest: verified records are withdrawn, with a reason")
            if not added and not removed:
                if refused:
                    return ManifestReport([], [], refused)
                raise InvalidInput("nothing to change: scan or list records to add or remove", field="add")
            kinds = {code: kind for code, (kind, _) in (await records_by_code(session, added)).items()}
            events = []
            for chunk in _chunks([*added, *removed]) or [[]]:
                changed = DestructionManifestChanged(
                    id=event.id,
                    items=[c for c in chunk if c in kinds and kinds[c] == "item"],
                    lots=[c for c in chunk if c in kinds and kinds[c] == "lot"],
                    removed=[c for c in chunk if c not in kinds],
                    reason=squeeze(change.reason),
                    amendment=amendment,
                )
                events.append((changed, [event.code, *chunk]))
            await tx.record_many(events)
            return ManifestReport(added, removed, refused)

    async def _split_part(self, tx: CustodyTransaction, actor: Actor, event: DestructionEvent, part: LotPart) -> str:
        """Split ``part`` off its lot for the manifest, once the lot itself could join it; the new lot's code."""
        _, refused = await _admissible(tx.session, actor, event, [part.code])
        if refused:
            raise Conflict(refused[0].reason)
        return await self.items.record_split(tx, actor, part.code, part.quantity, reason=f"part for destruction {event.code}")

    async def approve(self, actor: Actor, event_id: UUID) -> DestructionEvent:
        """Freeze the manifest (a depot manager): its hash goes on the ledger."""
        actor.require_role(*MANAGERS)
        async with self.ledger.write(actor) as tx:
            event = await self._event_for_staff(tx.session, actor, event_id)
            rules.approve(actor, await _view(tx.session, event.id)).require()
            codes = await _codes(tx.session, event.id, OPEN)
            await tx.record(DestructionApproved(id=event.id, manifest_sha256=manifest_sha256(codes), records=len(codes)), [event.code])
            return await _event(tx.session, event.id)

    # -- at the site -----------------------------------------------------------------

    async def verify(self, actor: Actor, event_id: UUID, verification: Verification) -> list[str]:
        """Check records at the site: each on the manifest, approved for destruction, its serial as read; returns the newly verified."""
        actor.require_role(*SITE_STAFF)
        codes = list(dict.fromkeys(verification.codes))
        if verification.serial_read and len(codes) != 1:
            raise InvalidInput("a serial read goes with one scanned record", field="serial_read")
        async with self.ledger.write(actor) as tx:
            session = tx.session
            event = await self._event_at_site(session, actor, event_id, step="verify", roles=SITE_STAFF)
            now = tx.clock()
            if event.approved_at is not None and _before(now, event.approved_at):
                raise Conflict(
                    f"records cannot be verified at {self.local(now)}, before the manifest was approved at {self.local(event.approved_at)}"
                )
            lines = await _lines(session, event.id, codes)
            if off := [c for c in codes if lines.get(c) not in (*OPEN, LineStatus.UNEXPECTED.value)]:
                raise Conflict(f"{off[0]} is not on the manifest of destruction {event.code}: set it apart")
            records = await records_by_code(session, codes)
            fresh = [c for c in codes if lines[c] == LineStatus.LISTED.value]
            for code in fresh:
                kind, record = records[code]
                if record.status == Status.IN_TRANSIT.value:
                    raise Conflict(f"{code} is in transit: receive the transfer at the site first")
                transition(Action.VERIFY_AT_SITE, Status(record.status), None, actor.role, code=code)
                if verification.serial_read:
                    marked = record.serial if kind == "item" else record.lot_number
                    if serial_key(verification.serial_read) != serial_key(marked):
                        raise Conflict(
                            f"serial read {verification.serial_read!r} differs from {marked!r} on record {code}: "
                            "set it apart and withdraw it with a reason"
                        )
            serial_read = squeeze(verification.serial_read)
            await tx.record_many(
                [(DestructionVerified(id=event.id, codes=chunk, serial_read=serial_read), [event.code, *chunk]) for chunk in _chunks(fresh)]
            )
            return fresh

    async def unexpected(self, actor: Actor, event_id: UUID, code: str) -> None:
        """Record a label scanned at the site that is not on the manifest (set apart, counted on the page)."""
        actor.require_role(*SITE_STAFF)
        async with self.ledger.write(actor) as tx:
            event = await self._event_at_site(tx.session, actor, event_id, step="verify", roles=SITE_STAFF)
            if (await _lines(tx.session, event.id, [code])).get(code) is not None:
                return
            kind = (await labels.kinds(tx.session, [code])).get(code, "unknown")
            await tx.record(DestructionUnexpected(id=event.id, code=code, kind=kind), [event.code, code])

    async def withdraw(self, actor: Actor, event_id: UUID, withdrawal: Withdrawal) -> None:
        """Take records off the manifest at the site (a manager), with a reason; ``missing`` reports them missing."""
        actor.require_role(*MANAGERS)
        codes = list(dict.fromkeys(withdrawal.codes))
        async with self.ledger.write(actor) as tx:
            event = await self._event_at_site(tx.session, actor, event_id, step="withdraw", roles=MANAGERS)
            lines = await _lines(tx.session, event.id, codes)
            if off := [c for c in codes if lines.get(c) not in OPEN]:
                raise Conflict(f"{off[0]} is not an open record of this manifest")
            reason = squeeze(withdrawal.reason)
            await tx.record_many(
                [
                    (DestructionWithdrawn(id=event.id, codes=chunk, reason=reason, missing=withdrawal.missing), [event.code, *chunk])
                    for chunk in _chunks(codes)
                ]
            )

    async def attest(self, actor: Actor, event_id: UUID, attestation: AttestationInput) -> None:
        """A witness attests to the verified manifest (before) or to the result (after), naming the hash they were shown."""
        actor.require_role(*WITNESSES)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            view = await _view(session, event_id)
            event = view.event
            if attestation.stage is Stage.BEFORE:
                current = manifest_sha256(await _codes(session, event.id, OPEN))
                follows = await _last_verified(session, event.id), "the last verification at the site"
            else:
                current = manifest_sha256(await _codes(session, event.id, DONE))
                follows = event.ended_at, "the destruction ended"
            given = view.attestation_by(actor.id, attestation.stage, current)
            rules.attest(actor, view, attestation.stage, given, self.local).require()
            assert actor.id is not None  # refused above: witnesses attest under their own account
            if attestation.manifest_sha256 != current:
                raise Conflict("the manifest changed since you read it: review it again and attest to what it is now")
            now, (earlier, what) = tx.clock(), follows
            if earlier is not None and _before(now, earlier):
                raise Conflict(f"an attestation at {self.local(now)} cannot come before {what} at {self.local(earlier)}")
            attested = DestructionAttested(
                id=event.id,
                stage=attestation.stage,
                manifest_sha256=current,
                user_id=actor.id,
                name=actor.display_name,
                role=actor.role,
                statement=attestation.statement.strip(),
            )
            await tx.record(attested, [event.code])

    async def add_photo(self, actor: Actor, event_id: UUID, stage: Stage, content: bytes, content_type: str) -> str:
        """A photograph before or after destruction, stored under its SHA-256 and recorded; returns the hash."""
        actor.require_role(*SITE_STAFF)
        digest = store_photo(self.photo_dir, content, content_type)
        async with self.ledger.write(actor) as tx:
            event = await self._event_at_site(tx.session, actor, event_id, step="photos", roles=SITE_STAFF, also=(EventStatus.COMPLETED,))
            if await tx.session.get(DestructionPhoto, (event.id, digest)) is None:
                photo = DestructionPhotoAdded(id=event.id, sha256=digest, stage=stage, content_type=content_type, size=len(content))
                await tx.record(photo, [event.code])
        return digest

    async def complete(self, actor: Actor, event_id: UUID, completion: Completion) -> DestructionEvent:
        """Record the day's result: verified records destroyed, except those returned to storage with a reason."""
        actor.require_role(*WITNESSES)
        if completion.started_at.tzinfo is None or completion.ended_at.tzinfo is None:
            raise InvalidInput("times need a time zone (e.g. 2026-06-30T09:00:00+02:00)", field="started_at")
        if not completion.started_at < completion.ended_at <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
            raise InvalidInput("the destruction ends after it starts, and not in the future", field="ended_at")
        async with self.ledger.write(actor) as tx:
            session = tx.session
            view = await _view(session, event_id)
            event = view.event
            await self._require_site_scope(session, actor, event)
            rules.complete(actor, event).require()
            if view.remaining:
                raise Conflict(f"{view.remaining} record(s) are not verified: verify them, or withdraw them with a reason")
            verified = await _codes(session, event.id, (LineStatus.VERIFIED.value,))
            if not verified:
                raise Conflict("nothing is left to destroy: every record was withdrawn")
            valid = view.valid_attestations(Stage.BEFORE, manifest_sha256(verified))
            if len(valid) < event.required_witnesses:
                raise Conflict(f"{len(valid)} of {event.required_witnesses} witnesses have attested to the verified manifest")
            if {p.stage for p in view.photos} != {Stage.BEFORE.value, Stage.AFTER.value}:
                raise Conflict("add photographs before and after destruction first")
            self._check_day(event, completion, view.last_attested(Stage.BEFORE, manifest_sha256(verified)))
            returned = list(dict.fromkeys(completion.returned))
            on_manifest, going_back = set(verified), set(returned)
            if stray := [c for c in returned if c not in on_manifest]:
                raise InvalidInput(f"{stray[0]} is not a verified record of this manifest", field="returned")
            if returned and len(squeeze(completion.reason)) < 3:
                raise InvalidInput("say why records go back to storage", field="reason")
            destroyed = [c for c in verified if c not in going_back]
            reason = squeeze(completion.reason)
            methods = list(completion.methods_used)
            await tx.record_many([(DestructionReturned(id=event.id, codes=c, reason=reason), [event.code, *c]) for c in _chunks(returned)])
            await tx.record_many(
                [(DestructionDestroyed(id=event.id, codes=c, methods=methods), [event.code, *c]) for c in _chunks(destroyed)]
            )
            completed = DestructionCompleted(
                id=event.id,
                methods_used=methods,
                started_at=_utc(completion.started_at),
                ended_at=_utc(completion.ended_at),
                destroyed=len(destroyed),
                returned=len(returned),
            )
            await tx.record(completed, [event.code])
            return await _event(session, event.id)

    async def check_residue(self, actor: Actor, event_id: UUID, check: ResidueCheck) -> None:
        """A witness who did not prepare the manifest inspects the residue: every destroyed record verified after destruction."""
        actor.require_role(*WITNESSES)
        async with self.ledger.write(actor) as tx:
            view = await _view(tx.session, event_id)
            event = view.event
            rules.residue(actor, view).require()
            now = tx.clock()
            if event.ended_at is not None and _before(now, event.ended_at):
                raise Conflict(
                    f"the residue cannot be checked at {self.local(now)}, before the destruction ended at {self.local(event.ended_at)}"
                )
            destroyed = await _codes(tx.session, event.id, (LineStatus.DESTROYED.value,))
            notes = check.notes.strip()
            await tx.record_many(
                [(DestructionResidueChecked(id=event.id, codes=c, notes=notes), [event.code, *c]) for c in _chunks(destroyed) or [[]]]
            )

    async def certify(self, actor: Actor, event_id: UUID) -> str:
        """Issue the certificate (a manager): every destroyed record certified, the certificate's hash on the ledger; returns it."""
        actor.require_role(*MANAGERS)
        async with self.ledger.write(actor) as tx:
            view = await _view(tx.session, event_id)
            event = view.event
            await self._event_for_staff(tx.session, actor, event.id)
            rules.certify(actor, event).require()
            destroyed = await _codes(tx.session, event.id, DONE)
            valid = view.valid_attestations(Stage.AFTER, manifest_sha256(destroyed))
            if len(valid) < event.required_witnesses:
                raise Conflict(f"{len(valid)} of {event.required_witnesses} witnesses have attested to the result")
            now, last = tx.clock(), view.last_attested(Stage.AFTER, manifest_sha256(destroyed))
            if last is not None and _before(now, last):
                raise Conflict(
                    f"the certificate cannot be issued at {self.local(now)}, "
                    f"before the last attestation of the result at {self.local(last)}"
                )
            digest = certificate_sha256(await statement(tx.session, event.id))
            certified = [DestructionCertified(id=event.id, codes=c, certificate_sha256=digest) for c in _chunks(destroyed) or [[]]]
            await tx.record_many([(one, [event.code, *one.codes]) for one in certified])
            return digest

    # -- reading ---------------------------------------------------------------------

    def next_steps(self, actor: Actor, view: EventView, attested: Attestation | None = None) -> list[Step]:
        """Every step of the event for ``actor`` now: allowed, or refused with the reason (what the service would raise).

        ``attested``: the attestation the actor gave to the current stage of the manifest as it is now, if any.
        Checks of what a step is given (codes, times, hashes) come when it is taken.
        """
        event = view.event
        stage = Stage.AFTER if event.status == EventStatus.COMPLETED else Stage.BEFORE
        return [
            rules.manifest(actor, event),
            rules.approve(actor, view),
            rules.at_site("verify", actor, event, SITE_STAFF),
            rules.at_site("withdraw", actor, event, MANAGERS),
            rules.attest(actor, view, stage, attested, self.local),
            rules.at_site("photos", actor, event, SITE_STAFF, also=(EventStatus.COMPLETED,)),
            rules.complete(actor, event),
            rules.residue(actor, view),
            rules.certify(actor, event),
        ]

    async def get(self, actor: Actor, event_id: UUID) -> EventView:
        """An event with its counts, observers, attestations and photos."""
        async with self.db.read() as session:
            view = await _view(session, event_id)
            await self._require_site_scope(session, actor, view.event)
            return view

    async def by_code(self, actor: Actor, code: str) -> EventView:
        """An event by its label code."""
        async with self.db.read() as session:
            event_id = await session.scalar(select(DestructionEvent.id).where(DestructionEvent.code == code))
        if event_id is None:
            raise NotFound(f"no destruction event has label code {code}")
        return await self.get(actor, event_id)

    async def list(self, actor: Actor, *, status: EventStatus | None = None, limit: int = 200) -> list[DestructionEvent]:
        """Events the actor may see, newest first."""
        query = select(DestructionEvent).order_by(DestructionEvent.planned_date.desc(), DestructionEvent.id.desc()).limit(limit)
        if status is not None:
            query = query.where(DestructionEvent.status == status.value)
        if not actor.sees_all_depots:
            depots = list(actor.depot_ids)
            query = query.where(DestructionEvent.depot_id.in_(depots) | DestructionEvent.site_depot_id.in_(depots))
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def waiting_for(self, actor: Actor) -> list[DestructionEvent]:
        """Events where this witness may attest and has not yet (before or after)."""
        if actor.id is None or actor.role not in WITNESSES:
            return []
        stages = {EventStatus.IN_PROGRESS.value: Stage.BEFORE.value, EventStatus.APPROVED.value: Stage.BEFORE.value}
        stages[EventStatus.COMPLETED.value] = Stage.AFTER.value
        async with self.db.read() as session:
            events = list(await session.scalars(select(DestructionEvent).where(DestructionEvent.status.in_(stages))))
            mine = set(
                (await session.execute(select(Attestation.event_id, Attestation.stage).where(Attestation.user_id == actor.id))).all()
            )
            parties = set(await session.scalars(select(DestructionParty.event_id).where(DestructionParty.user_id == actor.id)))
        return [e for e in events if e.id not in parties and (e.id, stages[e.status]) not in mine]

    async def lines(
        self, actor: Actor, event_id: UUID, *, status: LineStatus | None = None, after: str = "", limit: int = 200
    ) -> list[ManifestLine]:
        """Manifest lines by label code (keyset: ``after`` the last code of the previous page)."""
        await self.get(actor, event_id)
        query = select(ManifestLine).where(ManifestLine.event_id == event_id, ManifestLine.code > after)
        if status is not None:
            query = query.where(ManifestLine.status == status.value)
        async with self.db.read() as session:
            return list(await session.scalars(query.order_by(ManifestLine.code).limit(limit)))

    async def certificate(self, actor: Actor, event_id: UUID) -> bytes:
        """The certificate's statement as canonical JSON (once issued)."""
        view = await self.get(actor, event_id)
        if view.event.status != EventStatus.CERTIFIED.value:
            raise Conflict(f"destruction {view.event.code} has no certificate yet: it is {EventStatus(view.event.status).label.lower()}")
        async with self.db.read() as session:
            return certificate_bytes(await statement(session, event_id))

    async def current_sha256(self, actor: Actor, event_id: UUID, stage: Stage) -> str:
        """The hash a witness attests to now: the open manifest before, the destroyed records after."""
        await self.get(actor, event_id)
        async with self.db.read() as session:
            return manifest_sha256(await _codes(session, event_id, OPEN if stage is Stage.BEFORE else DONE))

    def _check_day(self, event: DestructionEvent, completion: Completion, attested: dt.datetime | None) -> None:
        """The destruction starts on or after the legal authority's date and the last attestation before it."""
        start = completion.started_at
        if start.astimezone(self.zone).date() < event.authority_date:
            raise InvalidInput(
                f"the destruction cannot start at {self.local(start)}, before the legal authority of {event.authority_date}",
                field="started_at",
            )
        if attested is not None and _before(start, attested):
            raise InvalidInput(
                f"the destruction cannot start at {self.local(start)} before the last before-destruction attestation "
                f"at {self.local(attested)}",
                field="started_at",
            )

    # -- scope -----------------------------------------------------------------------

    async def _event_for_staff(self, session: AsyncSession, actor: Actor, event_id: UUID) -> DestructionEvent:
        event = await _event(session, event_id)
        codes = await DepotService.depot_codes(session, [event.depot_id])
        actor.require_depot(event.depot_id, codes[event.depot_id])
        return event

    async def _require_site_scope(self, session: AsyncSession, actor: Actor, event: DestructionEvent) -> None:
        if actor.can_see_depot(event.depot_id) or (event.site_depot_id and actor.can_see_depot(event.site_depot_id)):
            return
        codes = await DepotService.depot_codes(session, [event.depot_id])
        actor.require_depot(event.depot_id, codes[event.depot_id])

    async def _event_at_site(
        self, session: AsyncSession, actor: Actor, event_id: UUID, *, step: str, roles: Sequence[Role], also: tuple[EventStatus, ...] = ()
    ) -> DestructionEvent:
        event = await _event(session, event_id)
        await self._require_site_scope(session, actor, event)
        rules.at_site(step, actor, event, roles, also).require()
        return event


def _utc(moment: dt.datetime) -> dt.datetime:
    """An aware time in UTC (logged as ``...Z``)."""
    return moment.astimezone(dt.UTC)


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(second=0, microsecond=0)


def _before(moment: dt.datetime, bound: dt.datetime) -> bool:
    """Whether ``moment`` falls in a minute before ``bound``'s (times are typed and printed to the minute)."""
    return _minute(moment) < _minute(bound)


async def _last_verified(session: AsyncSession, event_id: UUID) -> dt.datetime | None:
    """When the last record still on the manifest was verified at the site."""
    query = select(func.max(ManifestLine.verified_at)).where(ManifestLine.event_id == event_id, ManifestLine.status.in_(OPEN))
    return await session.scalar(query)


async def _event(session: AsyncSession, event_id: UUID) -> DestructionEvent:
    event = await session.get(DestructionEvent, event_id)
    if event is None:
        raise NotFound(f"no destruction event {event_id}")
    return event


async def _view(session: AsyncSession, event_id: UUID) -> EventView:
    event = await _event(session, event_id)
    rows = await session.execute(
        select(ManifestLine.status, func.count()).where(ManifestLine.event_id == event_id).group_by(ManifestLine.status)
    )
    counts = {status: int(n) for status, n in rows.all()}
    observers = list(await session.scalars(select(Observer).where(Observer.event_id == event_id).order_by(Observer.position)))
    attestations = list(
        await session.scalars(select(Attestation).where(Attestation.event_id == event_id).order_by(Attestation.attested_at))
    )
    photos = list(await session.scalars(select(DestructionPhoto).where(DestructionPhoto.event_id == event_id)))
    parties = set(await session.scalars(select(DestructionParty.user_id).where(DestructionParty.event_id == event_id)))
    return EventView(event, counts, observers, attestations, photos, parties)


async def _lines(session: AsyncSession, event_id: UUID, codes: Sequence[str]) -> dict[str, str]:
    """``code -> line status`` for those of ``codes`` on the event's manifest."""
    found: dict[str, str] = {}
    wanted = list(dict.fromkeys(codes))
    for start in range(0, len(wanted), CHUNK):
        query = select(ManifestLine.code, ManifestLine.status).where(
            ManifestLine.event_id == event_id, ManifestLine.code.in_(wanted[start : start + CHUNK])
        )
        found.update((code, status) for code, status in (await session.execute(query)).all())
    return found


async def _codes(session: AsyncSession, event_id: UUID, statuses: Sequence[str]) -> list[str]:
    query = select(ManifestLine.code).where(ManifestLine.event_id == event_id, ManifestLine.status.in_(statuses))
    return list(await session.scalars(query.order_by(ManifestLine.code)))


async def _admissible(session: AsyncSession, actor: Actor, event: DestructionEvent, codes: list[str]) -> tuple[list[str], list[Refusal]]:
    """Which records may join the manifest, and a reason for each that may not."""
    records = await records_by_code(session, codes)
    here = await _lines(session, event.id, codes)
    elsewhere: dict[str, str] = {}
    for start in range(0, len(codes), CHUNK):
        query = (
            select(ManifestLine.code, DestructionEvent.code)
            .join(DestructionEvent, DestructionEvent.id == ManifestLine.event_id)
            .where(
                ManifestLine.code.in_(codes[start : start + CHUNK]),
                ManifestLine.status.in_(OPEN),
                DestructionEvent.id != event.id,
            )
        )
        elsewhere.update((await session.execute(query)).all())
    depots = await DepotService.depot_codes(session, {record.depot_id for _, record in records.values()})
    added: list[str] = []
    refused: list[Refusal] = []
    for code in codes:
        if not is_valid(code):
            refused.append(Refusal(code, CHECK_DIGIT_MISMATCH))
        elif kind_of(code) not in RECORD_KINDS:
            refused.append(Refusal(code, f"it is the label of a {kind_of(code)}: only weapons, components and lots are destroyed"))
        elif here.get(code) in OPEN:
            refused.append(Refusal(code, "it is on this manifest already"))
        elif code not in records:
            refused.append(Refusal(code, "no weapon, component or ammunition lot has this label"))
        elif reason := _not_destroyable(actor, records[code][1], depots, elsewhere.get(code)):
            refused.append(Refusal(code, reason))
        else:
            added.append(code)
    return added, refused


def _not_destroyable(actor: Actor, record: Any, depots: dict[UUID, str], elsewhere: str | None) -> str | None:
    """Why a record in the register cannot join a manifest (None: it can)."""
    status = Status(record.status)
    if not actor.can_see_depot(record.depot_id):
        return f"it is in depot {depots[record.depot_id]}, which is not yours"
    if status is Status.EVIDENCE_HOLD:
        return "it is on evidence hold: a court order must release it before it can be destroyed"
    if status is not Status.APPROVED_FOR_DESTRUCTION:
        return f"it is {status.label.lower()}: only records approved for destruction can be added"
    if elsewhere:
        return f"it is on the manifest of destruction {elsewhere} already"
    return None


@dataclass
class _Typed:
    """Lines as typed, read: the codes they name (with the lines naming each), the parts of lots, the refused lines."""

    codes: dict[str, list[str]]
    parts: list[tuple[LotPart, str]]
    refused: list[Refusal]


def _typed(lines: Sequence[str]) -> _Typed:
    """Read each line to a code or a part of a lot, or refuse it as typed with the reason."""
    typed = _Typed({}, [], [])
    for line in (line.strip() for line in lines):
        if not line:
            continue
        try:
            read = manifest_line(line)
        except InvalidInput as exc:
            typed.refused.append(Refusal(line, exc.message))
            continue
        if isinstance(read, LotPart):
            typed.parts.append((read, line))
        else:
            typed.codes.setdefault(read, []).append(line)
    return typed


# -- appliers: the one place each event changes the tables (live and on replay) ---------------


async def _applied_event(session: AsyncSession, event: Recorded[Any]) -> DestructionEvent:
    found = await session.get(DestructionEvent, event.data.id)
    if found is None:
        raise LookupError(f"{event.type} names destruction {event.data.id}, which was never planned")
    return found


async def _set_lines(session: AsyncSession, event_id: UUID, codes: Sequence[str], **values: Any) -> None:
    for chunk in _chunks(codes):
        await session.execute(update(ManifestLine).where(ManifestLine.event_id == event_id, ManifestLine.code.in_(chunk)).values(**values))


async def _party(session: AsyncSession, event_id: UUID, actor: dict[str, Any], part: str) -> None:
    if actor["id"] is not None and await session.get(DestructionParty, (event_id, UUID(actor["id"]), part)) is None:
        session.add(DestructionParty(event_id=event_id, user_id=UUID(actor["id"]), part=part))


@appliers.on(DestructionPlanned)
async def _planned(session: AsyncSession, event: Recorded[DestructionPlanned]) -> None:
    data = event.data
    session.add(
        DestructionEvent(
            id=data.id,
            code=data.code,
            depot_id=data.depot_id,
            site_depot_id=data.site_depot_id,
            site_name=data.site_name,
            site_address=data.site_address,
            planned_date=data.planned_date,
            methods=",".join(data.methods),
            authority_number=data.authority_number,
            authority_date=data.authority_date,
            organiser=data.organiser,
            required_witnesses=data.required_witnesses,
            notes=data.notes,
            status=EventStatus.PLANNED.value,
        )
    )
    await session.flush()
    for position, (name, organisation) in enumerate(zip(data.observer_names, data.observer_organisations, strict=True)):
        session.add(Observer(event_id=data.id, position=position, name=name, organisation=organisation))
    await labels.register_codes(session, "destruction", [(data.code, data.id)])
    await _party(session, data.id, event.actor, "prepared")
    await session.flush()


@appliers.on(DestructionManifestChanged, batch=True)
async def _manifest_changed(session: AsyncSession, events: list[Recorded[DestructionManifestChanged]]) -> None:
    for event in events:
        data = event.data
        target = await _applied_event(session, event)
        added = [*data.items, *data.lots]
        again = set(await _lines(session, target.id, added))
        rows = [{"event_id": target.id, "code": c, "kind": "item", "status": LineStatus.LISTED.value} for c in data.items if c not in again]
        rows += [{"event_id": target.id, "code": c, "kind": "lot", "status": LineStatus.LISTED.value} for c in data.lots if c not in again]
        await insert_many(session, ManifestLine.__table__, rows)
        await _set_lines(session, target.id, [c for c in added if c in again], status=LineStatus.LISTED.value, reason="", missing=False)
        await _set_lines(session, target.id, data.removed, status=LineStatus.REMOVED.value, reason=data.reason)
        if data.amendment:
            target.status = EventStatus.PLANNED.value
            target.manifest_sha256 = None
        await _party(session, target.id, event.actor, "prepared")
    await session.flush()


@appliers.on(DestructionApproved)
async def _approved(session: AsyncSession, event: Recorded[DestructionApproved]) -> None:
    target = await _applied_event(session, event)
    verified = await _codes(session, target.id, (LineStatus.VERIFIED.value,))
    target.status = (EventStatus.IN_PROGRESS if verified else EventStatus.APPROVED).value
    target.manifest_sha256 = event.data.manifest_sha256
    target.approved_by = event.actor["name"]
    target.approved_at = event.moment
    await _party(session, target.id, event.actor, "approved")
    await session.flush()


@appliers.on(DestructionVerified, batch=True)
async def _verified(session: AsyncSession, events: list[Recorded[DestructionVerified]]) -> None:
    for event in events:
        data = event.data
        target = await _applied_event(session, event)
        moment = event.moment
        values = {"status": LineStatus.VERIFIED.value, "verified_by": event.actor["name"], "verified_at": moment}
        await _set_lines(session, target.id, data.codes, serial_read=data.serial_read, **values)
        await apply_lifecycle(session, data.codes, Action.VERIFY_AT_SITE, moment)
        target.status = EventStatus.IN_PROGRESS.value
    await session.flush()


@appliers.on(DestructionUnexpected)
async def _unexpected(session: AsyncSession, event: Recorded[DestructionUnexpected]) -> None:
    data = event.data
    target = await _applied_event(session, event)
    kind = data.kind if data.kind in ("item", "lot") else "unknown"
    session.add(ManifestLine(event_id=target.id, code=data.code, kind=kind, status=LineStatus.UNEXPECTED.value))
    await session.flush()


@appliers.on(DestructionWithdrawn, batch=True)
async def _withdrawn(session: AsyncSession, events: list[Recorded[DestructionWithdrawn]]) -> None:
    for event in events:
        data = event.data
        target = await _applied_event(session, event)
        moment = event.moment
        codes = data.codes
        verified = [c for c, status in (await _lines(session, target.id, codes)).items() if status == LineStatus.VERIFIED.value]
        await apply_lifecycle(session, verified, Action.RETURN_TO_STORAGE, moment)
        if data.missing:
            await apply_lifecycle(session, codes, Action.REPORT_MISSING, moment)
        await _set_lines(session, target.id, codes, status=LineStatus.WITHDRAWN.value, reason=data.reason, missing=data.missing)
    await session.flush()


@appliers.on(DestructionAttested)
async def _attested(session: AsyncSession, event: Recorded[DestructionAttested]) -> None:
    data = event.data
    target = await _applied_event(session, event)
    stage = data.stage.value
    await session.execute(
        delete(Attestation).where(and_(Attestation.event_id == target.id, Attestation.user_id == data.user_id, Attestation.stage == stage))
    )
    session.add(
        Attestation(
            event_id=target.id,
            user_id=data.user_id,
            stage=stage,
            name=data.name,
            role=data.role.value,
            manifest_sha256=data.manifest_sha256,
            statement=data.statement,
            attested_at=event.moment,
        )
    )
    await session.flush()


@appliers.on(DestructionPhotoAdded)
async def _photo_added(session: AsyncSession, event: Recorded[DestructionPhotoAdded]) -> None:
    data = event.data
    target = await _applied_event(session, event)
    session.add(DestructionPhoto(event_id=target.id, sha256=data.sha256, stage=data.stage.value, content_type=data.content_type))
    await session.flush()


async def _step(
    session: AsyncSession, events: Sequence[Recorded[Any]], action: Action, line: LineStatus, reason: Callable[[Any], str] | None = None
) -> list[DestructionEvent]:
    """Apply one day's step to the records each event names: their lifecycle status and their manifest lines (and ``reason``)."""
    targets = []
    for event in events:
        target = await _applied_event(session, event)
        codes: list[str] = event.data.codes
        await apply_lifecycle(session, codes, action, event.moment)
        await _set_lines(session, target.id, codes, status=line.value, **({"reason": reason(event.data)} if reason else {}))
        targets.append(target)
    return targets


@appliers.on(DestructionReturned, batch=True)
async def _returned(session: AsyncSession, events: list[Recorded[DestructionReturned]]) -> None:
    await _step(session, events, Action.RETURN_TO_STORAGE, LineStatus.RETURNED, reason=lambda data: data.reason)
    await session.flush()


@appliers.on(DestructionDestroyed, batch=True)
async def _destroyed(session: AsyncSession, events: list[Recorded[DestructionDestroyed]]) -> None:
    await _step(session, events, Action.DESTROY, LineStatus.DESTROYED)
    await session.flush()


@appliers.on(DestructionCompleted)
async def _completed(session: AsyncSession, event: Recorded[DestructionCompleted]) -> None:
    data = event.data
    target = await _applied_event(session, event)
    target.status = EventStatus.COMPLETED.value
    target.method_used = ",".join(data.methods_used)
    target.started_at = data.started_at
    target.ended_at = data.ended_at
    target.completed_at = event.moment
    await session.flush()


@appliers.on(DestructionResidueChecked, batch=True)
async def _residue_checked(session: AsyncSession, events: list[Recorded[DestructionResidueChecked]]) -> None:
    for target, event in zip(await _step(session, events, Action.VERIFY_DESTROYED, LineStatus.RESIDUE_VERIFIED), events, strict=True):
        target.residue_verified_by = event.actor["name"]
        target.residue_notes = event.data.notes
    await session.flush()


@appliers.on(DestructionCertified, batch=True)
async def _certified(session: AsyncSession, events: list[Recorded[DestructionCertified]]) -> None:
    for target, event in zip(await _step(session, events, Action.CERTIFY, LineStatus.CERTIFIED), events, strict=True):
        target.status = EventStatus.CERTIFIED.value
        target.certificate_sha256 = event.data.certificate_sha256
        target.certified_at = event.moment
    await session.flush()
