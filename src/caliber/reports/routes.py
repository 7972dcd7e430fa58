"""Roadmap figures for ministry officials: the JSON API and the dashboard of the six jurisdictions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.accounts.models import Role
from caliber.config import Settings
from caliber.errors import CORRECTABLE, InvalidInput, NotFound
from caliber.inventory.service import InventoryService
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.reports.charts import bar_chart, progress_bar
from caliber.reports.exports import report_csv, report_pdf, table_csv
from caliber.reports.periods import parse_period
from caliber.reports.report import Report, build_report, label
from caliber.reports.schemas import TargetInput
from caliber.reports.service import DRILLS, JURISDICTIONS, ReportService
from caliber.reports.targets import Progress, TargetService
from caliber.schemas import convert
from caliber.web import form_data, page

__all__ = ["ReportApi", "ReportPages"]


def _default_period(today: dt.date) -> str:
    """The last half-year that has ended."""
    return f"{today.year}-H1" if today.month > 6 else f"{today.year - 1}-H2"


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


MEASURE_TITLES = {
    "declared": "Weapons declared surplus",
    "destroyed": "Weapons destroyed",
    "destroyed_by_method": "Weapons destroyed",
    "surplus_start": "Declared surplus weapons in stock at the start",
    "surplus_end": "Declared surplus weapons in stock at the end",
    "taken_in": "Weapons taken in",
    "taken_in_destroyed": "Weapons taken in and destroyed",
    "taken_in_held": "Weapons taken in, on evidence hold at the end",
    "ammunition": "Ammunition lots destroyed",
}


PAGE_RECORDS = 200


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
        limit: FromQuery[int] = 200,
    ) -> dict[str, Any]:
        """The records behind one figure (``measure`` of ``jurisdiction`` in ``period``), by label code; page on with ``after``."""
        span = parse_period(period, settings.zone)
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit is between 1 and 1000", field="limit")
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


class ReportPages(Controller):
    """``/reports``: where each jurisdiction stands."""

    path = "/reports"
    include_in_schema = False

    @get("/")
    async def dashboard(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        reports: NamedDependency[ReportService],
        inventory: NamedDependency[InventoryService],
        period: FromQuery[str | None] = None,
    ) -> Template:
        """The six jurisdictions side by side for a period, with charts and the numbers behind them."""
        today = dt.datetime.now(settings.zone).date()
        span = parse_period(period or _default_period(today), settings.zone)
        found = await reports.figures(actor, span)
        names = {j.code: j for j in await inventory.jurisdictions()}
        rows = [(names[code].name, figures) for code, figures in found.items()]
        destroyed = bar_chart("Weapons destroyed", [(name, [f.destroyed]) for name, f in rows], ["destroyed"])
        surplus = bar_chart(
            "Declared surplus weapons in stock",
            [(name, [f.surplus_start, f.surplus_end]) for name, f in rows],
            ["at the start", "at the end"],
        )
        choices = [f"{year}{half}" for year in range(today.year, today.year - 4, -1) for half in ("-H2", "-H1", "")]
        return page(
            request,
            "reports/dashboard.html",
            period=span,
            choices=choices,
            rows=rows,
            codes=list(found),
            names=names,
            charts=[destroyed, surplus],
            depot_scoped=not actor.sees_all_depots,
        )

    @get("/records")
    async def records_page(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        reports: NamedDependency[ReportService],
        inventory: NamedDependency[InventoryService],
        period: FromQuery[str],
        jurisdiction: FromQuery[str],
        measure: FromQuery[str],
        detail: FromQuery[str | None] = None,
        after: FromQuery[str] = "",
    ) -> Template:
        """The records behind one number of a report, each linking to its custody timeline."""
        span = parse_period(period, settings.zone)
        found = await reports.records(actor, span, jurisdiction, measure, detail, after=after, limit=PAGE_RECORDS)
        names = {j.code: j.name for j in await inventory.jurisdictions()}
        depots = {d.id: d.code for d in await inventory.depots(actor)}
        query = {"period": span.key, "jurisdiction": jurisdiction, "measure": measure, **({"detail": detail} if detail else {})}
        return page(
            request,
            "reports/records.html",
            title=MEASURE_TITLES.get(measure, measure) + (f" · {label(detail)}" if detail else ""),
            where=names.get(jurisdiction, jurisdiction),
            period=span,
            records=found,
            depots=depots,
            query=query,
            next_after=found[-1].code if len(found) == PAGE_RECORDS else None,
            measures=DRILLS,
        )

    @get("/targets")
    async def targets_page(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        targets: NamedDependency[TargetService],
        inventory: NamedDependency[InventoryService],
        done: FromQuery[str | None] = None,
    ) -> Template:
        """Progress against every target, the KPIs in force, and (for admins) the form that sets targets."""
        return await _targets_page(request, actor, targets=targets, inventory=inventory, notice="Target saved." if done else None)

    @post("/targets", guards=[requires(Role.ADMIN)])
    async def set_target(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        targets: NamedDependency[TargetService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Set a target from the form; the page again with what was wrong."""
        values = await form_data(request)
        wanted = {key: value for key, value in values.items() if value not in ("", None)}
        wanted["withdrawn"] = values.get("withdrawn") == "on"
        try:
            await targets.set(actor, convert(wanted, TargetInput))
        except CORRECTABLE as exc:
            return await _targets_page(
                request, actor, targets=targets, inventory=inventory, error=exc.message, values=values, status_code=exc.status_code
            )
        return Redirect("/reports/targets?done=1")


