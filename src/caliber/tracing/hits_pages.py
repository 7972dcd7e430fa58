"""The iARMS hits page (``/tracing/iarms-hits``): depot staff upload the CSV of hits and read what became of each."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.errors import CORRECTABLE
from caliber.tracing.hits import HitsReport
from caliber.tracing.hits_file import HIT_COLUMNS, HitFileRefused, read_hits_bytes
from caliber.tracing.lifecycle import TRACERS
from caliber.tracing.routes import MAX_HITS_BYTES, read_upload
from caliber.tracing.service import TracingService
from caliber.web import page

__all__ = ["IarmsHitPages"]

TEMPLATE = "tracing/iarms_hits.html"
ROWS_SHOWN = 500


def _page(request: Request[Any, Any, Any], status_code: int = 200, **context: Any) -> Template:
    context.setdefault("report", None)
    context.setdefault("row_errors", [])
    context.setdefault("error", None)
    return page(request, TEMPLATE, status_code=status_code, columns=HIT_COLUMNS, shown=ROWS_SHOWN, **context)


class IarmsHitPages(Controller):
    """Upload a CSV of iARMS hits; the answer is the summary: linked, already known, unmatched and ambiguous rows."""

    path = "/tracing/iarms-hits"
    include_in_schema = False
    guards = [requires(*TRACERS)]

    @get("/")
    async def form(self, request: Request[Any, Any, Any]) -> Template:
        """The upload form and the columns of the file."""
        return _page(request)

    @post("/", request_max_body_size=MAX_HITS_BYTES, status_code=200)
    async def upload(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], tracing: NamedDependency[TracingService]
    ) -> Template:
        """Check the whole file, link its hits, and show what became of each (a bad cell: nothing recorded, every one named)."""
        try:
            hits = read_hits_bytes(await read_upload(request), tracing.today())
            report: HitsReport = await tracing.record_iarms_hits(actor, hits)
        except HitFileRefused as exc:
            return _page(request, exc.status_code, error=exc.message, row_errors=exc.rows[:ROWS_SHOWN], error_count=exc.error_count)
        except CORRECTABLE as exc:
            return _page(request, exc.status_code, error=exc.message)
        return _page(request, report=report)
