"""Transfers: pages for depot staff (dispatch a manifest, receive it scan by scan) and the JSON API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, CaliberError, InvalidInput
from caliber.items.access import DEPOT_STAFF, MANAGERS
from caliber.labels.codes import CodeError, read_code
from caliber.transfers.models import TransferStatus
from caliber.transfers.schemas import LineOut, NewTransfer, Receipt, TransferOut
from caliber.transfers.service import TransferService, TransferView, manifest_lines
from caliber.web import form_data, form_uuid, page

__all__ = ["TransferApi", "TransferPages", "transfer_out"]

staff = [requires(*DEPOT_STAFF)]
managers = [requires(*MANAGERS)]


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
        inventory: NamedDependency[DepotService],
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
        inventory: NamedDependency[DepotService],
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
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Template:
        """The dispatch form."""
        return await _transfer_form(request, actor, inventory, values={}, error=None)

    @post("/new", guards=staff)
    async def dispatch(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
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
        inventory: NamedDependency[DepotService],
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
        inventory: NamedDependency[DepotService],
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
    inventory: DepotService,
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
    inventory: DepotService,
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
