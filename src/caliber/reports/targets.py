"""Targets per jurisdiction, KPI and year, and progress against them: done, remaining, the rate needed, on track or behind.

Two kinds (the KPI file says which a KPI takes):

- annual: a number for a calendar year ("destroy 5,000 weapons in 2026").
  Progress is the KPI's value from 1 January to now; it is on track while it
  is at least the target's share of the year gone.
- clear: the surplus declared before a baseline day is gone by the end of a
  year ("destroy all surplus declared before 2025 by the end of 2030").
  Done is the baseline stock less what remains; it is on track while the
  monthly pace since the baseline is at least the pace still needed.

Targets are custody state: each setting is a ``report.target_set`` event, and
every earlier setting stays as the target's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import new_id
from caliber.errors import InvalidInput
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger
from caliber.reports.events import ReportTargetSet
from caliber.reports.kpis import Kpi, Roadmap
from caliber.reports.models import ReportTarget
from caliber.reports.periods import Period, local_midnight, parse_period
from caliber.reports.schemas import TargetInput
from caliber.reports.service import JURISDICTIONS, Figures, ReportService

__all__ = ["Progress", "TargetService", "appliers", "needed_per_month"]

appliers = Appliers("targets", tables=["report_target"])
"""The settings of Roadmap targets, and what applies them."""

MONTH_DAYS = 365.2425 / 12


@dataclass(frozen=True)
class Progress:
    """Where one target stands at a moment."""

    target: ReportTarget
    kpi: Kpi
    amount: float
    """The number to reach: the annual target, or the baseline stock of a clearance."""
    done: float
    remaining: float
    needed_per_month: float | None
    """What must be done each month from now to meet it (None once its time is over or it is met)."""
    pace_per_month: float | None
    """What has been done each month so far (None before it started)."""
    state: str
    """``met``, ``on track``, ``behind``, ``missed`` or ``not started``."""
    start: dt.datetime
    end: dt.datetime
    time_gone: float
    """The share of the target's time gone (0 to 1): where a steady pace would have the bar."""

    @property
    def share(self) -> float:
        """Done as a share of the amount (0 to 1)."""
        return min(self.done / self.amount, 1.0) if self.amount else 1.0


class TargetService:
    """Setting targets (admins) and reading progress against them."""

    def __init__(self, ledger: Ledger, reports: ReportService, roadmap: Roadmap, zone: Any) -> None:
        self.ledger = ledger
        self.reports = reports
        self.roadmap = roadmap
        self.zone = zone

    async def set(self, actor: Actor, wanted: TargetInput) -> ReportTarget:
        """Set (or withdraw) a target; admins only. Every setting is a ``report.target_set`` event."""
        actor.require_role(Role.ADMIN)
        kpi = self._check(wanted)
        event = ReportTargetSet(
            id=new_id(),
            jurisdiction=wanted.jurisdiction,
            kpi=kpi.key,
            year=wanted.year,
            amount=str(Decimal(wanted.amount.strip())) if wanted.amount and kpi.target == "annual" else "",
            declared_before=wanted.declared_before if wanted.declared_before and kpi.target == "clear" else None,
            withdrawn=wanted.withdrawn,
            reason=wanted.reason.strip(),
        )
        async with self.ledger.write(actor) as tx:
            await tx.record(event, [f"target:{wanted.jurisdiction}:{kpi.key}:{wanted.year}"])
            target = await tx.session.get(ReportTarget, event.id)
            assert target is not None
            return target

    def _check(self, wanted: TargetInput) -> Kpi:
        kpi = self.roadmap.kpi(wanted.kpi)
        if kpi is None or kpi.target == "none":
            settable = ", ".join(k.key for k in self.roadmap.kpis if k.target != "none")
            raise InvalidInput(f"KPI {wanted.kpi!r} takes no target; these do: {settable}", field="kpi")
        if wanted.jurisdiction not in JURISDICTIONS:
            raise InvalidInput(f"jurisdiction must be one of {', '.join(JURISDICTIONS)}", field="jurisdiction")
        if wanted.withdrawn:
            return kpi
        if kpi.target == "annual" and (wanted.amount is None or Decimal(wanted.amount.strip()) <= 0):
            raise InvalidInput(f"KPI {kpi.key} takes a number per year: give amount (in {kpi.unit}), more than 0", field="amount")
        if kpi.target == "clear":
            if wanted.declared_before is None:
                raise InvalidInput(f"KPI {kpi.key} clears the surplus declared before a day: give declared_before", field="declared_before")
            if wanted.declared_before > dt.date(wanted.year, 12, 31):
                raise InvalidInput("declared_before must fall before the end of the target's year", field="declared_before")
        return kpi

    async def history(self, jurisdictions: Iterable[str] = JURISDICTIONS) -> list[ReportTarget]:
        """Every setting of every target of ``jurisdictions``, newest first."""
        async with self.ledger.db.read() as session:
            return await _settings(session, jurisdictions)

    async def current(self, jurisdictions: Iterable[str] = JURISDICTIONS) -> list[ReportTarget]:
        """The targets in force (the latest setting of each, unless withdrawn), by jurisdiction, KPI and year."""
        async with self.ledger.db.read() as session:
            settings = await _settings(session, jurisdictions)
        latest: dict[tuple[str, str, int], ReportTarget] = {}
        for target in settings:
            latest.setdefault((target.jurisdiction, target.kpi, target.year), target)
        order = {key: n for n, key in enumerate(JURISDICTIONS)}
        kpis = {kpi.key: n for n, kpi in enumerate(self.roadmap.kpis)}
        found = [t for t in latest.values() if not t.withdrawn and t.kpi in kpis]
        return sorted(found, key=lambda t: (order[t.jurisdiction], kpis[t.kpi], t.year))

    async def progress(
        self,
        actor: Actor,
        now: dt.datetime,
        jurisdictions: Iterable[str] = JURISDICTIONS,
        *,
        known: dict[int, dict[str, Figures]] | None = None,
    ) -> list[Progress]:
        """Progress of every target in force at ``now``; depot staff see their depots' share.

        ``known`` are the figures of whole calendar years the caller has already
        computed for ``actor``: an annual target adds up measures that are the
        same whether its year is counted to its end or to ``now``.
        """
        targets = [t for t in await self.current(jurisdictions) if actor.reads_jurisdiction(t.jurisdiction)]
        out: list[Progress] = []
        years: dict[int, dict[str, Any]] = dict(known or {})
        parts: dict[int, set[str]] = {}  # the parts of each year's figures the annual targets read
        for target in targets:
            kpi = self.roadmap.kpi(target.kpi)
            if kpi is not None and kpi.target == "annual":
                parts.setdefault(target.year, set()).add(kpi.part)
        for target in targets:
            kpi = self.roadmap.kpi(target.kpi)
            assert kpi is not None
            year = parse_period(str(target.year), self.zone)
            if kpi.target == "annual":
                if target.year not in years:
                    span = Period(year.key, year.start, max(year.start, min(now, year.end)), year.zone)
                    years[target.year] = await self.reports.figures(actor, span, parts=parts[target.year])
                done = kpi.value(years[target.year][target.jurisdiction])
                out.append(_annual(target, kpi, done, year, now))
            else:
                assert target.declared_before is not None
                baseline = local_midnight(target.declared_before, self.zone)
                found = await self.reports.clearance(actor, baseline, min(now, year.end), [target.jurisdiction])
                out.append(_clearance(target, kpi, found[target.jurisdiction], baseline=baseline, deadline=year.end, now=now))
        return out


