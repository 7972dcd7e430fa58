"""Stock checks: pages for depot staff (scan by scan) and the JSON API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, CaliberError
from caliber.items.access import DEPOT_STAFF, MANAGERS
from caliber.stockchecks.models import StockCheckStatus
from caliber.stockchecks.schemas import DueOut, NewStockCheck, ResultOut, ScanBatch, StockCheckOut, StockCheckSummary
from caliber.stockchecks.service import StockCheckService, StockCheckView
from caliber.web import form_data, form_uuid, page

__all__ = ["StockCheckApi", "StockCheckPages", "stockcheck_out"]

staff = [requires(*DEPOT_STAFF)]
managers = [requires(*MANAGERS)]


def stockcheck_out(view: StockCheckView) -> StockCheckOut:
    """A stock check as the API shows it."""
    c, r = view.check, view.result
    return StockCheckOut(
        c.id,
        view.depot.code,
        view.scope.path if view.scope else None,
        StockCheckStatus(c.status),
        c.opened_by,
        c.opened_at,
        c.counted_by,
        c.closed_by,
        c.closed_at,
        sum(1 for line in view.lines if line.expected),
        sum(1 for line in view.lines if line.scanned),
        ResultOut(len(r.found), r.missing, r.wrong_location, r.unknown, [f"{c}:{e}:{n}" for c, e, n in r.lot_differences]),
    )


class StockCheckApi(Controller):
    """Stock checks."""

    path = "/api/stockchecks"
    tags = ["stock checks"]

    @post("/", guards=staff, status_code=HTTP_201_CREATED)
    async def open_check(
        self, data: JSONBody[NewStockCheck], actor: NamedDependency[Actor], stockchecks: NamedDependency[StockCheckService]
    ) -> StockCheckOut:
        """Open a count of a depot (or one branch of its tree); the expected list is fixed now."""
        return stockcheck_out(await stockchecks.open(actor, data))

    @get("/")
    async def list_checks(
        self,
        actor: NamedDependency[Actor],
        stockchecks: NamedDependency[StockCheckService],
        inventory: NamedDependency[DepotService],
        status: FromQuery[StockCheckStatus | None] = None,
    ) -> list[StockCheckSummary]:
        """The latest 100 stock checks of the caller's depots, newest first, with the summary of the closed ones."""
        codes = {d.id: d.code for d in await inventory.all_depots()}
        return [
            StockCheckSummary(
                c.id,
                codes[c.depot_id],
                StockCheckStatus(c.status),
                c.opened_at,
                c.closed_at,
                c.found,
                c.missing,
                c.wrong_location,
                c.unknown,
            )
            for c in await stockchecks.list(actor, status=status)
        ]

    @get("/due")
    async def due(self, actor: NamedDependency[Actor], stockchecks: NamedDependency[StockCheckService]) -> list[DueOut]:
        """Every depot with its last full count, and whether one is due."""
        return [DueOut(d.depot.code, d.last_full_count, d.due) for d in await stockchecks.due(actor)]

    @get("/{check_id:uuid}")
    async def get_check(
        self, check_id: FromPath[UUID], actor: NamedDependency[Actor], stockchecks: NamedDependency[StockCheckService]
    ) -> StockCheckOut:
        """One stock check with its reconciliation so far."""
        return stockcheck_out(await stockchecks.get(actor, check_id))

    @post("/{check_id:uuid}/scans", guards=staff, status_code=200)
    async def scan(
        self,
        check_id: FromPath[UUID],
        data: JSONBody[ScanBatch],
        actor: NamedDependency[Actor],
        stockchecks: NamedDependency[StockCheckService],
    ) -> StockCheckOut:
        """Record scans (one event each)."""
        return stockcheck_out(await stockchecks.scan(actor, check_id, data.scans))

    @post("/{check_id:uuid}/counted", guards=staff, status_code=200)
    async def counted(
        self, check_id: FromPath[UUID], actor: NamedDependency[Actor], stockchecks: NamedDependency[StockCheckService]
    ) -> StockCheckOut:
        """The counter has finished."""
        return stockcheck_out(await stockchecks.finish_counting(actor, check_id))

    @post("/{check_id:uuid}/close", guards=managers, status_code=200)
    async def close(
        self, check_id: FromPath[UUID], actor: NamedDependency[Actor], stockchecks: NamedDependency[StockCheckService]
    ) -> StockCheckOut:
        """Confirm and close (a manager who did not count); missing records become missing."""
        return stockcheck_out(await stockchecks.close(actor, check_id))


