"""The day of a destruction: the witnesses' attestations, photographs, the result, the residue check and the certificate.

The day's times follow one another: the approval, the site verification, the
witnesses' attestations before, the destruction's start and end, the
attestations and residue check after, the certification. Each step refuses a
time before the one it follows (to the minute, as times are typed and printed),
naming both in local time (:func:`before`).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.destruction import rules
from caliber.destruction.certificate import certificate_sha256, statement
from caliber.destruction.events import (
    DestructionAttested,
    DestructionCertified,
    DestructionCompleted,
    DestructionDestroyed,
    DestructionPhotoAdded,
    DestructionResidueChecked,
    DestructionReturned,
)
from caliber.destruction.models import DestructionEvent, DestructionPhoto, EventStatus, LineStatus, ManifestLine, Stage
from caliber.destruction.queries import DONE, OPEN, DestructionReads, chunks, codes_in, event_view, find_event, manifest_sha256
from caliber.destruction.rules import MANAGERS, SITE_STAFF, WITNESSES, before
from caliber.destruction.schemas import AttestationInput, Completion, ResidueCheck
from caliber.errors import Conflict, InvalidInput
from caliber.items.photos import store_photo
from caliber.items.records import squeeze

__all__ = ["DaySteps"]


class DaySteps(DestructionReads):
    """The witnesses' attestations, the photographs, the day's result, the residue check and the certificate."""

    async def attest(self, actor: Actor, event_id: UUID, attestation: AttestationInput) -> None:
        """A witness attests to the verified manifest (before) or to the result (after), naming the hash they were shown."""
        actor.require_role(*WITNESSES)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            view = await event_view(session, event_id)
            event = view.event
            if attestation.stage is Stage.BEFORE:
                current = manifest_sha256(await codes_in(session, event.id, OPEN))
                follows = await _last_verified(session, event.id), "the last verification at the site"
            else:
                current = manifest_sha256(await codes_in(session, event.id, DONE))
                follows = event.ended_at, "the destruction ended"
            given = view.attestation_by(actor.id, attestation.stage, current)
            rules.attest(actor, view, attestation.stage, given, self.local).require()
            assert actor.id is not None  # refused above: witnesses attest under their own account
            if attestation.manifest_sha256 != current:
                raise Conflict("the manifest changed since you read it: review it again and attest to what it is now")
            now, (earlier, what) = tx.clock(), follows
            if earlier is not None and before(now, earlier):
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
            known = await tx.session.get(DestructionPhoto, (event.id, digest))
            if known is not None and known.stage != stage.value:  # one photograph cannot show both before and after
                raise Conflict(f"this photograph was already added as the {known.stage} photo: take one {stage.value} destruction")
            if known is None:
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
            view = await event_view(session, event_id)
            event = view.event
            await self._require_site_scope(session, actor, event)
            verified = await codes_in(session, event.id, (LineStatus.VERIFIED.value,))
            rules.complete(actor, view, manifest_sha256(verified)).require()
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
            await tx.record_many([(DestructionReturned(id=event.id, codes=c, reason=reason), [event.code, *c]) for c in chunks(returned)])
            await tx.record_many(
                [(DestructionDestroyed(id=event.id, codes=c, methods=methods), [event.code, *c]) for c in chunks(destroyed)]
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
            return await find_event(session, event.id)

    async def check_residue(self, actor: Actor, event_id: UUID, check: ResidueCheck) -> None:
        """A witness who did not prepare the manifest inspects the residue: every destroyed record verified after destruction."""
        actor.require_role(*WITNESSES)
        async with self.ledger.write(actor) as tx:
            view = await event_view(tx.session, event_id)
            event = view.event
            rules.residue(actor, view, tx.clock(), self.local).require()
            destroyed = await codes_in(tx.session, event.id, (LineStatus.DESTROYED.value,))
            notes = check.notes.strip()
            await tx.record_many(
                [(DestructionResidueChecked(id=event.id, codes=c, notes=notes), [event.code, *c]) for c in chunks(destroyed) or [[]]]
            )

    async def certify(self, actor: Actor, event_id: UUID) -> str:
        """Issue the certificate (a manager): every destroyed record certified, the certificate's hash on the ledger; returns it."""
        actor.require_role(*MANAGERS)
        async with self.ledger.write(actor) as tx:
            view = await event_view(tx.session, event_id)
            event = view.event
            await self._event_for_staff(tx.session, actor, event.id)
            destroyed = await codes_in(tx.session, event.id, DONE)
            rules.certify(actor, view, manifest_sha256(destroyed), tx.clock(), self.local).require()
            digest = certificate_sha256(await statement(tx.session, event.id))
            certified = [DestructionCertified(id=event.id, codes=c, certificate_sha256=digest) for c in chunks(destroyed) or [[]]]
            await tx.record_many([(one, [event.code, *one.codes]) for one in certified])
            return digest

    def _check_day(self, event: DestructionEvent, completion: Completion, attested: dt.datetime | None) -> None:
        """The destruction starts on or after the legal authority's date and the last attestation before it."""
        start = completion.started_at
        if start.astimezone(self.zone).date() < event.authority_date:
            raise InvalidInput(
                f"the destruction cannot start at {self.local(start)}, before the legal authority of {event.authority_date}",
                field="started_at",
            )
        if attested is not None and before(start, attested):
            raise InvalidInput(
                f"the destruction cannot start at {self.local(start)} before the last before-destruction attestation "
                f"at {self.local(attested)}",
                field="started_at",
            )


def _utc(moment: dt.datetime) -> dt.datetime:
    """An aware time in UTC (logged as ``...Z``)."""
    return moment.astimezone(dt.UTC)


async def _last_verified(session: AsyncSession, event_id: UUID) -> dt.datetime | None:
    """When the last record still on the manifest was verified at the site."""
    query = select(func.max(ManifestLine.verified_at)).where(ManifestLine.event_id == event_id, ManifestLine.status.in_(OPEN))
    return await session.scalar(query)