async def _targets_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    *,
    targets: TargetService,
    inventory: InventoryService,
    status_code: int = 200,
    **context: Any,
) -> Template:
    names = {j.code: j for j in await inventory.jurisdictions()}
    return page(
        request,
        "reports/targets.html",
        status_code=status_code,
        progress=[
            (found, progress_bar(found.share, found.state, found.time_gone))
            for found in await targets.progress(actor, targets.ledger.clock())
        ],
        history=await targets.history(),
        roadmap=targets.roadmap,
        names=names,
        codes=JURISDICTIONS,
        settable=[kpi for kpi in targets.roadmap.kpis if kpi.target != "none"],
        this_year=dt.datetime.now(dt.UTC).year,
        values=context.pop("values", {}),
        **context,
    )


async def _report(
    *,
    actor: NamedDependency[Actor],
    settings: NamedDependency[Settings],
    reports: NamedDependency[ReportService],
    targets: NamedDependency[TargetService],
    inventory: NamedDependency[InventoryService],
    key: FromPath[str],
) -> Report:
    """The report of period ``key`` as the actor may see it (a dependency of the report's routes)."""
    span = parse_period(key, settings.zone)
    snapshot = await reports.snapshot(actor, span)
    jurisdictions = await inventory.jurisdictions()
    names = {j.code: j.name for j in jurisdictions}
    footnotes = [f"{j.name}: {j.footnote}" for j in jurisdictions if j.footnote]
    if not actor.sees_all_depots:
        footnotes.insert(0, "The figures of the depots assigned to the reader only.")
    progress = await targets.progress(actor, targets.ledger.clock())
    return build_report(snapshot, targets.roadmap, progress, names, footnotes)


def _attachment(content: bytes | str, media_type: str, filename: str) -> Response[Any]:
    return Response(content, media_type=media_type, headers={"content-disposition": f'attachment; filename="{filename}"'})


class ReportFiles(Controller):
    """``/reports/{period}``: the half-year or yearly report, as a page, a PDF and CSV files."""

    path = "/reports/{key:str}"
    include_in_schema = False
    dependencies = {"report": Provide(_report)}

    @get("/")
    async def report_page(self, request: Request[Any, Any, Any], report: NamedDependency[Report]) -> Template:
        """The report laid out by goal, then jurisdiction; every number links to its records."""
        return page(request, "reports/report.html", report=report, period=report.snapshot.period)

    @get("/pdf")
    async def report_file(
        self,
        *,
        report: NamedDependency[Report],
        settings: NamedDependency[Settings],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """The report as PDF, with the ledger tree size and root it was computed at and a signed checkpoint covering them."""
        checkpoint = await ledger.checkpoint(signer)
        pdf = await anyio.to_thread.run_sync(report_pdf, report, checkpoint.note, settings.base_url)
        return _attachment(pdf, "application/pdf", f"roadmap-{report.snapshot.period.key}.pdf")

    @get("/csv")
    async def report_rows(self, report: NamedDependency[Report]) -> Response[Any]:
        """Every figure, one per row, with the tree size and root it was computed at."""
        return _attachment(report_csv(report), "text/csv; charset=utf-8", f"roadmap-{report.snapshot.period.key}.csv")

    @get("/csv/{table:str}")
    async def table_file(self, report: NamedDependency[Report], table: FromPath[str]) -> Response[Any]:
        """One table as CSV, laid out like the page."""
        found = report.table(table)
        if found is None:
            raise NotFound(f"the report has no table {table!r}; it has {', '.join(t.key for t in report.tables)}")
        return _attachment(table_csv(found), "text/csv; charset=utf-8", f"roadmap-{report.snapshot.period.key}-{found.key}.csv")
