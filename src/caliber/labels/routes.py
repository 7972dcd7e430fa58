"""Labels: one of any record (``/labels/CODE.svg|png|zpl``), print jobs (``/print/``, ``/api/labels/print``), layouts."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.accounts.models import Role
from caliber.errors import CORRECTABLE, Conflict, InvalidInput, NotFound
from caliber.items.access import DEPOT_STAFF
from caliber.items.queries import item_filters
from caliber.items.service import ItemService
from caliber.labels.codes import CodeError, is_valid, read_code
from caliber.labels.printing import MAX_JOB, LabelPrinting
from caliber.labels.render import LabelError, png, svg
from caliber.labels.schemas import Dpi, Stock
from caliber.labels.sheets import layouts
from caliber.labels.zpl import ZplLabel, zpl
from caliber.schemas import Input, convert
from caliber.web import file_formats, form_data, page

__all__ = ["LabelApi", "LabelFiles", "PrintPages"]

staff = [requires(*DEPOT_STAFF)]


class LabelFiles(Controller):
    """Single labels for screens and small label printers."""

    path = "/labels"
    include_in_schema = False

    @get("/{filename:str}")
    async def label(
        self,
        *,
        filename: FromPath[str],
        actor: NamedDependency[Actor],
        printing: NamedDependency[LabelPrinting],
        size: FromQuery[Stock] = "2x1",
        dpi: FromQuery[Dpi] = 203,
    ) -> Response[bytes]:
        """The label of the record with this code: ``CODE.svg``, ``CODE.png`` (300 dpi, 50 x 25 mm) or ``CODE.zpl``
        for a Zebra printer (``?size=2x1|4x2&dpi=203|300``)."""
        code, _, extension = filename.partition(".")
        if extension not in ("svg", "png", "zpl"):
            raise NotFound("labels are CODE.svg, CODE.png or CODE.zpl")
        if not is_valid(code):
            raise NotFound(f"{code!r} is not a label code")
        (content,) = await printing.contents(actor, [code])
        if extension == "svg":
            return Response(svg(content).encode(), media_type="image/svg+xml")
        if extension == "zpl":
            try:
                job = zpl([content], ZplLabel(size, dpi))
            except LabelError as exc:
                raise InvalidInput(str(exc)) from None
            headers = {"Content-Disposition": f'attachment; filename="{code}.zpl"'}
            return Response(job.encode(), media_type="application/x-zpl", headers=headers)
        headers = {"Content-Disposition": f'inline; filename="{code}.png"'}
        return Response(png(content), media_type="image/png", headers=headers)


class PrintRequest(Input, forbid_unknown_fields=True):
    """Labels to print (codes, a shelf, an imported file, a search: any together) as a PDF sheet or a ZPL job."""

    codes: Annotated[list[str], msgspec.Meta(max_length=MAX_JOB)] = msgspec.field(default_factory=list)
    location_id: UUID | None = None
    import_sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")] | None = None
    """Every record one imported file made."""
    search: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    """Every item a search finds: the query string of the weapons page (``q=AK&status=surplus``)."""
    destruction_id: UUID | None = None
    """Every record on a destruction's manifest, after the event's own label (for its crates)."""
    output: Literal["pdf", "zpl"] = "pdf"
    layout: str = "a4-3x7-63.5x38.1"
    start: Annotated[int, msgspec.Meta(ge=1, le=200)] = 1
    size: Stock = "2x1"
    """The stock of a downloaded ZPL job; a job sent to a printer is on the printer's registered stock."""
    dpi: Dpi = 203
    printer_id: UUID | None = None
    """A registered printer of the actor's depots to send the ZPL job to (none: download it)."""
    reason: Annotated[str, msgspec.Meta(max_length=400)] = ""


class Calibration(Input, forbid_unknown_fields=True):
    """Where a layout's printer puts things, in mm right and down."""

    dx_mm: str
    dy_mm: str


class LayoutOut(msgspec.Struct):
    """A sheet layout and its calibration."""

    key: str
    name: str
    per_page: int
    dx_mm: str
    dy_mm: str


async def _codes(printing: LabelPrinting, items: ItemService, actor: Actor, wanted: PrintRequest) -> list[str]:
    codes = [read_code(c) for c in wanted.codes]
    if wanted.destruction_id is not None:
        codes += await printing.manifest_codes(actor, wanted.destruction_id)
    if wanted.location_id is not None:
        codes += await items.location_codes(actor, wanted.location_id)
    if wanted.import_sha256 is not None:
        codes += await items.import_codes(wanted.import_sha256)
    if wanted.search is not None:
        codes += await items.search_codes(actor, item_filters(dict(parse_qsl(wanted.search))), MAX_JOB)
    return list(dict.fromkeys(codes))


