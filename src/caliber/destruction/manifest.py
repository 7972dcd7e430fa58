"""The plan and the manifest of a destruction: records added (each checked) and removed, the approval, and the site's checks.

At the site each record is verified against the manifest (with the serial as
read), a label not on it is recorded as unexpected, and a manager withdraws
records with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import new_id
from caliber.depots.service import DepotService
from caliber.destruction import rules
from caliber.destruction.events import (
    DestructionApproved,
    DestructionManifestChanged,
    DestructionPlanned,
    DestructionUnexpected,
    DestructionVerified,
    DestructionWithdrawn,
)
from caliber.destruction.models import DestructionEvent, EventStatus, LineStatus, ManifestLine
from caliber.destruction.queries import (
    CHUNK,
    OPEN,
    DestructionReads,
    chunks,
    codes_in,
    event_view,
    find_event,
    line_statuses,
    manifest_sha256,
)
from caliber.destruction.rules import MANAGERS, SITE_STAFF, STAFF, before
from caliber.destruction.schemas import ManifestChange, NewDestruction, Verification, Withdrawal
from caliber.errors import CORRECTABLE, Conflict, InvalidInput
from caliber.items.lifecycle import Action, Status, transition
from caliber.items.queries import records_by_code
from caliber.items.records import serial_key, squeeze
from caliber.labels import service as labels
from caliber.labels.codes import is_valid, kind_of
from caliber.ledger.store import CustodyTransaction
from caliber.transfers.schemas import LotPart
from caliber.transfers.service import CHECK_DIGIT_MISMATCH, manifest_line

__all__ = ["ManifestRefused", "ManifestReport", "ManifestSteps", "Refusal"]

RECORD_KINDS = ("weapon", "component", "lot")
"""The kinds of label whose records a manifest lists (not a shelf's or an event's own)."""


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


class ManifestSteps(DestructionReads):
    """The plan, the manifest and its approval, and the checks at the site against it."""

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
            return await find_event(tx.session, event_id)

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
            lines = await line_statuses(session, event.id, change.remove)
            removed = [code for code in dict.fromkeys(change.remove) if lines.get(code) == LineStatus.LISTED.value]
            if wrong := [code for code in change.remove if code not in removed]:
                raise Conflict(f"{wrong[0]} is not a listed record of this manifest: verified records are withdrawn, with a reason")
            if not added and not removed:
                if refused:
                    return ManifestReport([], [], refused)
                raise InvalidInput("nothing to change: scan or list records to add or remove", field="add")
            kinds = {code: kind for code, (kind, _) in (await records_by_code(session, added)).items()}
            events = []
            for chunk in chunks([*added, *removed]) or [[]]:
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
            rules.approve(actor, await event_view(tx.session, event.id, self.trace_rule)).require()
            codes = await codes_in(tx.session, event.id, OPEN)
            await tx.record(DestructionApproved(id=event.id, manifest_sha256=manifest_sha256(codes), records=len(codes)), [event.code])
            return await find_event(tx.session, event.id)

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
            if event.approved_at is not None and before(now, event.approved_at):
                raise Conflict(
                    f"records cannot be verified at {self.local(now)}, before the manifest was approved at {self.local(event.approved_at)}"
                )
            lines = await line_statuses(session, event.id, codes)
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
                [(DestructionVerified(id=event.id, codes=chunk, serial_read=serial_read), [event.code, *chunk]) for chunk in chunks(fresh)]
            )
            return fresh

    async def unexpected(self, actor: Actor, event_id: UUID, code: str) -> None:
        """Record a label scanned at the site that is not on the manifest (set apart, counted on the page)."""
        actor.require_role(*SITE_STAFF)
        async with self.ledger.write(actor) as tx:
            event = await self._event_at_site(tx.session, actor, event_id, step="verify", roles=SITE_STAFF)
            if (await line_statuses(tx.session, event.id, [code])).get(code) is not None:
                return
            kind = (await labels.kinds(tx.session, [code])).get(code, "unknown")
            await tx.record(DestructionUnexpected(id=event.id, code=code, kind=kind), [event.code, code])

    async def withdraw(self, actor: Actor, event_id: UUID, withdrawal: Withdrawal) -> None:
        """Take records off the manifest at the site (a manager), with a reason; ``missing`` reports them missing."""
        actor.require_role(*MANAGERS)
        codes = list(dict.fromkeys(withdrawal.codes))
        async with self.ledger.write(actor) as tx:
            event = await self._event_at_site(tx.session, actor, event_id, step="withdraw", roles=MANAGERS)
            lines = await line_statuses(tx.session, event.id, codes)
            if off := [c for c in codes if lines.get(c) not in OPEN]:
                raise Conflict(f"{off[0]} is not an open record of this manifest")
            reason = squeeze(withdrawal.reason)
            await tx.record_many(
                [
                    (DestructionWithdrawn(id=event.id, codes=chunk, reason=reason, missing=withdrawal.missing), [event.code, *chunk])
                    for chunk in chunks(codes)
                ]
            )


async def _admissible(session: AsyncSession, actor: Actor, event: DestructionEvent, codes: list[str]) -> tuple[list[str], list[Refusal]]:
    """Which records may join the manifest, and a reason for each that may not."""
    records = await records_by_code(session, codes)
    here = await line_statuses(session, event.id, codes)
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
