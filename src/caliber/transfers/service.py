"""Transfers between depots: a sealed manifest dispatched by one depot and confirmed, scan by scan, by the other.

Events (flat ``data``):

- ``transfer.dispatched``: id, from_depot_id, to_depot_id, items (codes),
  lots (codes), seals, notes. The records go ``in_transit`` (leaving their
  shelves) and remember the status they left.
- ``transfer.received``: id, received, missing, extra (codes), location_id.
  Received records join the receiving depot in the status they left with;
  missing ones become ``missing`` for investigation; extra ones (scanned but
  not on the manifest) are recorded as discrepancies and not moved.

Part of a lot travels as a split: the dispatch records ``lot.split`` first
and puts the new lot on the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.db import insert_many, new_id
from caliber.depots.models import Depot, Location
from caliber.destruction.queries import on_open_manifests
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.items.access import DEPOT_STAFF
from caliber.items.lifecycle import Action, Status, transition
from caliber.items.models import AmmunitionLot, Item
from caliber.items.records import squeeze
from caliber.items.service import ItemService
from caliber.items.status import Arrival, apply_transition
from caliber.labels import service as labels
from caliber.labels.codes import CheckDigitMismatch, CodeError, is_valid, read_code
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger
from caliber.schemas import convert
from caliber.transfers.events import TransferDispatched, TransferReceived
from caliber.transfers.models import Transfer, TransferLine, TransferStatus
from caliber.transfers.schemas import LotPart, NewTransfer

__all__ = ["CHECK_DIGIT_MISMATCH", "TransferService", "TransferView", "appliers", "manifest_line", "manifest_lines", "transfer_subject"]

appliers = Appliers("transfers", tables=["transfer", "transfer_line"])
"""The events of transfers between depots, and what applies them."""


def transfer_subject(transfer_id: UUID) -> str:
    """The ledger subject of a transfer."""
    return f"transfer:{transfer_id}"


CHECK_DIGIT_MISMATCH = "check digit does not match: a digit was mistyped or misread"


def manifest_line(line: str) -> str | LotPart:
    """One line of a manifest as scanned or typed: a label (its code, grouped code or URL), or ``CODE x 400`` for
    400 pieces of a lot; :class:`InvalidInput` saying why a line is neither."""
    head, _, pieces = line.partition(" x ")
    try:
        code = read_code(head)
    except CheckDigitMismatch:
        raise InvalidInput(CHECK_DIGIT_MISMATCH, field="codes") from None
    except CodeError as exc:
        raise InvalidInput(str(exc), field="codes") from None
    if not pieces.strip():
        return code
    try:
        return convert({"code": code, "quantity": pieces.strip()}, LotPart)
    except InvalidInput:
        raise InvalidInput("after ' x ' write the number of pieces (1 or more)", field="codes") from None


@dataclass(frozen=True)
class TransferView:
    """A transfer with its manifest lines and both depots."""

    transfer: Transfer
    lines: list[TransferLine]
    from_depot: Depot
    to_depot: Depot


class TransferService:
    """Dispatching and receiving transfers."""

    def __init__(self, ledger: Ledger, items: ItemService) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.items = items

    async def dispatch(self, actor: Actor, new: NewTransfer) -> TransferView:
        """Seal and send a manifest: every record on it goes in transit, in one transaction."""
        actor.require_role(*DEPOT_STAFF)
        if new.from_depot_id == new.to_depot_id:
            raise InvalidInput("a transfer goes to another depot", field="to_depot_id")
        if not new.codes and not new.lot_parts:
            raise InvalidInput("the manifest is empty: scan or list the records to send", field="codes")
        async with self.ledger.write(actor) as tx:
            session = tx.session
            origin = await _depot(session, new.from_depot_id)
            actor.require_depot(origin.id, origin.code)
            destination = await _depot(session, new.to_depot_id)
            if not origin.active or not destination.active:
                raise Conflict("both depots must be active")
            destroying = await on_open_manifests(session, [*new.codes, *(part.code for part in new.lot_parts)])
            for part in new.lot_parts:
                if destruction := destroying.get(part.code):
                    raise Conflict(f"{part.code} is on the manifest of destruction {destruction.code}: it is sent whole or not at all")
            split_codes = [
                await self.items.record_split(tx, actor, part.code, part.quantity, reason=f"part sent to {destination.code}")
                for part in new.lot_parts
            ]
            codes = list(dict.fromkeys([*new.codes, *split_codes]))
            items, lots = await _records(session, codes)
            records: list[Item | AmmunitionLot] = [*items, *lots]
            for record in records:
                if record.depot_id != origin.id:
                    raise Conflict(f"{record.code} is not in depot {origin.code}")
                if (destruction := destroying.get(record.code)) and destruction.site_depot_id != destination.id:
                    raise Conflict(
                        f"{record.code} is on the manifest of destruction {destruction.code}: it travels only to the destruction's site; "
                        f"take it off the manifest of {destruction.code} first to send it elsewhere"
                    )
                transition(Action.DISPATCH, Status(record.status), None, actor.role, code=record.code)
            transfer_id = new_id()
            event = TransferDispatched(
                id=transfer_id,
                from_depot_id=origin.id,
                to_depot_id=destination.id,
                items=[r.code for r in items],
                lots=[r.code for r in lots],
                seals=[squeeze(s) for s in new.seals],
                notes=new.notes.strip(),
            )
            await tx.record(event, [transfer_subject(transfer_id), *codes])
            return await _view(session, transfer_id)

    async def receive(self, actor: Actor, transfer_id: UUID, scanned: Sequence[str], location_id: UUID | None = None) -> TransferView:
        """Confirm receipt with the codes scanned at the door: the rest of the manifest is missing, the surplus extra."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            view = await _view(session, transfer_id)
            actor.require_depot(view.to_depot.id, view.to_depot.code)
            if view.transfer.status != TransferStatus.IN_TRANSIT:
                raise Conflict(f"this transfer was received already, on {view.transfer.received_at:%Y-%m-%d}")
            if location_id is not None:
                location = await session.get(Location, location_id)
                if location is None or location.depot_id != view.to_depot.id or not location.active:
                    raise InvalidInput(f"location {location_id} is not an active location of {view.to_depot.code}", field="location_id")
            manifest = {line.code for line in view.lines}
            seen = list(dict.fromkeys(scanned))
            if bad := [c for c in seen if not is_valid(c)]:
                raise InvalidInput(f"{bad[0]} is not a label code", field="codes")
            received = TransferReceived(
                id=transfer_id,
                received=[c for c in seen if c in manifest],
                missing=sorted(manifest - set(seen)),
                extra=[c for c in seen if c not in manifest],
                location_id=location_id,
            )
            await tx.record(received, [transfer_subject(transfer_id), *manifest, *received.extra])
            return await _view(session, transfer_id)

    async def get(self, actor: Actor, transfer_id: UUID) -> TransferView:
        """One transfer, for staff of either depot (and every role outside depot scope)."""
        async with self.db.read() as session:
            view = await _view(session, transfer_id)
        if not (actor.can_see_depot(view.from_depot.id) or actor.can_see_depot(view.to_depot.id)):
            actor.require_depot(view.to_depot.id, view.to_depot.code)
        return view

    async def list(self, actor: Actor, *, status: TransferStatus | None = None, limit: int = 100) -> list[Transfer]:
        """Transfers from or to the actor's depots, newest first."""
        query = select(Transfer).order_by(Transfer.id.desc()).limit(limit)
        if not actor.sees_all_depots:
            query = query.where(or_(Transfer.from_depot_id.in_(actor.depot_ids), Transfer.to_depot_id.in_(actor.depot_ids)))
        if status is not None:
            query = query.where(Transfer.status == status.value)
        async with self.db.read() as session:
            return list(await session.scalars(query))