def _months(start: dt.datetime, end: dt.datetime) -> float:
    return max((end - start).total_seconds(), 0) / 86400 / MONTH_DAYS


def needed_per_month(remaining: float, now: dt.datetime, deadline: dt.datetime) -> float:
    """What must be done each month from ``now`` to finish ``remaining`` by ``deadline`` (0 when nothing remains).

    With less than a month left, the whole remainder is needed in it: the rate is never more than what remains.
    """
    return remaining / max(_months(now, deadline), 1.0) if remaining else 0.0


def _annual(target: ReportTarget, kpi: Kpi, done: float, year: Period, now: dt.datetime) -> Progress:
    amount = float(Decimal(target.amount))
    remaining = max(amount - done, 0.0)
    gone = _months(year.start, min(now, year.end))
    if done >= amount:
        state = "met"
    elif now >= year.end:
        state = "missed"
    elif now < year.start:
        state = "not started"
    else:
        state = "on track" if done >= amount * gone / _months(year.start, year.end) else "behind"
    needed = needed_per_month(remaining, now, year.end) if now < year.end and remaining else None
    share = gone / _months(year.start, year.end)
    return Progress(target, kpi, amount, done, remaining, needed, done / gone if gone else None, state, year.start, year.end, share)


def _clearance(
    target: ReportTarget, kpi: Kpi, counts: tuple[int, int], *, baseline: dt.datetime, deadline: dt.datetime, now: dt.datetime
) -> Progress:
    at_baseline, remaining = counts
    done = float(at_baseline - remaining)
    gone = _months(baseline, min(now, deadline))
    pace = done / gone if gone else None
    needed = needed_per_month(remaining, now, deadline) if now < deadline and remaining else None
    if now < baseline:
        state = "not started"
    elif remaining == 0:
        state = "met"
    elif now >= deadline:
        state = "missed"
    else:
        state = "on track" if pace is not None and needed is not None and pace >= needed else "behind"
    share = gone / _months(baseline, deadline) if deadline > baseline else 1.0
    return Progress(target, kpi, float(at_baseline), done, float(remaining), needed, pace, state, baseline, deadline, share)


async def _settings(session: AsyncSession, jurisdictions: Iterable[str]) -> list[ReportTarget]:
    query = select(ReportTarget).where(ReportTarget.jurisdiction.in_(list(jurisdictions))).order_by(ReportTarget.id.desc())
    return list(await session.scalars(query))


@appliers.on(ReportTargetSet)
async def _target_set(session: AsyncSession, event: Recorded[ReportTargetSet]) -> None:
    data = event.data
    session.add(
        ReportTarget(
            id=data.id,
            jurisdiction=data.jurisdiction,
            kpi=data.kpi,
            year=data.year,
            amount=data.amount,
            declared_before=data.declared_before,
            withdrawn=data.withdrawn,
            reason=data.reason,
            set_by=event.actor["name"],
            set_at=event.moment,
        )
    )
    await session.flush()
