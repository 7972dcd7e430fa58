"""Import pages (upload, check report, progress) and the import API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, CaliberError, InvalidInput
from caliber.imports.importer import SHEETS, blank_template_csv, blank_template_xlsx
from caliber.imports.service import MAX_UPLOAD_BYTES, ImportJobs, ImportStatus
from caliber.items.access import DEPOT_STAFF
from caliber.web import page

__all__ = ["ImportApi", "ImportPages"]

staff = [requires(*DEPOT_STAFF)]
TemplateKind = Literal["weapons", "lots"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 200


class RowErrorOut(msgspec.Struct):
    """One bad cell."""

    row: int
    column: str
    reason: str


class ImportOut(msgspec.Struct):
    """An uploaded file: its check report and how far its import has come."""

    sha256: str
    filename: str
    depot: str
    rows: int
    valid: int
    error_count: int
    errors: list[RowErrorOut]
    imported: int
    running: bool
    done: bool
    failure: str | None


def import_out(status: ImportStatus) -> ImportOut:
    """An import as the API shows it."""
    errors = [RowErrorOut(e.row, e.column, e.reason) for e in status.errors]
    return ImportOut(
        status.sha256,
        status.filename,
        status.depot,
        status.rows,
        status.valid,
        status.error_count,
        errors,
        status.imported,
        status.running,
        status.done,
        status.failure,
    )


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(1 << 20):
        yield chunk


class ImportPages(Controller):
    """Upload a file, read its check report, import it and watch the progress."""

    path = "/imports"
    include_in_schema = False

    @get("/", guards=staff)
    async def upload_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Template:
        """The upload form and the template's columns."""
        return await _upload_page(request, actor, inventory, error=None)

    @post("/", guards=staff, request_max_body_size=MAX_UPLOAD_BYTES)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
        imports: NamedDependency[ImportJobs],
    ) -> Response[Any]:
        """Store and check the file; show its report."""
        form = await request.form()
        upload = form.get("file")
        depot = str(form.get("depot") or "")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("choose a CSV or XLSX file", field="file")
            status = await imports.receive(actor, depot, upload.filename, _upload_chunks(upload))
        except CORRECTABLE as exc:
            return await _upload_page(request, actor, inventory, error=exc, status_code=exc.status_code)
        return Redirect(f"/imports/{status.sha256}")

    @get("/template.csv", media_type="text/csv")
    async def template_csv(self, kind: FromQuery[TemplateKind] = "weapons") -> Response[str]:
        """The import template as CSV (``?kind=lots`` for ammunition lots)."""
        headers = {"Content-Disposition": f'attachment; filename="caliber-{kind}-template.csv"'}
        return Response(blank_template_csv(kind), media_type="text/csv; charset=utf-8", headers=headers)

    @get("/template.xlsx", media_type=XLSX)
    async def template_xlsx(self, kind: FromQuery[TemplateKind] = "weapons") -> Response[bytes]:
        """The import template as an XLSX workbook, with a sheet explaining the columns (``?kind=lots`` for lots)."""
        headers = {"Content-Disposition": f'attachment; filename="caliber-{kind}-template.xlsx"'}
        return Response(blank_template_xlsx(kind), media_type=XLSX, headers=headers)

    @get("/{sha256:str}", guards=staff)
    async def report(
        self, request: Request[Any, Any, Any], sha256: FromPath[str], actor: NamedDependency[Actor], imports: NamedDependency[ImportJobs]
    ) -> Template:
        """The check report, the import buttons, and the progress once started."""
        status = await imports.status(actor, sha256)
        return page(request, "inventory/import.html", status=status, errors=status.errors[:ERRORS_SHOWN], error=None)

    @get("/{sha256:str}/progress", guards=staff)
    async def progress(
        self, request: Request[Any, Any, Any], sha256: FromPath[str], actor: NamedDependency[Actor], imports: NamedDependency[ImportJobs]
    ) -> Template:
        """The progress bar alone (the page polls it while the import runs)."""
        return page(request, "inventory/_import_progress.html", status=await imports.status(actor, sha256))

    @post("/{sha256:str}/run", guards=staff)
    async def run(
        self, request: Request[Any, Any, Any], sha256: FromPath[str], actor: NamedDependency[Actor], imports: NamedDependency[ImportJobs]
    ) -> Response[Any]:
        """Start importing; back to the report, which shows the progress."""
        form = await request.form()
        try:
            await imports.start(actor, sha256, valid_only=form.get("valid_only") == "yes")
        except CORRECTABLE as exc:
            status = await imports.status(actor, sha256)
            return page(
                request,
                "inventory/import.html",
                status_code=exc.status_code,
                status=status,
                errors=status.errors[:ERRORS_SHOWN],
                error=exc,
            )
        return Redirect(f"/imports/{sha256}")


async def _upload_page(
    request: Request[Any, Any, Any], actor: Actor, inventory: DepotService, *, error: CaliberError | str | None, status_code: int = 200
) -> Template:
    depots = [d for d in await inventory.depots(actor) if d.active]
    sheets = [(sheet.kind, [(name, name in sheet.required, sheet.help[name]) for name in sheet.columns]) for sheet in SHEETS.values()]
    return page(request, "inventory/imports.html", status_code=status_code, depots=depots, sheets=sheets, error=error)


class ImportApi(Controller):
    """Import weapons from CSV or XLSX: upload (checked at once), start, poll."""

    path = "/api/imports"
    tags = ["imports"]

    @post("/", guards=staff, status_code=HTTP_201_CREATED, request_max_body_size=MAX_UPLOAD_BYTES)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        imports: NamedDependency[ImportJobs],
        depot: FromQuery[str],
        filename: FromQuery[str] = "upload.csv",
    ) -> ImportOut:
        """Send the file as the request body; the answer is its check report (row, column and reason of each bad cell)."""
        return import_out(await imports.receive(actor, depot, filename, request.stream()))

    @get("/{sha256:str}", guards=staff)
    async def status(self, sha256: FromPath[str], actor: NamedDependency[Actor], imports: NamedDependency[ImportJobs]) -> ImportOut:
        """The check report and the progress of the import."""
        return import_out(await imports.status(actor, sha256))

    @post("/{sha256:str}/run", guards=staff, status_code=HTTP_202_ACCEPTED)
    async def run(
        self,
        sha256: FromPath[str],
        actor: NamedDependency[Actor],
        imports: NamedDependency[ImportJobs],
        valid_only: FromQuery[bool] = False,
    ) -> ImportOut:
        """Start importing the valid rows (all must be valid unless ``valid_only``); poll the status for progress."""
        return import_out(await imports.start(actor, sha256, valid_only=valid_only))