async def _depot(session: AsyncSession, depot_id: UUID) -> Depot:
    depot = await session.get(Depot, depot_id)
    if depot is None:
        raise InvalidInput(f"no depot with id {depot_id}", field="depot_id")
    return depot


async def _records(session: AsyncSession, codes: Sequence[str]) -> tuple[list[Item], list[AmmunitionLot]]:
    items = list(await session.scalars(select(Item).where(Item.code.in_(codes))))
    lots = list(await session.scalars(select(AmmunitionLot).where(AmmunitionLot.code.in_(codes))))
    found = {r.code for r in items} | {r.code for r in lots}
    if missing := [c for c in codes if c not in found]:
        raise NotFound(f"no item or lot with label code {', '.join(missing[:5])}")
    return items, lots


async def _view(session: AsyncSession, transfer_id: UUID) -> TransferView:
    transfer = await session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound(f"no transfer {transfer_id}")
    lines = list(await session.scalars(select(TransferLine).where(TransferLine.transfer_id == transfer_id).order_by(TransferLine.code)))
    return TransferView(transfer, lines, await _depot(session, transfer.from_depot_id), await _depot(session, transfer.to_depot_id))


# -- appliers ---------------------------------------------------------------------------------


async def _by_code(session: AsyncSession, codes: Sequence[str]) -> list[Any]:
    if not codes:
        return []
    return [
        *await session.scalars(select(Item).where(Item.code.in_(codes))),
        *await session.scalars(select(AmmunitionLot).where(AmmunitionLot.code.in_(codes))),
    ]


