"""What destruction reads: events, their views and manifest lines, the manifest hash, and the scope each step checks.

The manifest hash (:func:`manifest_sha256`) is SHA-256 over the sorted label
codes, one a line: anyone holding the list can recompute it.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.depots.service import DepotService
from caliber.destruction import rules
from caliber.destruction.certificate import certificate_bytes, statement
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
from caliber.destruction.rules import MANAGERS, SITE_STAFF, WITNESSES
from caliber.destruction.trace_rule import TraceRule, load_trace_rule
from caliber.errors import Conflict, NotFound
from caliber.items.service import ItemService
from caliber.ledger.store import Ledger
from caliber.steps import Step
from caliber.times import local_time
from caliber.tracing.untraced import NONE, Untraced, untraced_weapons

__all__ = [
    "CHUNK",
    "DONE",
    "OPEN",
    "DestructionReads",
    "EventView",
    "chunks",
    "codes_in",
    "destruction_subject",
    "event_view",
    "find_event",
    "line_statuses",
    "manifest_sha256",
    "on_open_manifests",
]

CHUNK = 500
"""The most label codes one event lists: longer lists go in several events."""
OPEN = (LineStatus.LISTED.value, LineStatus.VERIFIED.value)
"""Lines still on the manifest before the day's result."""
DONE = (LineStatus.DESTROYED.value, LineStatus.RESIDUE_VERIFIED.value, LineStatus.CERTIFIED.value)
"""Lines destroyed on the day."""


def destruction_subject(code: str) -> str:
    """The ledger subject of a destruction event: its label code, like any labelled record."""
    return code


def manifest_sha256(codes: Sequence[str]) -> str:
    """SHA-256 of the sorted label codes, each followed by a line feed."""
    return hashlib.sha256("".join(f"{code}\n" for code in sorted(codes)).encode()).hexdigest()


def chunks(codes: Sequence[str]) -> list[list[str]]:
    """``codes`` in lists of at most :data:`CHUNK`, one an event."""
    return [list(codes[start : start + CHUNK]) for start in range(0, len(codes), CHUNK)]


@dataclass(frozen=True)
class EventView:
    """A destruction event with its counts, people and photos."""

    event: DestructionEvent
    counts: dict[str, int]
    observers: list[Observer]
    attestations: list[Attestation]
    photos: list[DestructionPhoto]
    parties: set[UUID]
    untraced: Untraced = NONE
    """The weapons on a planned manifest whose trace must end before it is approved (read only while it is planned)."""

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


class DestructionReads:
    """What the destruction service reads: events, their views, lines and certificates, and the scope each step checks."""

    def __init__(
        self, ledger: Ledger, items: ItemService, photo_dir: Path, zone: dt.tzinfo = dt.UTC, trace_rule: TraceRule | None = None
    ) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.items = items
        self.photo_dir = photo_dir
        self.zone = zone
        """The deployment's time zone: times in refusals and on pages are read in it."""
        self.trace_rule = trace_rule or load_trace_rule(None)
        """Which weapons are traced before approval (default: the shipped rule)."""

    def local(self, moment: dt.datetime) -> str:
        """A time as people read it: local, to the minute, with the zone named."""
        return local_time(moment, self.zone)

    # -- reading ---------------------------------------------------------------------

    def next_steps(
        self, actor: Actor, view: EventView, current_sha256: str | None, attested: Attestation | None = None
    ) -> builtins.list[Step]:
        """Every step of the event for ``actor`` now: allowed, or refused with the reason (what the service would raise).

        ``current_sha256``: the hash the witnesses attest to now (:meth:`current_sha256` of the event's stage), None
        outside the site work and its result; ``attested``: the attestation the actor gave to it, if any.
        Checks of what a step is given (codes, times, hashes) come when it is taken.
        """
        event = view.event
        stage = Stage.AFTER if event.status == EventStatus.COMPLETED else Stage.BEFORE
        now, current = self.ledger.clock(), current_sha256 or ""
        return [
            rules.manifest(actor, event),
            rules.approve(actor, view),
            rules.at_site("verify", actor, event, SITE_STAFF),
            rules.at_site("withdraw", actor, event, MANAGERS),
            rules.attest(actor, view, stage, attested, self.local),
            rules.at_site("photos", actor, event, SITE_STAFF, also=(EventStatus.COMPLETED,)),
            rules.complete(actor, view, current),
            rules.residue(actor, view, now, self.local),
            rules.certify(actor, view, current, now, self.local),
        ]

    async def get(self, actor: Actor, event_id: UUID, *, untraced: bool = True) -> EventView:
        """An event with its counts, observers, attestations and photos, and (``untraced``) the weapons its approval waits for."""
        async with self.db.read() as session:
            view = await event_view(session, event_id, self.trace_rule if untraced else None)
            await self._require_site_scope(session, actor, view.event)
            return view

    async def by_code(self, actor: Actor, code: str) -> EventView:
        """An event by its label code."""
        async with self.db.read() as session:
            event_id = await session.scalar(select(DestructionEvent.id).where(DestructionEvent.code == code))
        if event_id is None:
            raise NotFound(f"no destruction event has label code {code}")
        return await self.get(actor, event_id)

    async def list(self, actor: Actor, *, status: EventStatus | None = None, limit: int = 200) -> builtins.list[DestructionEvent]:
        """Events the actor may see, newest first."""
        query = select(DestructionEvent).order_by(DestructionEvent.planned_date.desc(), DestructionEvent.id.desc()).limit(limit)
        if status is not None:
            query = query.where(DestructionEvent.status == status.value)
        if not actor.sees_all_depots:
            depots = list(actor.depot_ids)
            query = query.where(DestructionEvent.depot_id.in_(depots) | DestructionEvent.site_depot_id.in_(depots))
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def waiting_for(self, actor: Actor) -> builtins.list[DestructionEvent]:
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
    ) -> builtins.list[ManifestLine]:
        """Manifest lines by label code (keyset: ``after`` the last code of the previous page)."""
        await self.get(actor, event_id, untraced=False)
        query = select(ManifestLine).where(ManifestLine.event_id == event_id, ManifestLine.code > after)
        if status is not None:
            query = query.where(ManifestLine.status == status.value)
        async with self.db.read() as session:
            return list(await session.scalars(query.order_by(ManifestLine.code).limit(limit)))

    async def certificate(self, actor: Actor, event_id: UUID) -> bytes:
        """The certificate's statement as canonical JSON (once issued)."""
        view = await self.get(actor, event_id, untraced=False)
        if view.event.status != EventStatus.CERTIFIED.value:
            raise Conflict(f"destruction {view.event.code} has no certificate yet: it is {EventStatus(view.event.status).label.lower()}")
        async with self.db.read() as session:
            return certificate_bytes(await statement(session, event_id))

    async def current_sha256(self, actor: Actor, event_id: UUID, stage: Stage) -> str:
        """The hash a witness attests to now: the open manifest before, the destroyed records after."""
        await self.get(actor, event_id, untraced=False)
        async with self.db.read() as session:
            return manifest_sha256(await codes_in(session, event_id, OPEN if stage is Stage.BEFORE else DONE))

    # -- scope -----------------------------------------------------------------------

    async def _event_for_staff(self, session: AsyncSession, actor: Actor, event_id: UUID) -> DestructionEvent:
        event = await find_event(session, event_id)
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
        event = await find_event(session, event_id)
        await self._require_site_scope(session, actor, event)
        rules.at_site(step, actor, event, roles, also).require()
        return event


