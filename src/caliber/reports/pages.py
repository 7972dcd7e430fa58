"""Report pages: the dashboard, the half-year and yearly report with its PDF and CSV files, drill-down lists, targets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.accounts.models import Role
from caliber.config import Settings
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, NotFound
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.reports.charts import bar_chart, line_chart, progress_bar
from caliber.reports.exports import report_csv, report_pdf, report_xlsx, table_csv
from caliber.reports.periods import local_midnight, parse_period
from caliber.reports.report import Report, build_report, label
from caliber.reports.schemas import TargetInput
from caliber.reports.service import DRILLS, JURISDICTIONS, REQUEST_DRILLS, Figures, ReportService
from caliber.reports.targets import Progress, TargetService
from caliber.schemas import convert
from caliber.web import form_data, page

__all__ = ["ReportFiles", "ReportPages", "current_period"]


def current_period(today: dt.date) -> str:
    """The half-year under way on ``today``: the dashboard opens on it."""
    return f"{today.year}-H2" if today.month > 6 else f"{today.year}-H1"


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
    "traced_established": "Weapons taken in whose origin was established",
    "traced_not_established": "Weapons taken in, traced, origin not established",
    "traced_excepted": "Weapons taken in, excepted from tracing",
    "traced_open": "Weapons taken in whose trace is open",
    "traced_not_started": "Weapons taken in whose trace has not started",
    "origins_established": "Weapons whose origin was established",
    "requests_sent": "Trace requests sent",
    "requests_answered": "Trace requests answered",
    "requests_answered_late": "Trace requests answered late",
    "requests_overdue": "Trace requests overdue at the end",
    "incoming_received": "Trace requests from other states",
    "incoming_answered": "Trace requests from other states answered",
    "incoming_overdue": "Trace requests from other states overdue at the end",
}


PAGE_RECORDS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Timeline:
    """A chart over time and the table of its numbers (for screen readers, printing and copying)."""

    svg: str
    title: str
    points: list[str]
    rows: list[tuple[str, list[int]]]


async def _timelines(
    actor: Actor, reports: ReportService, *, progress: list[Progress], year: int, names: dict[str, str], zone: Any, now: dt.datetime
) -> list[Timeline]:
    """Weapons destroyed month by month in ``year`` (against each destruction target), and the surplus stock half-year by half-year."""
    months = [local_midnight(dt.date(year, m, 1), zone) for m in range(1, 13)] + [local_midnight(dt.date(year + 1, 1, 1), zone)]
    shown = [at for at in months if at <= now] or months[:1]
    month_points = [f"{at.astimezone(zone):%b}" if n else "1 Jan" for n, at in enumerate(shown)]
    if shown[-1] < min(now, months[-1]):
        shown, month_points = [*shown, now], [*month_points, "now"]
    halves = [local_midnight(dt.date(y, m, 1), zone) for y in range(year - 3, year + 2) for m in (1, 7)]
    halves = [at for at in halves if at <= now]
    half_points = [f"{at.astimezone(zone):%b %Y}" for at in halves]  # the table's; the chart marks each January
    if halves[-1] < now:
        halves, half_points = [*halves, now], [*half_points, "now"]
    by_month = await reports.timeline(actor, shown)
    by_half = await reports.timeline(actor, halves)
    out = []
    title = f"Weapons destroyed in {year}, month by month (running total)"
    rows = [(names[j], destroyed) for j, (destroyed, _) in by_month.items()]
    out.append(Timeline(line_chart(title, month_points, [(n, [float(v) for v in vs]) for n, vs in rows]), title, month_points, rows))
    aimed = [p for p in progress if p.kpi.measure == "destroyed" and p.kpi.target == "annual" and p.target.jurisdiction in by_month]
    if aimed:
        pace = [round(100 * (at - months[0]) / (months[-1] - months[0])) for at in shown]
        rows = [(names[p.target.jurisdiction], [round(100 * v / p.amount) for v in by_month[p.target.jurisdiction][0]]) for p in aimed]
        title = f"Share of the {year} destruction target reached, month by month (%)"
        svg = line_chart(
            title, month_points, [(n, [float(v) for v in vs]) for n, vs in rows], target=("steady pace", [float(v) for v in pace])
        )
        out.append(Timeline(svg, title, month_points, [*rows, ("steady pace", pace)]))
    title = "Declared surplus weapons in stock, half-year by half-year"
    rows = [(names[j], stock) for j, (_, stock) in by_half.items()]
    ticks = [point if not point.startswith("Jul") else "" for point in half_points]
    out.append(
        Timeline(line_chart(title, half_points, [(n, [float(v) for v in vs]) for n, vs in rows], ticks=ticks), title, half_points, rows)
    )
    return out


def _traced_chart(rows: list[tuple[str, Figures]]) -> str:
    """SDG 16.4.2 by jurisdiction: the share of the weapons taken in whose origin was established."""
    shares = [(name, [f.tracing.share or 0.0]) for name, f in rows]
    return bar_chart("Origin established, share of weapons taken in (%)", shares, ["share"], peak=100, unit="%")


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
        targets: NamedDependency[TargetService],
        inventory: NamedDependency[DepotService],
        period: FromQuery[str | None] = None,
    ) -> Template:
        """The six jurisdictions side by side for a period: targets, charts over time and by jurisdiction, and every measure."""
        now = targets.ledger.clock()  # the ledger's clock: the time the records are written in
        today = now.astimezone(settings.zone).date()
        span = parse_period(period or current_period(today), settings.zone)
        found = await reports.figures(actor, span)
        names = {j.code: j for j in await inventory.jurisdictions()}
        rows = [(names[code].name, figures) for code, figures in found.items()]
        destroyed = bar_chart("Weapons destroyed", [(name, [f.destroyed]) for name, f in rows], ["destroyed"])
        surplus = bar_chart(
            "Declared surplus weapons in stock",
            [(name, [f.surplus_start, f.surplus_end]) for name, f in rows],
            ["at the start", "at the end"],
        )
        by_kind = []
        for title, field in (
            ("Weapons destroyed by UN SALW type", "destroyed_by_type"),
            ("Weapons destroyed by method", "destroyed_by_method"),
        ):
            totals: dict[str, int] = {}
            for _, f in rows:
                for key, n in getattr(f, field).items():
                    totals[key] = totals.get(key, 0) + n
            if totals:
                by_kind.append(
                    bar_chart(title, [(label(key), [n]) for key, n in sorted(totals.items(), key=lambda kv: -kv[1])], ["destroyed"])
                )
        choices = [f"{year}{half}" for year in range(today.year, today.year - 4, -1) for half in ("-H2", "-H1", "")]
        traced = _traced_chart(rows)
        year = int(span.key[:4])
        known = {year: found} if "-H" not in span.key else None
        progress = [p for p in await targets.progress(actor, now, known=known) if p.kpi.target == "clear" or p.target.year == year]
        return page(
            request,
            "reports/dashboard.html",
            period=span,
            choices=choices,
            rows=rows,
            codes=list(found),
            names=names,
            charts=[destroyed, surplus, *by_kind],
            traced_chart=traced,
            kpi_set=targets.roadmap.title,
            reasons=sorted({reason for _, f in rows for reason in f.tracing.excepted}),
            timelines=await _timelines(
                actor, reports, progress=progress, year=year, names={c: j.name for c, j in names.items()}, zone=settings.zone, now=now
            ),
            progress=[(p, progress_bar(p.share, p.state, p.time_gone)) for p in progress],
            depot_scoped=not actor.sees_all_depots and not actor.jurisdictions,
        )

    @get("/records")
    async def records_page(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        reports: NamedDependency[ReportService],
        inventory: NamedDependency[DepotService],
        period: FromQuery[str],
        jurisdiction: FromQuery[str],
        measure: FromQuery[str],
        detail: FromQuery[str | None] = None,
        after: FromQuery[str] = "",
    ) -> Template:
        """The records behind one number of a report, each linking to its custody timeline (or the trace requests behind a
        number of requests, each linking to its request)."""
        span = parse_period(period, settings.zone)
        names = {j.code: j.name for j in await inventory.jurisdictions()}
        depots = {d.id: d.code for d in await inventory.depots(actor)}
        query = {"period": span.key, "jurisdiction": jurisdiction, "measure": measure, **({"detail": detail} if detail else {})}
        listed: dict[str, Any] = {"records": [], "requests": []}
        if measure in REQUEST_DRILLS:
            found_requests = await reports.requests(actor, span, jurisdiction, measure, after=after, limit=PAGE_RECORDS)
            listed["requests"] = found_requests
            last = str(found_requests[-1].id) if len(found_requests) == PAGE_RECORDS else None
        else:
            found = await reports.records(actor, span, jurisdiction, measure, detail, after=after, limit=PAGE_RECORDS)
            listed["records"] = found
            last = found[-1].code if len(found) == PAGE_RECORDS else None
        return page(
            request,
            "reports/records.html",
            title=MEASURE_TITLES.get(measure, measure) + (f" · {label(detail)}" if detail else ""),
            where=names.get(jurisdiction, jurisdiction),
            period=span,
            depots=depots,
            query=query,
            next_after=last,
            measures=DRILLS,
            **listed,
        )

    @get("/targets")
    async def targets_page(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        targets: NamedDependency[TargetService],
        inventory: NamedDependency[DepotService],
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
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Set a target from the form; the page again with what was wrong."""
        values = await form_data(request)
        wanted = {key: value for key, value in values.items() if value not in ("", None)}
        wanted["withdrawn"] = values.get("withdrawn") == "on"
        try:
            await targets.set(actor, convert(wanted, TargetInput))
        except CORRECTABLE as exc:
            return await _targets_page(
                request, actor, targets=targets, inventory=inventory, error=exc, values=values, status_code=exc.status_code
            )
        return Redirect("/reports/targets?done=1")


