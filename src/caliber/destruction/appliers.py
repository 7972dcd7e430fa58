"""What applies each destruction event to the tables, live and on replay: the one place each event changes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import insert_many
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
)
from caliber.destruction.queries import chunks, codes_in, line_statuses
from caliber.items.lifecycle import Action
from caliber.items.moves import apply_lifecycle
from caliber.labels import service as labels
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers

__all__ = ["appliers"]

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


async def _applied_event(session: AsyncSession, event: Recorded[Any]) -> DestructionEvent:
    found = await session.get(DestructionEvent, event.data.id)
    if found is None:
        raise LookupError(f"{event.type} names destruction {event.data.id}, which was never planned")
    return found


async def _set_lines(session: AsyncSession, event_id: UUID, codes: Sequence[str], **values: Any) -> None:
    for chunk in chunks(codes):
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
        again = set(await line_statuses(session, target.id, added))
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
    verified = await codes_in(session, target.id, (LineStatus.VERIFIED.value,))
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
        verified = [c for c, status in (await line_statuses(session, target.id, codes)).items() if status == LineStatus.VERIFIED.value]
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