async def find_event(session: AsyncSession, event_id: UUID) -> DestructionEvent:
    """The destruction event ``event_id`` (NotFound: no such event)."""
    event = await session.get(DestructionEvent, event_id)
    if event is None:
        raise NotFound(f"no destruction event {event_id}")
    return event


async def event_view(session: AsyncSession, event_id: UUID, trace_rule: TraceRule | None = None) -> EventView:
    """The event ``event_id`` with its line counts, observers, attestations, photos and parties, and with ``trace_rule``
    the weapons of its planned manifest that rule holds its approval back for."""
    event = await find_event(session, event_id)
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
    untraced = NONE
    if trace_rule is not None and event.status == EventStatus.PLANNED:
        listed = select(ManifestLine.code).where(ManifestLine.event_id == event_id, ManifestLine.status.in_(OPEN))
        untraced = await untraced_weapons(session, listed, trace_rule.sources)
    return EventView(event, counts, observers, attestations, photos, parties, untraced)


async def line_statuses(session: AsyncSession, event_id: UUID, codes: Sequence[str]) -> dict[str, str]:
    """``code -> line status`` for those of ``codes`` on the event's manifest."""
    found: dict[str, str] = {}
    wanted = list(dict.fromkeys(codes))
    for start in range(0, len(wanted), CHUNK):
        query = select(ManifestLine.code, ManifestLine.status).where(
            ManifestLine.event_id == event_id, ManifestLine.code.in_(wanted[start : start + CHUNK])
        )
        found.update((code, status) for code, status in (await session.execute(query)).all())
    return found


async def codes_in(session: AsyncSession, event_id: UUID, statuses: Sequence[str]) -> list[str]:
    """The codes of the event's manifest lines in ``statuses``, sorted."""
    query = select(ManifestLine.code).where(ManifestLine.event_id == event_id, ManifestLine.status.in_(statuses))
    return list(await session.scalars(query.order_by(ManifestLine.code)))


async def on_open_manifests(session: AsyncSession, codes: Sequence[str]) -> dict[str, DestructionEvent]:
    """``code -> destruction`` for those of ``codes`` still on the manifest of a destruction not yet completed.

    Such a record is the destruction's to account for: it leaves its depot only for the destruction's site.
    """
    found: dict[str, DestructionEvent] = {}
    wanted = list(dict.fromkeys(codes))
    finished = (EventStatus.COMPLETED.value, EventStatus.CERTIFIED.value)
    for start in range(0, len(wanted), CHUNK):
        query = (
            select(ManifestLine.code, DestructionEvent)
            .join(DestructionEvent, DestructionEvent.id == ManifestLine.event_id)
            .where(ManifestLine.code.in_(wanted[start : start + CHUNK]), ManifestLine.status.in_(OPEN))
            .where(DestructionEvent.status.not_in(finished))
        )
        found.update((code, event) for code, event in (await session.execute(query)).all())
    return found
