"""The reports' JSON API: figures, the records behind a figure, KPIs and targets."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.accounts.models import Role
from caliber.config import Settings
from caliber.reports.periods import parse_period
from caliber.reports.schemas import TargetInput
from caliber.reports.service import JURISDICTIONS, REQUEST_DRILLS, ReportService
from caliber.reports.targets import Progress, TargetService

__all__ = ["ReportApi"]


def _progress_json(found: Progress) -> dict[str, Any]:
    target = found.target
    return {
        "jurisdiction": target.jurisdiction,
        "kpi": target.kpi,
        "name": found.kpi.name,
        "unit": found.kpi.unit,
        "kind": found.kpi.target,
        "year": target.year,
        "declared_before": target.declared_before,
        "amount": found.amount,
        "done": found.done,
        "remaining": found.remaining,
        "needed_per_month": found.needed_per_month,
        "pace_per_month": found.pace_per_month,
        "state": found.state,
        "start": found.start,
        "end": found.end,
        "reason": target.reason,
        "set_by": target.set_by,
        "set_at": target.set_at,
    }


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "code": record.code,
        "kind": record.kind,
        "category": record.category,
        "intake_source": record.intake_source,
        "depot_id": record.depot_id,
        "jurisdiction": record.jurisdiction,
        "registered_at": record.registered_at,
        "declared_at": record.declared_at,
        "left_surplus_at": record.left_surplus_at,
        "destroyed_at": record.destroyed_at,
        "methods": [m for m in record.methods.split(",") if m],
        "pieces": record.pieces,
    }


def _request_json(request: Any) -> dict[str, Any]:
    return {
        "id": request.id,
        "direction": request.direction,
        "code": request.code or None,
        "depot_id": request.depot_id,
        "jurisdiction": request.jurisdiction,
        "opened_on": request.opened_on,
        "due": request.due,
        "answered_on": request.answered_on,
        "answered_at": request.answered_at,
    }


class ReportApi(Controller):
    """Figures as JSON, for the ministry's own tools."""

    path = "/api/reports"
    tags = ["reports"]

    @get("/figures")
    async def figures(
        self,
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        reports: NamedDependency[ReportService],
        period: FromQuery[str],
        jurisdiction: FromQuery[list[str] | None] = None,
    ) -> dict[str, Any]:
        """Every measure of ``period`` (``2026``, ``2026-H1``, ``2026-H2``) by jurisdiction; depot staff see their depots only."""
        span = parse_period(period, settings.zone)
        found = await reports.figures(actor, span, jurisdiction or JURISDICTIONS)
        return {
            "period": {"key": span.key, "label": span.label, "start": span.start, "end": span.end, "time_zone": settings.time_zone},
            "jurisdictions": {code: dataclasses.asdict(figures) for code, figures in found.items()},
        }

    @get("/records")
    async def records(
        self,
        *,
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        reports: NamedDependency[ReportService],
        period: FromQuery[str],
        jurisdiction: FromQuery[str],
        measure: FromQuery[str],
        detail: FromQuery[str | None] = None,
        after: FromQuery[str] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> dict[str, Any]:
        """The records behind one figure (``measure`` of ``jurisdiction`` in ``period``), by label code; page on with ``after``.
        The trace requests behind a figure of requests (``requests_sent``, ``incoming_overdue``, ...) come as ``requests``,
        by id."""
        span = parse_period(period, settings.zone)
        if measure in REQUEST_DRILLS:
            requests = await reports.requests(actor, span, jurisdiction, measure, after=after, limit=limit)
            return {
                "requests": [_request_json(request) for request in requests],
                "next_after": str(requests[-1].id) if len(requests) == limit else None,
            }
        found = await reports.records(actor, span, jurisdiction, measure, detail, after=after, limit=limit)
        return {
            "records": [_record_json(record) for record in found],
            "next_after": found[-1].code if len(found) == limit else None,
        }

    @get("/kpis")
    async def kpis(self, targets: NamedDependency[TargetService]) -> dict[str, Any]:
        """The Roadmap goals and the KPIs Caliber measures, from the deployment's KPI file."""
        roadmap = targets.roadmap
        return {
            "goals": [dataclasses.asdict(goal) for goal in roadmap.goals],
            "kpis": [{**dataclasses.asdict(kpi), "unit": kpi.unit} for kpi in roadmap.kpis],
        }

    @get("/targets")
    async def targets(self, actor: NamedDependency[Actor], targets: NamedDependency[TargetService]) -> list[dict[str, Any]]:
        """Progress of every target in force: done, remaining, the monthly rate needed, on track or behind."""
        return [_progress_json(found) for found in await targets.progress(actor, targets.ledger.clock())]

    @post("/targets", guards=[requires(Role.ADMIN)], status_code=201)
    async def set_target(
        self, actor: NamedDependency[Actor], targets: NamedDependency[TargetService], data: JSONBody[TargetInput]
    ) -> dict[str, Any]:
        """Set, replace or withdraw a target (admins)."""
        target = await targets.set(actor, data)
        return {"id": target.id, "jurisdiction": target.jurisdiction, "kpi": target.kpi, "year": target.year, "withdrawn": target.withdrawn}
