"""iARMS hits linked to the weapons they concern: matched by label code, or by serial and maker, in set queries.

Matching reads in batches of :data:`CHUNK` keys (never a query per row); recording writes batches of
:data:`BATCH` hits, each one transaction holding the hits' ``trace.iarms_hit`` events and the ``iarms_query``
steps they record. A hit reference already held is counted, never recorded again, so a file imported twice (or
again after an interruption) adds nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.items.lifecycle import Status
from caliber.items.makers import MakerList, name_key
from caliber.items.models import Item, ItemKind
from caliber.items.records import serial_key
from caliber.ledger.store import Ledger
from caliber.tracing.events import Hit, HitMatch, IarmsHitRecorded, TraceStepRecorded
from caliber.tracing.hits_file import HitRow
from caliber.tracing.lifecycle import TRACERS, TraceState, TraceStep
from caliber.tracing.models import IarmsHit, WeaponTrace

__all__ = ["BATCH", "CHUNK", "Ambiguous", "HitsReport", "Known", "Linked", "Unmatched", "bare_serial", "finding_of", "record_hits"]

CHUNK = 500
BATCH = 1000
T = TypeVar("T")


@dataclass(frozen=True)
class Linked:
    """A hit recorded on a weapon; ``queried`` when it recorded the trace's ``iarms_query`` step too."""

    row: int
    reference: str
    code: str
    matched_by: HitMatch
    queried: bool = False


@dataclass(frozen=True)
class Known:
    """A hit whose reference Caliber holds already (on weapon ``code``): not recorded again."""

    row: int
    reference: str
    code: str


@dataclass(frozen=True)
class Unmatched:
    """A hit linked to no weapon, and why."""

    row: int
    reference: str
    reason: str


@dataclass(frozen=True)
class Ambiguous:
    """A hit that matches more than one weapon (their label codes): not linked, for a person to decide."""

    row: int
    reference: str
    codes: tuple[str, ...]


@dataclass
class HitsReport:
    """What became of each hit of a file."""

    rows: int = 0
    linked: list[Linked] = field(default_factory=list)
    known: list[Known] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)

    @property
    def queried(self) -> int:
        """How many traces had their ``iarms_query`` step recorded."""
        return sum(link.queried for link in self.linked)


def bare_serial(serial: str) -> str:
    """A serial as hits are matched: capitals, no spaces and no dashes (``ab-12 34`` is ``AB1234``)."""
    return serial_key(serial).replace("-", "")


def finding_of(hit: Hit) -> str:
    """The finding of the ``iarms_query`` step a hit records: ``hit: reported stolen by DE on 2019-03-08``."""
    return f"hit: reported {hit.reported_as.value} by {hit.reporting_country} on {hit.reported_on:%Y-%m-%d}"


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def _maker_key(makers: MakerList, name: str) -> str:
    maker = makers.maker(name)
    return name_key(maker.name if maker else name)


async def _fresh(session: AsyncSession, rows: list[T], report: HitsReport, hit_of: Callable[[T], HitRow]) -> list[T]:
    """The rows whose hit reference Caliber does not hold yet; the others are counted in ``report.known``."""
    found: dict[str, str] = {}
    for chunk in _chunks([hit_of(row).hit.reference for row in rows]):
        found |= dict((await session.execute(select(IarmsHit.reference, IarmsHit.code).where(IarmsHit.reference.in_(chunk)))).all())
    fresh = []
    for row in rows:
        given = hit_of(row)
        if (code := found.get(given.hit.reference)) is not None:
            report.known.append(Known(given.row, given.hit.reference, code))
        else:
            fresh.append(row)
    return fresh


class _Matcher:
    """Finds the weapon of each hit among those ``actor`` may see, a few set queries for the whole file."""

    def __init__(self, session: AsyncSession, actor: Actor, makers: MakerList) -> None:
        self.session, self.actor, self.makers = session, actor, makers

    def _mine(self, query: Any) -> Any:
        return query if self.actor.sees_all_depots else query.where(Item.depot_id.in_(list(self.actor.depot_ids)))

    async def by_code(self, hits: list[HitRow], report: HitsReport) -> list[tuple[HitRow, str, HitMatch]]:
        columns = select(Item.code, Item.serial, Item.serial_key, Item.status).where(Item.kind == ItemKind.WEAPON.value)
        found: dict[str, Any] = {}
        for chunk in _chunks(sorted({given.code for given in hits if given.code})):
            found |= {row.code: row for row in await self.session.execute(self._mine(columns.where(Item.code.in_(chunk))))}
        linked = []
        for given in hits:
            record = found.get(given.code or "")
            if record is None:
                report.unmatched.append(Unmatched(given.row, given.hit.reference, f"no weapon with label code {given.code} in your depots"))
            elif record.status == Status.VOID.value:
                report.unmatched.append(Unmatched(given.row, given.hit.reference, f"the record {given.code} was voided as made in error"))
            elif record.serial_key.replace("-", "") != bare_serial(given.hit.serial):
                reason = f"the weapon with label code {given.code} has serial {record.serial}, not {given.hit.serial}"
                report.unmatched.append(Unmatched(given.row, given.hit.reference, reason))
            else:
                linked.append((given, record.code, HitMatch.CODE))
        return linked

    async def by_serial(self, hits: list[HitRow], report: HitsReport) -> list[tuple[HitRow, str, HitMatch]]:
        bare = func.replace(Item.serial_key, "-", "")
        columns = select(bare.label("bare"), Item.code, Item.manufacturer).where(
            Item.kind == ItemKind.WEAPON.value, Item.status != Status.VOID.value
        )
        by_serial: dict[str, list[Any]] = {}
        for chunk in _chunks(sorted({bare_serial(given.hit.serial) for given in hits})):
            for row in await self.session.execute(self._mine(columns.where(bare.in_(chunk))).order_by(Item.code)):
                by_serial.setdefault(row.bare, []).append(row)
        linked = []
        for given in hits:
            maker = _maker_key(self.makers, given.hit.make)
            codes = tuple(
                r.code for r in by_serial.get(bare_serial(given.hit.serial), []) if _maker_key(self.makers, r.manufacturer) == maker
            )
            if not codes:
                reason = f"no weapon of {given.hit.make} with serial {given.hit.serial} in your depots"
                report.unmatched.append(Unmatched(given.row, given.hit.reference, reason))
            elif len(codes) > 1:
                report.ambiguous.append(Ambiguous(given.row, given.hit.reference, codes))
            else:
                linked.append((given, codes[0], HitMatch.SERIAL))
        return linked