@appliers.on(TransferDispatched)
async def _dispatched(session: AsyncSession, event: Recorded[TransferDispatched]) -> None:
    data = event.data
    moment = event.moment
    session.add(
        Transfer(
            id=data.id,
            from_depot_id=data.from_depot_id,
            to_depot_id=data.to_depot_id,
            status=TransferStatus.IN_TRANSIT.value,
            seals=", ".join(data.seals),
            notes=data.notes,
            dispatched_by=event.actor["name"],
            dispatched_at=moment,
        )
    )
    await session.flush()
    lines = [{"transfer_id": data.id, "code": c, "kind": "item", "outcome": "in_transit"} for c in data.items]
    lines += [{"transfer_id": data.id, "code": c, "kind": "lot", "outcome": "in_transit"} for c in data.lots]
    await insert_many(session, TransferLine.__table__, lines)
    for record in await _by_code(session, [*data.items, *data.lots]):
        apply_transition(record, Action.DISPATCH, moment)
    await session.flush()


@appliers.on(TransferReceived)
async def _received(session: AsyncSession, event: Recorded[TransferReceived]) -> None:
    data = event.data
    moment = event.moment
    transfer = await session.get(Transfer, data.id)
    if transfer is None:
        raise LookupError(f"transfer {data.id} was never dispatched")
    lines = {line.code: line for line in await session.scalars(select(TransferLine).where(TransferLine.transfer_id == transfer.id))}
    arrival = Arrival(transfer.to_depot_id, data.location_id)
    for record in await _by_code(session, data.received):
        apply_transition(record, Action.RECEIVE, moment, arrival=arrival)
        lines[record.code].outcome = "received"
    for record in await _by_code(session, data.missing):
        apply_transition(record, Action.REPORT_MISSING, moment)  # it keeps the status it left with, to return to when found
        lines[record.code].outcome = "missing"
    kinds = await labels.kinds(session, data.extra)
    for code in data.extra:
        session.add(TransferLine(transfer_id=transfer.id, code=code, kind=kinds.get(code, "unknown"), outcome="extra"))
    transfer.status = TransferStatus.RECEIVED.value
    transfer.received_by = event.actor["name"]
    transfer.received_at = moment
    await session.flush()


def manifest_lines(text: str) -> tuple[list[str], list[LotPart]]:
    """Codes one per line (a scan, a URL or a typed code); ``CODE x 400`` sends 400 pieces of a lot."""
    codes: list[str] = []
    parts: list[LotPart] = []
    for number, line in enumerate(str(text).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            read = manifest_line(line)
        except InvalidInput as exc:
            raise InvalidInput(f"line {number}: {exc.message}", field="codes") from None
        if isinstance(read, LotPart):
            parts.append(read)
        else:
            codes.append(read)
    return codes, parts