async def _targets_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    *,
    targets: TargetService,
    inventory: DepotService,
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
        history=[t for t in await targets.history() if actor.reads_jurisdiction(t.jurisdiction)],
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
    inventory: NamedDependency[DepotService],
    key: FromPath[str],
) -> Report:
    """The report of period ``key`` as the actor may see it (a dependency of the report's routes)."""
    span = parse_period(key, settings.zone)
    snapshot = await reports.snapshot(actor, span)
    jurisdictions = await inventory.jurisdictions()
    names = {j.code: j.name for j in jurisdictions}
    footnotes = [f"{j.name}: {j.footnote}" for j in jurisdictions if j.footnote]
    if actor.jurisdictions:
        footnotes.insert(0, "The jurisdictions assigned to the reader only.")
    elif not actor.sees_all_depots:
        footnotes.insert(0, "The figures of the depots assigned to the reader only.")
    known = {int(span.key): snapshot.figures} if "-H" not in span.key else None
    progress = await targets.progress(actor, targets.ledger.clock(), known=known)
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

    @get("/xlsx")
    async def report_workbook(self, report: NamedDependency[Report]) -> Response[Any]:
        """The report as a workbook, one sheet per table."""
        xlsx = await anyio.to_thread.run_sync(report_xlsx, report)
        return _attachment(xlsx, XLSX, f"roadmap-{report.snapshot.period.key}.xlsx")

    @get("/csv/{table:str}")
    async def table_file(self, report: NamedDependency[Report], table: FromPath[str]) -> Response[Any]:
        """One table as CSV, laid out like the page."""
        found = report.table(table)
        if found is None:
            raise NotFound(f"the report has no table {table!r}; it has {', '.join(t.key for t in report.tables)}")
        return _attachment(table_csv(found), "text/csv; charset=utf-8", f"roadmap-{report.snapshot.period.key}-{found.key}.csv")
