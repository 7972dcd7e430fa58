"""What applies the stock checks' events to their tables, live and on replay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import insert_many
from caliber.items.lifecycle import Action
from caliber.items.models import AmmunitionLot, Item
from caliber.items.status import apply_transition
from caliber.labels import service as labels
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.stockchecks.events import StockCheckClosed, StockCheckCounted, StockCheckOpened, StockCheckScanned
from caliber.stockchecks.models import StockCheck, StockCheckLine, StockCheckStatus

__all__ = ["appliers"]

appliers = Appliers("stockchecks", tables=["stock_check", "stock_check_line"])
"""The events of stock checks, and what applies them."""


# -- appliers ---------------------------------------------------------------------------------


@appliers.on(StockCheckOpened)
async def _opened(session: AsyncSession, event: Recorded[StockCheckOpened]) -> None:
    data = event.data
    session.add(
        StockCheck(
            id=data.id,
            depot_id=data.depot_id,
            location_id=data.location_id,
            status=StockCheckStatus.OPEN.value,
            opened_by=event.actor["name"],
            opened_at=event.moment,
        )
    )
    await session.flush()
    rows: list[dict[str, Any]] = []
    for model, kind, codes in ((Item, "item", data.items), (AmmunitionLot, "lot", data.lots)):
        quantity: Any = AmmunitionLot.quantity if model is AmmunitionLot else None
        for start in range(0, len(codes), 500):
            found = await session.execute(select(model.code, model.location_id, quantity).where(model.code.in_(codes[start : start + 500])))
            rows += [
                {
                    "check_id": data.id,
                    "code": code,
                    "kind": kind,
                    "expected_location_id": location_id,
                    "expected_quantity": pieces,
                    "expected": True,
                    "found_location_id": None,
                    "counted_quantity": None,
                    "scanned": False,
                }
                for code, location_id, pieces in found.all()
            ]
    await insert_many(session, StockCheckLine.__table__, rows)


@appliers.on(StockCheckScanned, batch=True)
async def _scanned(session: AsyncSession, events: list[Recorded[StockCheckScanned]]) -> None:
    keys = list(dict.fromkeys((e.data.id, e.data.code) for e in events))
    checks = {key[0] for key in keys}
    codes = {key[1] for key in keys}
    query = select(StockCheckLine).where(StockCheckLine.check_id.in_(checks), StockCheckLine.code.in_(codes))
    lines = {(line.check_id, line.code): line for line in await session.scalars(query)}
    unexpected = sorted(codes - {code for _, code in lines})
    kinds = await labels.kinds(session, unexpected)
    for event in events:
        data = event.data
        key = (data.id, data.code)
        line = lines.get(key)
        if line is None:
            line = StockCheckLine(check_id=key[0], code=key[1], kind=kinds.get(key[1], "unknown"), expected=False)
            session.add(line)
            lines[key] = line
        line.scanned = True
        line.found_location_id = data.location_id or line.found_location_id
        if data.quantity is not None:
            line.counted_quantity = data.quantity
    await session.flush()


@appliers.on(StockCheckCounted)
async def _counted(session: AsyncSession, event: Recorded[StockCheckCounted]) -> None:
    check = await session.get(StockCheck, event.data.id)
    if check is None:
        raise LookupError(f"stock check {event.data.id} was never opened")
    check.status = StockCheckStatus.COUNTED.value
    check.counted_by = event.actor["name"]
    await session.flush()


@appliers.on(StockCheckClosed)
async def _closed(session: AsyncSession, event: Recorded[StockCheckClosed]) -> None:
    data = event.data
    check = await session.get(StockCheck, data.id)
    if check is None:
        raise LookupError(f"stock check {data.id} was never opened")
    moment = event.moment
    check.status = StockCheckStatus.CLOSED.value
    check.closed_by = event.actor["name"]
    check.closed_at = moment
    check.found = data.found
    check.missing = len(data.missing) + len(data.gone_since)
    check.wrong_location = len(data.wrong_location)
    check.unknown = len(data.unknown)
    check.lot_differences = len(data.lot_differences)
    for model in (Item, AmmunitionLot):
        for record in await session.scalars(select(model).where(model.code.in_(data.missing))):
            apply_transition(record, Action.REPORT_MISSING, moment)
    await session.flush()
