"""The reports' projection of the ledger: each event that matters to a Roadmap measure updates ``report_record``.

Registered as projections (they run after the domain's own applier, in the
same transaction, and again on replay), so the figures are always those of
the ledger:

- ``item.registered`` / ``lot.registered``: a new row (jurisdiction from the depot)
- ``lot.split``: the new lot (same facts), pieces and masses moved from the parent
- ``item.status_changed`` / ``lot.status_changed``: first declaration of
  surplus; leaving the surplus other than by destruction; evidence holds
- ``transfer.received``: the depot (and jurisdiction) of what arrived
- ``destruction.destroyed``: when, and by which methods

The tracing events have their projection in :mod:`caliber.reports.traces`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import insert_many, table_of
from caliber.depots.service import DepotService
from caliber.destruction.events import DestructionDestroyed
from caliber.items.events import ItemRegistered, ItemStatusChanged, LotRegistered, LotSplit, LotStatusChanged, StatusChanged
from caliber.items.lifecycle import Action, Status
from caliber.items.records import grams
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger, read_entries
from caliber.reports.models import ReportDay, ReportHold, ReportMonth, ReportRecord, ReportRequest
from caliber.reports.summary import count, counted, rows_of
from caliber.transfers.events import TransferReceived

__all__ = ["LEAVES_SURPLUS", "appliers", "rebuild"]

LEAVES_SURPLUS = frozenset({Action.RETAIN, Action.RETURN_TO_OWNER, Action.TRANSFER_OUT, Action.DEACTIVATE, Action.VOID})
"""Actions that take a declared record out of the surplus stock other than destruction."""
CHUNK = 500
REBUILD_BATCH = 5000

appliers = Appliers("reports", tables=["report_record", "report_hold", "report_day", "report_month"])


async def _jurisdictions(session: AsyncSession, depot_ids: set[UUID]) -> dict[UUID, str]:
    return await DepotService.jurisdictions_of(session, depot_ids)


Registered = ItemRegistered | LotRegistered


async def _registered(session: AsyncSession, events: list[Recorded[Any]], kind_of: Callable[[Any], tuple[str, str, int, int, int]]) -> None:
    where = await _jurisdictions(session, {e.data.depot_id for e in events})
    rows: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    for event in events:
        data: Registered = event.data
        moment = event.moment
        depot_id = data.depot_id
        kind, category, pieces, net, gross = kind_of(data)
        rows.append(
            {
                "code": data.code,
                "kind": kind,
                "category": category,
                "intake_source": data.intake_source.value,
                "depot_id": depot_id,
                "jurisdiction": where[depot_id],
                "registered_at": moment,
                "pieces": pieces,
                "net_g": net,
                "gross_g": gross,
            }
        )
        if data.status is Status.EVIDENCE_HOLD:
            holds.append({"code": data.code, "held_at": moment})
    await insert_many(session, ReportRecord.__table__, rows)
    await insert_many(session, ReportHold.__table__, holds)
    held: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {hold["code"]: [(hold["held_at"], None)] for hold in holds}
    await count(session, [], [_row(row, held.get(row["code"], [])) for row in rows])


def _item_facts(data: ItemRegistered) -> tuple[str, str, int, int, int]:
    category = data.component_type.value if data.component_type is not None else data.un_type.value
    return data.kind.value, category, 1, 0, 0


def _lot_facts(data: LotRegistered) -> tuple[str, str, int, int, int]:
    return "lot", "ammunition", data.quantity, grams(data.net_explosive_mass_kg), grams(data.gross_mass_kg)


@appliers.projection(ItemRegistered, batch=True)
async def _items_registered(session: AsyncSession, events: list[Recorded[ItemRegistered]]) -> None:
    await _registered(session, list(events), _item_facts)


@appliers.projection(LotRegistered, batch=True)
async def _lots_registered(session: AsyncSession, events: list[Recorded[LotRegistered]]) -> None:
    await _registered(session, list(events), _lot_facts)


@appliers.projection(LotSplit)
async def _lot_split(session: AsyncSession, event: Recorded[LotSplit]) -> None:
    async with counted(session, [event.data.code, event.data.new_code]):
        await _split(session, event.data)


async def _split(session: AsyncSession, data: LotSplit) -> None:
    parent = await session.get(ReportRecord, data.code)
    if parent is None:  # pragma: no cover (every lot was registered first)
        raise LookupError(f"lot {data.code} is not in the report projection")
    net, gross = grams(data.net_explosive_mass_kg), grams(data.gross_mass_kg)
    parent.pieces -= data.quantity
    parent.net_g -= net
    parent.gross_g -= gross
    copied = {c.key: getattr(parent, c.key) for c in ReportRecord.__table__.columns}
    session.add(ReportRecord(**{**copied, "code": data.new_code, "pieces": data.quantity, "net_g": net, "gross_g": gross}))
    held = await session.scalar(select(ReportHold).where(ReportHold.code == data.code, ReportHold.released_at.is_(None)))
    if held is not None:
        session.add(ReportHold(code=data.new_code, held_at=held.held_at))
    await session.flush()


async def _statuses(session: AsyncSession, events: list[Recorded[Any]]) -> None:
    async with counted(session, sorted({event.data.code for event in events})):
        await _changes(session, events)


async def _changes(session: AsyncSession, events: list[Recorded[Any]]) -> None:
    for event in events:
        data: StatusChanged = event.data
        moment = event.moment
        action = data.action
        code = data.code
        if action is Action.DECLARE_SURPLUS:
            await session.execute(
                update(ReportRecord).where(ReportRecord.code == code, ReportRecord.declared_at.is_(None)).values(declared_at=moment)
            )
        elif action in LEAVES_SURPLUS:
            await session.execute(
                update(ReportRecord)
                .where(ReportRecord.code == code, ReportRecord.declared_at.is_not(None), ReportRecord.left_surplus_at.is_(None))
                .values(left_surplus_at=moment)
            )
            await session.execute(
                update(ReportRecord)
                .where(ReportRecord.code == code, ReportRecord.declared_at.is_not(None), ReportRecord.surplus_until.is_(None))
                .values(surplus_until=moment)
            )
        if data.to is Status.EVIDENCE_HOLD:
            session.add(ReportHold(code=code, held_at=moment))
        elif data.from_ is Status.EVIDENCE_HOLD:
            await session.execute(
                update(ReportHold).where(ReportHold.code == code, ReportHold.released_at.is_(None)).values(released_at=moment)
            )
    await session.flush()


@appliers.projection(ItemStatusChanged, batch=True)
async def _item_statuses(session: AsyncSession, events: list[Recorded[ItemStatusChanged]]) -> None:
    await _statuses(session, list(events))


@appliers.projection(LotStatusChanged, batch=True)
async def _lot_statuses(session: AsyncSession, events: list[Recorded[LotStatusChanged]]) -> None:
    await _statuses(session, list(events))


@appliers.projection(TransferReceived)
async def _received(session: AsyncSession, event: Recorded[TransferReceived]) -> None:
    codes = event.data.received
    if not codes:
        return
    to_depot = await DepotService.transfer_destination(session, event.data.id)
    jurisdiction = (await _jurisdictions(session, {to_depot}))[to_depot]
    async with counted(session, codes):
        for start in range(0, len(codes), CHUNK):
            chunk = codes[start : start + CHUNK]
            await session.execute(
                update(ReportRecord).where(ReportRecord.code.in_(chunk)).values(depot_id=to_depot, jurisdiction=jurisdiction)
            )


@appliers.projection(DestructionDestroyed, batch=True)
async def _destroyed(session: AsyncSession, events: list[Recorded[DestructionDestroyed]]) -> None:
    table = table_of(ReportRecord)
    await session.flush()
    for event in events:
        moment, methods = event.moment, ",".join(method.value for method in event.data.methods)
        before = await rows_of(session, event.data.codes)
        after = [_destroyed_row(row, moment, methods) for row in before]
        if after:
            changed = ("destroyed_at", "methods", "days_from_intake", "days_from_declaration", "surplus_until")
            await session.execute(
                update(table).where(table.c.code == bindparam("b_code")).values({name: bindparam(f"b_{name}") for name in changed}),
                [{"b_code": row["code"], **{f"b_{name}": row[name] for name in changed}} for row in after],
            )
        await count(session, before, after)


def _destroyed_row(row: Mapping[str, Any], moment: dt.datetime, methods: str) -> dict[str, Any]:
    """``row`` destroyed at ``moment``: the days from intake and declaration as Python counts them (for the percentiles),
    and the end of its time in the surplus stock if it was declared and had not left it."""
    declared = row["declared_at"]
    return {
        **row,
        "destroyed_at": moment,
        "methods": methods,
        "days_from_intake": _days(row["registered_at"], moment),
        "days_from_declaration": _days(declared, moment) if declared else None,
        "surplus_until": row["surplus_until"] or (moment if declared else None),
    }


def _days(since: dt.datetime, until: dt.datetime) -> float:
    return (until - since).total_seconds() / 86400


def _row(values: dict[str, Any], holds: list[tuple[dt.datetime, dt.datetime | None]]) -> dict[str, Any]:
    """A new report row with every column (defaults filled) and its ``holds``, as
    :func:`caliber.reports.summary.contributions` reads it."""
    blank = {
        "declared_at": None,
        "surplus_until": None,
        "destroyed_at": None,
        "methods": "",
        "days_from_intake": None,
        "days_from_declaration": None,
        "trace_started_at": None,
        "trace_ended_at": None,
        "trace_end": "",
        "exception_reason": "",
    }
    return {**blank, **values, "holds": holds}


async def rebuild(ledger: Ledger, progress: Callable[[int], None] | None = None) -> int:
    """Empty the report tables and run every projection over the whole ledger again; returns the entries read.

    For a database that held records before the reports existed (``ledger
    check`` then finds the report tables short), and after a change to a
    projection. One transaction: the figures are never half rebuilt.
    """
    size = await ledger.size()
    async with ledger.db.write() as session:
        await session.execute(delete(ReportHold))
        await session.execute(delete(ReportRecord))
        await session.execute(delete(ReportDay))
        await session.execute(delete(ReportMonth))
        await session.execute(delete(ReportRequest))
        for start in range(0, size, REBUILD_BATCH):
            events = [entry.event for entry in await read_entries(session, start, min(start + REBUILD_BATCH, size))]
            for event_type, run in itertools.groupby(events, key=lambda event: event["type"]):
                batch = list(run)
                if (views := ledger.registry.projections_of(event_type)) is not None:
                    await views(session, batch)
            if progress is not None:
                progress(len(events))
    return size
