"""What only ammunition lots do: their registration and their split into two lots."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from caliber.accounts.actor import Actor
from caliber.db import new_id
from caliber.errors import Conflict, InvalidInput
from caliber.items.access import DEPOT_STAFF, LOT_FIELDS, ItemBase, _check_places, _record, _value, check_lot
from caliber.items.events import (
    LotRegistered,
    LotSplit,
)
from caliber.items.lifecycle import IN_STORAGE, Status, intake_status
from caliber.items.models import AmmunitionLot
from caliber.items.queries import _by_codes
from caliber.items.records import kilograms, squeeze
from caliber.items.schemas import NewLot
from caliber.labels import service as labels
from caliber.ledger.store import CustodyTransaction

__all__ = ["LotWork"]


class LotWork(ItemBase):
    """Registering ammunition lots and splitting them."""

    async def register_lot(self, actor: Actor, lot: NewLot) -> AmmunitionLot:
        """Take an ammunition lot into custody with a new label code."""
        return (await self.register_lots(actor, [lot]))[0]

    async def register_lots(self, actor: Actor, lots: Sequence[NewLot]) -> list[AmmunitionLot]:
        """Take ammunition lots into custody, each with a new label code; one transaction for all."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            codes = await self.record_lots(tx, actor, lots)
            return await _by_codes(tx.session, AmmunitionLot, codes)

    async def record_lots(
        self, tx: CustodyTransaction, actor: Actor, lots: Sequence[NewLot], sources: Sequence[tuple[str, int]] | None = None
    ) -> list[str]:
        """Validate and record ``lot.registered`` events inside ``tx`` (imports pass file and row); returns the codes."""
        await _check_places(tx.session, actor, [(lot.depot_id, lot.location_id) for lot in lots])
        for lot in lots:
            check_lot(lot)
        codes = await labels.issue_codes(tx.session, "lot", len(lots))
        imported: list[tuple[str | None, int | None]] = []
        imported.extend((sources or ())[: len(lots)])
        imported += [(None, None)] * (len(lots) - len(imported))  # records typed in, not imported
        events = []
        for code, lot, (sha256, row) in zip(codes, lots, imported, strict=True):
            event = LotRegistered(
                **{name: _value(getattr(lot, name)) for name in LOT_FIELDS},
                id=new_id(),
                code=code,
                depot_id=lot.depot_id,
                location_id=lot.location_id,
                status=intake_status(lot.intake_source),
                source_file=sha256,
                source_row=row,
            )
            events.append((event, [code]))
        await tx.record_many(events)
        return codes

    async def split_lot(self, actor: Actor, code: str, quantity: int, reason: str, location_id: UUID | None = None) -> AmmunitionLot:
        """Take ``quantity`` pieces off a lot as a new lot with the same lot number; masses shared in proportion."""
        actor.require_role(*DEPOT_STAFF)
        async with self.ledger.write(actor) as tx:
            new_code = await self.record_split(tx, actor, code, quantity, reason=reason, location_id=location_id)
            lot: AmmunitionLot = (await _by_codes(tx.session, AmmunitionLot, [new_code]))[0]
            return lot

    async def record_split(
        self, tx: CustodyTransaction, actor: Actor, code: str, quantity: int, *, reason: str, location_id: UUID | None = None
    ) -> str:
        """Record a ``lot.split`` inside ``tx`` (also used by transfers of part of a lot); returns the new lot's code."""
        session = tx.session
        lot = await _record(session, actor, "lot", code)
        if Status(lot.status) not in IN_STORAGE:
            raise Conflict(f"lot {code} is {Status(lot.status).label.lower()}: only a lot in storage can be split")
        if not 0 < quantity < lot.quantity:
            raise InvalidInput(f"a split takes between 1 and {lot.quantity - 1} of the {lot.quantity} pieces", field="quantity")
        if location_id is not None:
            await _check_places(session, actor, [(lot.depot_id, location_id)])
        (new_code,) = await labels.issue_codes(session, "lot", 1)
        event = LotSplit(
            code=code,
            new_code=new_code,
            new_id=new_id(),
            quantity=quantity,
            gross_mass_kg=kilograms(lot.gross_mass_g * quantity // lot.quantity),
            net_explosive_mass_kg=kilograms(lot.net_explosive_mass_g * quantity // lot.quantity),
            location_id=location_id or lot.location_id,
            reason=squeeze(reason),
        )
        await tx.record(event, [code, new_code])
        return new_code
