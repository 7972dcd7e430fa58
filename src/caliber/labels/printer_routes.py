"""Registered label printers: JSON API (``/api/printers``) and the admins' pages (``/printers/``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.accounts.models import Role
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, Conflict, InvalidInput
from caliber.items.access import DEPOT_STAFF
from caliber.labels.models import Printer
from caliber.labels.printing import LabelPrinting
from caliber.labels.schemas import NewPrinter, PrinterOut, PrinterUpdate
from caliber.labels.zpl import DPIS, SIZES
from caliber.schemas import convert
from caliber.web import form_data, page

__all__ = ["PrinterApi", "PrinterPages", "printer_out"]

admin_only = [requires(Role.ADMIN)]
staff = [requires(*DEPOT_STAFF)]


def printer_out(printer: Printer) -> PrinterOut:
    """A printer as the API shows it."""
    return PrinterOut(
        printer.id, printer.depot_id, printer.name, printer.host, printer.port, printer.model, printer.dpi, printer.size, printer.active
    )


class PrinterApi(Controller):
    """Thermal printers: admins register and change them; depot staff list their depots' printers."""

    path = "/api/printers"
    tags = ["labels"]

    @get("/", guards=staff)
    async def list_printers(self, actor: NamedDependency[Actor], printing: NamedDependency[LabelPrinting]) -> list[PrinterOut]:
        """The printers of the caller's depots (admins: every depot), in service or not."""
        return [printer_out(printer) for printer in await printing.printers.printers(actor)]

    @post("/", guards=admin_only, status_code=HTTP_201_CREATED)
    async def register_printer(
        self, data: JSONBody[NewPrinter], actor: NamedDependency[Actor], printing: NamedDependency[LabelPrinting]
    ) -> PrinterOut:
        """Register a printer for a depot (admins only); a custody event."""
        return printer_out(await printing.printers.register(actor, data))

    @get("/{printer_id:uuid}", guards=staff)
    async def get_printer(
        self, printer_id: FromPath[UUID], actor: NamedDependency[Actor], printing: NamedDependency[LabelPrinting]
    ) -> PrinterOut:
        """One printer of the caller's depots."""
        return printer_out(await printing.printers.printer(actor, printer_id))

    @patch("/{printer_id:uuid}", guards=admin_only)
    async def change_printer(
        self,
        printer_id: FromPath[UUID],
        data: JSONBody[PrinterUpdate],
        actor: NamedDependency[Actor],
        printing: NamedDependency[LabelPrinting],
    ) -> PrinterOut:
        """Change a printer's name, address, model or stock, or take it out of service (admins only); a custody event."""
        return printer_out(await printing.printers.change(actor, printer_id, data))


class PrinterPages(Controller):
    """The admins' pages to register and edit printers."""

    path = "/printers"
    include_in_schema = False
    guards = admin_only

    @get("/")
    async def list_printers(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
        printing: NamedDependency[LabelPrinting],
    ) -> Template:
        """Every registered printer, by depot."""
        depots = {depot.id: depot for depot in await inventory.depots(actor)}
        return page(request, "labels/printers.html", printers=await printing.printers.printers(actor), depots=depots)

    @get("/new")
    async def new_printer_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Template:
        """The form to register a printer."""
        return await _printer_form(request, actor, inventory, printer=None, values={}, error=None)

    @post("/new")
    async def register_printer(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
        printing: NamedDependency[LabelPrinting],
    ) -> Response[Any]:
        """Register the printer, or show the form again with what is wrong."""
        values = await form_data(request)
        try:
            await printing.printers.register(actor, convert(_typed(values), NewPrinter))
        except CORRECTABLE as exc:
            return await _printer_form(request, actor, inventory, printer=None, values=values, error=exc)
        return Redirect("/printers/")

    @get("/{printer_id:uuid}/edit")
    async def edit_printer_form(
        self,
        request: Request[Any, Any, Any],
        printer_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
        printing: NamedDependency[LabelPrinting],
    ) -> Template:
        """The form to change a printer or take it out of service."""
        printer = await printing.printers.printer(actor, printer_id)
        return await _printer_form(request, actor, inventory, printer=printer, values={}, error=None)

    @post("/{printer_id:uuid}/edit")
    async def change_printer(
        self,
        request: Request[Any, Any, Any],
        printer_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
        printing: NamedDependency[LabelPrinting],
    ) -> Response[Any]:
        """Save changes to a printer."""
        values = await form_data(request)
        values["active"] = values.get("active") == "on"
        try:
            await printing.printers.change(actor, printer_id, convert(_typed(values), PrinterUpdate))
        except CORRECTABLE as exc:
            printer = await printing.printers.printer(actor, printer_id)
            return await _printer_form(request, actor, inventory, printer=printer, values=values, error=exc)
        return Redirect("/printers/")


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """A printer form's fields, without the empty ones (a blank port is the default 9100)."""
    return {name: value for name, value in values.items() if value != ""}


async def _printer_form(
    request: Request[Any, Any, Any],
    actor: Actor,
    inventory: DepotService,
    *,
    printer: Printer | None,
    values: dict[str, Any],
    error: InvalidInput | Conflict | None,
) -> Template:
    return page(
        request,
        "labels/printer_form.html",
        status_code=error.status_code if error else 200,
        printer=printer,
        values=values,
        error=error,
        error_field=getattr(error, "field", None),
        depots=await inventory.depots(actor),
        sizes=list(SIZES),
        dpis=list(DPIS),
    )