class StockCheckPages(Controller):
    """Open a count, scan, reconcile, confirm."""

    path = "/stockchecks"
    include_in_schema = False

    @get("/")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        stockchecks: NamedDependency[StockCheckService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """Checks under way and done, depots due a full count, and the form to open one."""
        depots = [d for d in await inventory.depots(actor) if d.active]
        locations = await inventory.active_locations(depots)
        return page(
            request,
            "inventory/stockchecks.html",
            checks=await stockchecks.list(actor),
            due=await stockchecks.due(actor),
            depots=depots,
            depot_names={d.id: d.code for d in depots},
            locations=locations,
            can_work=actor.role in DEPOT_STAFF,
            error=None,
        )

    @post("/", guards=staff)
    async def open_check(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], stockchecks: NamedDependency[StockCheckService]
    ) -> Response[Any]:
        """Open a count from the form."""
        values = await form_data(request)
        location = values.get("location_id") or None
        try:
            view = await stockchecks.open(
                actor,
                NewStockCheck(form_uuid(values.get("depot_id"), "depot_id"), form_uuid(location, "location_id") if location else None),
            )
        except CORRECTABLE as exc:
            return page(request, "site/error.html", status_code=exc.status_code, title="Cannot open the count", detail=exc.message)
        return Redirect(f"/stockchecks/{view.check.id}")

    @get("/{check_id:uuid}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        check_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        stockchecks: NamedDependency[StockCheckService],
    ) -> Template:
        """The count: scanner while open, reconciliation always, confirmation for a second manager."""
        return page(request, "inventory/stockcheck.html", **await _check_context(actor, stockchecks, check_id, location=None, error=None))

    @post("/{check_id:uuid}/counted", guards=staff)
    async def counted(
        self,
        request: Request[Any, Any, Any],
        check_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        stockchecks: NamedDependency[StockCheckService],
    ) -> Response[Any]:
        """The counter is done."""
        try:
            await stockchecks.finish_counting(actor, check_id)
        except CORRECTABLE as exc:
            context = await _check_context(actor, stockchecks, check_id, location=None, error=exc)
            return page(request, "inventory/stockcheck.html", status_code=exc.status_code, **context)
        return Redirect(f"/stockchecks/{check_id}")

    @post("/{check_id:uuid}/close", guards=managers)
    async def close(
        self,
        request: Request[Any, Any, Any],
        check_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        stockchecks: NamedDependency[StockCheckService],
    ) -> Response[Any]:
        """A second manager confirms and closes."""
        try:
            await stockchecks.close(actor, check_id)
        except CORRECTABLE as exc:
            context = await _check_context(actor, stockchecks, check_id, location=None, error=exc)
            return page(request, "inventory/stockcheck.html", status_code=exc.status_code, **context)
        return Redirect(f"/stockchecks/{check_id}")


async def _check_context(
    actor: Actor, stockchecks: StockCheckService, check_id: UUID, *, location: Any, error: CaliberError | str | None
) -> dict[str, Any]:
    view = await stockchecks.get(actor, check_id)
    check = view.check
    return {
        "view": view,
        "location": location,
        "error": error,
        "expected": sum(1 for line in view.lines if line.expected),
        "scanned": sum(1 for line in view.lines if line.scanned),
        "can_count": stockchecks.can_count(actor, check).allowed,
        "close": stockchecks.can_close(actor, view),
    }
