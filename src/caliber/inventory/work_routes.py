"""Transfers and stock checks: pages for depot staff (scan by scan) and the JSON API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.errors import CORRECTABLE, CaliberError, InvalidInput
from caliber.inventory.items import DEPOT_STAFF, MANAGERS
from caliber.inventory.models import StockCheckStatus, TransferStatus
from caliber.inventory.service import InventoryService
from caliber.inventory.stockchecks import NewStockCheck, Scan, StockCheckService, StockCheckView
from caliber.inventory.transfers import LotPart, NewTransfer, TransferService, TransferView, manifest_line
from caliber.labels.codes import CodeError, read_code
from caliber.schemas import Input
from caliber.web import form_data, form_uuid, page

__all__ = ["StockCheckApi", "StockCheckPages", "TransferApi", "TransferPages", "manifest_lines"]

staff = [requires(*DEPOT_STAFF)]
managers = [requires(*MANAGERS)]


# -- API structs ------------------------------------------------------------------------------


class LineOut(msgspec.Struct):
    """One record on a transfer."""

    code: str
    kind: str
    outcome: str


class TransferOut(msgspec.Struct):
    """A transfer with its manifest."""

    id: UUID
    from_depot: str
    to_depot: str
    status: TransferStatus
    seals: str
    notes: str
    dispatched_by: str
    dispatched_at: dt.datetime
    received_by: str | None
    received_at: dt.datetime | None
    lines: list[LineOut]


class Receipt(Input, forbid_unknown_fields=True):
    """The codes scanned at the receiving depot, and where they are put."""

    codes: Annotated[list[str], msgspec.Meta(max_length=50_000)]
    location_id: UUID | None = None


def transfer_out(view: TransferView) -> TransferOut:
    """A transfer as the API shows it."""
    t = view.transfer
    return TransferOut(
        t.id,
        view.from_depot.code,
        view.to_depot.code,
        TransferStatus(t.status),
        t.seals,
        t.notes,
        t.dispatched_by,
        t.dispatched_at,
        t.received_by,
        t.received_at,
        [LineOut(line.code, line.kind, line.outcome) for line in view.lines],
    )


class ResultOut(msgspec.Struct):
    """A count against the records."""

    found: int
    missing: list[str]
    wrong_location: list[str]
    unknown: list[str]
    lot_differences: list[str]


class StockCheckOut(msgspec.Struct):
    """A stock check and its reconciliation so far."""

    id: UUID
    depot: str
    scope: str | None
    status: StockCheckStatus
    opened_by: str
    opened_at: dt.datetime
    counted_by: str | None
    closed_by: str | None
    closed_at: dt.datetime | None
    expected: int
    scanned: int
    result: ResultOut


class StockCheckSummary(msgspec.Struct):
    """A stock check in a list; counts are those recorded when it closed."""

    id: UUID
    depot: str
    status: StockCheckStatus
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    found: int
    missing: int
    wrong_location: int
    unknown: int


class ScanBatch(Input, forbid_unknown_fields=True):
    """Scans to record, in the order they were made."""

    scans: Annotated[list[Scan], msgspec.Meta(min_length=1, max_length=5000)]


class DueOut(msgspec.Struct):
    """A depot and its last full count."""

    depot: str
    last_full_count: dt.datetime | None
    due: bool


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


# -- API --------------------------------------------------------------------------------------


class TransferApi(Controller):
    """Transfers between depots."""

    path = "/api/transfers"
    tags = ["transfers"]

    @post("/", guards=staff, status_code=HTTP_201_CREATED)
    async def dispatch(
        self, data: JSONBody[NewTransfer], actor: NamedDependency[Actor], transfers: NamedDependency[TransferService]
    ) -> TransferOut:
        """Seal and dispatch a manifest: its records go in transit."""
        return transfer_out(await transfers.dispatch(actor, data))

    @get("/")
    async def list_transfers(
        self,
        actor: NamedDependency[Actor],
        transfers: NamedDependency[TransferService],
        inventory: NamedDependency[InventoryService],
        status: FromQuery[TransferStatus | None] = None,
    ) -> list[TransferOut]:
        """The latest 100 transfers from or to the caller's depots, newest first (lines on each transfer's own read)."""
        depots = {d.id: d for d in await inventory.all_depots()}
        found = await transfers.list(actor, status=status)
        return [transfer_out(TransferView(t, [], depots[t.from_depot_id], depots[t.to_depot_id])) for t in found]

    @get("/{transfer_id:uuid}")
    async def get_transfer(
        self, transfer_id: FromPath[UUID], actor: NamedDependency[Actor], transfers: NamedDependency[TransferService]
    ) -> TransferOut:
        """One transfer with its manifest and outcomes."""
        return transfer_out(await transfers.get(actor, transfer_id))

    @post("/{transfer_id:uuid}/receive", guards=staff, status_code=200)
    async def receive(
        self,
        transfer_id: FromPath[UUID],
        data: JSONBody[Receipt],
        actor: NamedDependency[Actor],
        transfers: NamedDependency[TransferService],
    ) -> TransferOut:
        """Confirm receipt with the codes scanned; the rest of the manifest is missing, others extra."""
        codes = [_code(c) for c in data.codes]
        return transfer_out(await transfers.receive(actor, transfer_id, codes, data.location_id))


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
        inventory: NamedDependency[InventoryService],
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


def _code(text: str) -> str:
    try:
        return read_code(text)
    except CodeError as exc:
        raise InvalidInput(str(exc), field="codes") from None


# -- pages ------------------------------------------------------------------------------------


class TransferPages(Controller):
    """Dispatch a manifest; receive one by scanning."""

    path = "/transfers"
    include_in_schema = False

    @get("/")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        transfers: NamedDependency[TransferService],
        inventory: NamedDependency[InventoryService],
    ) -> Template:
        """Transfers from or to the actor's depots."""
        return page(
            request,
            "inventory/transfers.html",
            transfers=await transfers.list(actor),
            depots={d.id: d for d in await inventory.all_depots()},
            can_work=actor.role in DEPOT_STAFF,
        )

    @get("/new", guards=staff)
    async def new_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[InventoryService]
    ) -> Template:
        """The dispatch form."""
        return await _transfer_form(request, actor, inventory, values={}, error=None)

    @post("/new", guards=staff)
    async def dispatch(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[InventoryService],
        transfers: NamedDependency[TransferService],
    ) -> Response[Any]:
        """Dispatch the manifest typed or scanned into the form."""
        values = await form_data(request)
        try:
            codes, parts = manifest_lines(values.get("codes", ""))
            seals = [s.strip() for s in str(values.get("seals", "")).split(",") if s.strip()]
            new = NewTransfer(
                from_depot_id=form_uuid(values.get("from_depot_id"), "from_depot_id"),
                to_depot_id=form_uuid(values.get("to_depot_id"), "to_depot_id"),
                codes=codes,
                lot_parts=parts,
                seals=seals,
                notes=str(values.get("notes", "")),
            )
            view = await transfers.dispatch(actor, new)
        except CORRECTABLE as exc:
            return await _transfer_form(request, actor, inventory, values=values, error=exc, status_code=exc.status_code)
        return Redirect(f"/transfers/{view.transfer.id}")

    @get("/{transfer_id:uuid}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        transfer_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        transfers: NamedDependency[TransferService],
        inventory: NamedDependency[InventoryService],
    ) -> Template:
        """The manifest, and at the receiving depot the receipt scanner."""
        return await _transfer_page(request, actor, transfers, inventory, transfer_id, scanned=[], error=None)

    @post("/{transfer_id:uuid}/receive", guards=staff)
    async def receive(
        self,
        request: HTMXRequest,
        transfer_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        transfers: NamedDependency[TransferService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """A scan adds a code to the receipt; "Confirm receipt" records it."""
        values = await form_data(request, "scanned")
        scanned: list[str] = values.get("scanned", [])
        error = None
        try:
            if values.get("scan"):
                code = _code(values["scan"])
                scanned = [code, *[c for c in scanned if c != code]]
            if values.get("confirm") == "yes":
                location = values.get("location_id") or None
                await transfers.receive(actor, transfer_id, scanned, form_uuid(location, "location_id") if location else None)
                return Redirect(f"/transfers/{transfer_id}")
        except CORRECTABLE as exc:
            error = exc
        template = "inventory/_receive.html" if request.htmx else "inventory/transfer.html"
        return await _transfer_page(request, actor, transfers, inventory, transfer_id, scanned=scanned, error=error, template=template)


async def _transfer_form(
    request: Request[Any, Any, Any],
    actor: Actor,
    inventory: InventoryService,
    *,
    values: dict[str, Any],
    error: CaliberError | str | None,
    status_code: int = 200,
) -> Template:
    mine = [d for d in await inventory.depots(actor) if d.active]
    every = [d for d in await inventory.all_depots() if d.active]
    return page(request, "inventory/transfer_form.html", status_code=status_code, mine=mine, every=every, values=values, error=error)


async def _transfer_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    transfers: TransferService,
    inventory: InventoryService,
    transfer_id: UUID,
    *,
    scanned: list[str],
    error: CaliberError | str | None,
    template: str = "inventory/transfer.html",
) -> Template:
    view = await transfers.get(actor, transfer_id)
    receiving = view.transfer.status == TransferStatus.IN_TRANSIT and actor.role in DEPOT_STAFF and actor.can_see_depot(view.to_depot.id)
    shelves = [loc for loc in await inventory.locations(actor, view.to_depot.id) if loc.active] if receiving else []
    manifest = {line.code for line in view.lines}
    return page(
        request,
        template,
        status_code=422 if error else 200,
        view=view,
        receiving=receiving,
        shelves=shelves,
        scanned=scanned,
        on_manifest=[c for c in scanned if c in manifest],
        extra=[c for c in scanned if c not in manifest],
        error=error,
    )


def manifest_lines(text: str) -> tuple[list[str], list[LotPart]]:
    """Codes one per line (a scan, a URL or a typed code); ``CODE x 400`` sends 400 pieces of a lot."""
    codes: list[str] = []
    parts: list[LotPart] = []
    for number, line in enumerate(str(text).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            read = manifest_line(line)
        except InvalidInput as exc:
            raise InvalidInput(f"line {number}: {exc.message}", field="codes") from None
        if isinstance(read, LotPart):
            parts.append(read)
        else:
            codes.append(read)
    return codes, parts


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
        inventory: NamedDependency[InventoryService],
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
        "close": stockchecks.can_close(actor, check),
    }