async def _record_batch(ledger: Ledger, actor: Actor, batch: list[tuple[HitRow, str, HitMatch]], report: HitsReport) -> None:
    """One transaction: the batch's hits not held yet, and the ``iarms_query`` step of each trace at the domestic check."""
    async with ledger.write(actor) as tx:
        todo = await _fresh(tx.session, batch, report, lambda link: link[0])  # another import may have recorded some meanwhile
        todo = await _still_ours(tx.session, actor, todo, report)
        codes = sorted({code for _hit, code, _how in todo})
        states: dict[str, str] = {}
        for chunk in _chunks(codes):
            states |= dict((await tx.session.execute(select(WeaponTrace.code, WeaponTrace.state).where(WeaponTrace.code.in_(chunk)))).all())
        hits, steps, stepped = [], [], set()
        for given, code, how in todo:
            event = IarmsHitRecorded(code=code, hit=given.hit, matched_by=how)
            hits.append((event, [code]))
            queried = states.get(code) == TraceState.DOMESTIC_CHECK.value and code not in stepped
            if queried:
                stepped.add(code)
                step = TraceStepRecorded(
                    code=code, step=TraceStep.IARMS_QUERY, reference=given.hit.reference, finding=finding_of(given.hit), origin_country=None
                )
                steps.append((step, [code]))
            report.linked.append(Linked(given.row, given.hit.reference, code, how, queried))
        await tx.record_many(hits)
        await tx.record_many(steps)


async def _still_ours(
    session: AsyncSession, actor: Actor, links: list[tuple[HitRow, str, HitMatch]], report: HitsReport
) -> list[tuple[HitRow, str, HitMatch]]:
    """The links whose weapon is, inside the write, still in ``actor``'s depots and not voided: one matched before
    the write may since have been transferred out or voided; its hit is reported unmatched, not recorded."""
    codes = sorted({code for _hit, code, _how in links})
    where: dict[str, tuple[Any, str]] = {}
    for chunk in _chunks(codes):
        rows = await session.execute(select(Item.code, Item.depot_id, Item.status).where(Item.code.in_(chunk)))
        where |= {code: (depot_id, status) for code, depot_id, status in rows.all()}
    kept = []
    for link in links:
        given, code, _how = link
        depot_id, status = where[code]
        if status == Status.VOID.value:
            report.unmatched.append(Unmatched(given.row, given.hit.reference, f"the record {code} was voided during the import"))
        elif not actor.sees_all_depots and depot_id not in actor.depot_ids:
            report.unmatched.append(Unmatched(given.row, given.hit.reference, f"the weapon {code} left your depots during the import"))
        else:
            kept.append(link)
    return kept


async def record_hits(
    ledger: Ledger, makers: MakerList, actor: Actor, hits: list[HitRow], progress: Callable[[int], None] | None = None
) -> HitsReport:
    """Link each checked hit to its weapon in ``actor``'s depots and record it (depot staff and admins)."""
    actor.require_role(*TRACERS)
    report = HitsReport(rows=len(hits))
    async with ledger.db.read() as session:
        fresh = await _fresh(session, hits, report, lambda given: given)
        matcher = _Matcher(session, actor, makers)
        linked = await matcher.by_code([h for h in fresh if h.code], report)
        linked += await matcher.by_serial([h for h in fresh if not h.code], report)
    if progress:
        progress(len(hits) - len(linked))
    linked.sort(key=lambda link: link[0].row)
    for start in range(0, len(linked), BATCH):
        batch = linked[start : start + BATCH]
        await _record_batch(ledger, actor, batch, report)
        if progress:
            progress(len(batch))
        await asyncio.sleep(0)  # let requests waiting on SQLite's inline statements in between batches
    for found in (report.linked, report.known, report.unmatched, report.ambiguous):
        found.sort(key=lambda one: one.row)
    return report
