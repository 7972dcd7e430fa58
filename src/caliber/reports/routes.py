"""Roadmap figures for ministry officials: the JSON API and the dashboard of the six jurisdictions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from caliber.accounts.actor import Actor
from caliber.config import Settings
from caliber.inventory.service import InventoryService
from caliber.reports.charts import bar_chart
from caliber.reports.periods import parse_period
from caliber.reports.service import JURISDICTIONS, ReportService
from caliber.web import page

__all__ = ["ReportApi", "ReportPages"]


def _default_period(today: dt.date) -> str:
    """The last half-year that has ended."""
    return f"{today.year}-H1" if today.month > 6 else f"{today.year - 1}-H2"


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