async def _print(printing: LabelPrinting, items: ItemService, actor: Actor, wanted: PrintRequest) -> tuple[Response[bytes], int]:
    """The PDF sheet or ZPL job of the labels ``wanted`` names, and how many labels it holds."""
    try:
        codes = await _codes(printing, items, actor, wanted)
    except CodeError as exc:
        raise InvalidInput(str(exc), field="codes") from None
    if wanted.output == "pdf":
        if wanted.printer_id is not None:
            raise InvalidInput("a registered printer takes thermal (ZPL) jobs; print a PDF sheet from the browser", field="printer_id")
        pdf = await printing.sheet(actor, codes, wanted.layout, start=wanted.start, reason=wanted.reason)
        return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": 'inline; filename="labels.pdf"'}), len(codes)
    try:
        stock = ZplLabel(wanted.size, wanted.dpi)
    except LabelError as exc:
        raise InvalidInput(str(exc), field="size") from None
    job = await printing.thermal(actor, codes, stock, reason=wanted.reason, printer_id=wanted.printer_id)
    headers = {"Content-Disposition": 'attachment; filename="labels.zpl"'}
    return Response(job.encode(), media_type="application/x-zpl", headers=headers), len(codes)


class LabelApi(Controller):
    """Print jobs and sheet layouts."""

    path = "/api/labels"
    tags = ["labels"]

    @post("/print", guards=staff, status_code=200, operation_class=file_formats("application/pdf", "application/x-zpl"))
    async def print_labels(
        self,
        data: JSONBody[PrintRequest],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        printing: NamedDependency[LabelPrinting],
    ) -> Response[bytes]:
        """A PDF of label sheets or a ZPL job (sent to the registered printer ``printer_id`` when given); each print is a custody event."""
        job, _labels = await _print(printing, items, actor, data)
        return job

    @get("/layouts")
    async def list_layouts(self, printing: NamedDependency[LabelPrinting]) -> list[LayoutOut]:
        """The sheet layouts in ``labels/`` with their calibration."""
        out = []
        for key, layout in layouts().items():
            dx, dy = await printing.calibration(key)
            out.append(LayoutOut(key, layout.name, layout.per_page, str(dx), str(dy)))
        return out

    @post("/layouts/{key:str}/calibration", guards=[requires(Role.ADMIN)], status_code=200)
    async def calibrate(
        self, key: FromPath[str], data: JSONBody[Calibration], actor: NamedDependency[Actor], printing: NamedDependency[LabelPrinting]
    ) -> LayoutOut:
        """Set a layout's printer calibration from its test print (admins)."""
        dx, dy = await printing.calibrate(actor, key, data.dx_mm, data.dy_mm)
        layout = layouts()[key]
        return LayoutOut(key, layout.name, layout.per_page, str(dx), str(dy))


class PrintPages(Controller):
    """The print form and the test print."""

    path = "/print"
    include_in_schema = False

    @get("/", guards=staff)
    async def form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], printing: NamedDependency[LabelPrinting]
    ) -> Template:
        """Print labels for codes typed or scanned, or for a shelf; on a sheet or a registered thermal printer."""
        values = dict(request.query_params.items())
        return await _form(request, actor, printing, values, error=None)

    @post("/", guards=staff, status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        printing: NamedDependency[LabelPrinting],
    ) -> Response[Any]:
        """The PDF or ZPL, or the form again with what is wrong."""
        values = await form_data(request)
        fields = {k: v for k, v in values.items() if v not in ("", None)}
        fields["codes"] = [line.strip() for line in str(values.get("codes", "")).splitlines() if line.strip()]
        if "printer_id" in fields:  # the printer is chosen under the thermal output: choosing one chooses it
            fields["output"] = "zpl"
        try:
            wanted = convert(fields, PrintRequest)
            job, labels = await _print(printing, items, actor, wanted)
        except CORRECTABLE as exc:
            return await _form(request, actor, printing, values, error=exc)
        if wanted.printer_id is None:
            return job
        printer = await printing.printers.printer(actor, wanted.printer_id)
        sent = f"Sent {labels:,} label{'' if labels == 1 else 's'} to {printer.name}. Scan or type the next codes to print."
        return await _form(request, actor, printing, {"printer_id": str(printer.id), "output": "zpl"}, error=None, sent=sent)

    @get("/test/{key:str}", guards=staff)
    async def test_print(self, key: FromPath[str], printing: NamedDependency[LabelPrinting]) -> Response[bytes]:
        """A test page for a layout: ruler and crosshairs at the labels' corners, with the calibration applied."""
        return Response(await printing.test_print(key), media_type="application/pdf")


async def _form(
    request: Request[Any, Any, Any],
    actor: Actor,
    printing: LabelPrinting,
    values: dict[str, Any],
    *,
    error: InvalidInput | Conflict | None,
    sent: str | None = None,
) -> Template:
    """The print form, offering the active printers of the actor's depots."""
    return page(
        request,
        "labels/print.html",
        status_code=error.status_code if error else 200,
        values=values,
        layouts=layouts(),
        printers=await printing.printers.choices(actor),
        error=error,
        error_field=getattr(error, "field", None),
        sent=sent,
    )
