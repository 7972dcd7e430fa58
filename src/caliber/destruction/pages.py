"""Destruction pages: the list, the plan form, the event page with its actions per role, certificate and manifest files."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.config import Settings
from caliber.destruction.certificate import certificate_pdf
from caliber.destruction.models import EventStatus, LineStatus, Method, Stage
from caliber.destruction.schemas import (
    AttestationInput,
    Completion,
    ManifestChange,
    NewDestruction,
    ObserverInput,
    ResidueCheck,
    Withdrawal,
)
from caliber.destruction.service import MANAGERS, SITE_STAFF, STAFF, WITNESSES, DestructionService
from caliber.destruction.verification import certification, verify_url
from caliber.errors import CORRECTABLE, InvalidInput
from caliber.inventory.items import ItemService
from caliber.inventory.service import InventoryService
from caliber.inventory.work_routes import manifest_lines
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.schemas import convert
from caliber.web import form_data, form_uuid, page

__all__ = ["DestructionPages"]

staff, managers, witnesses, site_staff = (requires(*roles) for roles in (STAFF, MANAGERS, WITNESSES, SITE_STAFF))
DONE = {
    "planned": "Destruction planned. Add the records to destroy.",
    "manifest": "Manifest changed.",
    "approved": "Manifest approved: its hash is on the ledger.",
    "withdrawn": "Withdrawn from the manifest.",
    "attested": "Attestation recorded.",
    "photo": "Photo added.",
    "completed": "Destruction completed.",
    "residue": "Residue check recorded.",
    "certified": "Certificate issued.",
}
PAGE_LINES = 200


class DestructionPages(Controller):
    """``/destructions``: plan, prepare, verify, witness, complete and certify."""

    path = "/destructions"
    include_in_schema = False

    @get("/")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        status: FromQuery[EventStatus | None] = None,
    ) -> Template:
        """Events by status, and those waiting for the witness's attestation."""
        return page(
            request,
            "destruction/list.html",
            events=await destructions.list(actor, status=status),
            waiting=await destructions.waiting_for(actor),
            status=status,
            statuses=list(EventStatus),
            can_plan=actor.role in STAFF,
        )

    @get("/new", guards=[staff])
    async def new_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[InventoryService]
    ) -> Template:
        """The plan form."""
        return await _plan_form(request, actor, inventory, values={}, error=None)

    @post("/new", guards=[staff])
    async def create(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[InventoryService],
        destructions: NamedDependency[DestructionService],
    ) -> Response[Any]:
        """Record the plan."""
        values = await form_data(request, "methods", "observer_name", "observer_organisation")
        try:
            names, organisations = values.get("observer_name", []), values.get("observer_organisation", [])
            observers = [ObserverInput(n.strip(), o.strip()) for n, o in zip(names, organisations, strict=False) if n.strip()]
            fields = {k: v for k, v in values.items() if k not in ("observer_name", "observer_organisation") and v != ""}
            new = convert({**fields, "observers": [], "site_depot_id": values.get("site_depot_id") or None}, NewDestruction)
            new.observers = observers
            event = await destructions.plan(actor, new)
        except CORRECTABLE as exc:
            return await _plan_form(request, actor, inventory, values=values, error=exc.message, status_code=exc.status_code)
        return Redirect(f"/destructions/{event.id}?done=planned")

    @get("/{event_id:uuid}")
    async def show(
        self,
        *,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
        after: FromQuery[str] = "",
        done: FromQuery[str] = "",
    ) -> Template:
        """The event: plan, progress, manifest (a page at a time), witnesses, and the actions the actor may take."""
        return await _event_page(request, actor, destructions, inventory, event_id, after=after, notice=DONE.get(done), error=None)

    @post("/{event_id:uuid}/manifest", guards=[staff])
    async def change_manifest(
        self,
        *,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
        items: NamedDependency[ItemService],
    ) -> Response[Any]:
        """Add records by scanned codes, a location or an import; remove listed ones."""
        values = await form_data(request)
        try:
            codes, parts = manifest_lines(values.get("codes", ""))
            if values.get("location_id"):
                codes += await items.location_codes(actor, form_uuid(values["location_id"], "location_id"))
            if values.get("import_sha256"):
                codes += await items.import_codes(str(values["import_sha256"]).strip().lower())
            removed, _ = manifest_lines(values.get("remove", ""))
            change = ManifestChange(
                add=[c for c in codes if c[0] in "123"],  # records only: a location's own label is left out
                remove=removed,
                lot_parts=parts,
                reason=str(values.get("reason", "")),
                partial=values.get("partial") == "yes",
            )
            report = await destructions.change_manifest(actor, event_id, change)
        except CORRECTABLE as exc:
            return await _event_page(request, actor, destructions, inventory, event_id, error=exc.message, status_code=exc.status_code)
        refused = [f"{r.code}: {r.reason}" for r in report.refused]
        notice = f"{len(report.added)} added, {len(report.removed)} removed." + (f" Refused: {'; '.join(refused[:20])}" if refused else "")
        return await _event_page(request, actor, destructions, inventory, event_id, notice=notice, error=None)

    @post("/{event_id:uuid}/approve", guards=[managers])
    async def approve(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Freeze the manifest."""
        return await _act(request, actor, destructions, inventory, event_id, done="approved", work=destructions.approve(actor, event_id))

    @post("/{event_id:uuid}/withdraw", guards=[managers])
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Take records off the manifest at the site, with a reason."""
        values = await form_data(request)
        try:
            codes, _ = manifest_lines(values.get("codes", ""))
            withdrawal = convert(
                {"codes": codes, "reason": values.get("reason", ""), "missing": values.get("missing") == "yes"}, Withdrawal
            )
        except CORRECTABLE as exc:
            return await _event_page(request, actor, destructions, inventory, event_id, error=exc.message, status_code=exc.status_code)
        return await _act(
            request, actor, destructions, inventory, event_id, done="withdrawn", work=destructions.withdraw(actor, event_id, withdrawal)
        )

    @post("/{event_id:uuid}/attest", guards=[witnesses])
    async def attest(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Attest to the manifest hash shown on the page."""
        values = await form_data(request)
        try:
            attestation = convert(values, AttestationInput)
        except CORRECTABLE as exc:
            return await _event_page(request, actor, destructions, inventory, event_id, error=exc.message, status_code=exc.status_code)
        return await _act(
            request, actor, destructions, inventory, event_id, done="attested", work=destructions.attest(actor, event_id, attestation)
        )

    @post("/{event_id:uuid}/photos", guards=[site_staff])
    async def add_photo(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Upload a photograph before or after (a phone opens its camera)."""
        form = await request.form()
        upload = form.get("photo")
        try:
            if upload is None or isinstance(upload, str):
                raise InvalidInput("choose a photo to upload", field="photo")
            stage = Stage(form.get("stage")) if form.get("stage") in ("before", "after") else None
            if stage is None:
                raise InvalidInput("say whether the photo is from before or after", field="stage")
            content = await upload.read()
        except CORRECTABLE as exc:
            return await _event_page(request, actor, destructions, inventory, event_id, error=exc.message, status_code=exc.status_code)
        work = destructions.add_photo(actor, event_id, stage, content, upload.content_type)
        return await _act(request, actor, destructions, inventory, event_id, done="photo", work=work)

    @post("/{event_id:uuid}/complete", guards=[witnesses])
    async def complete(
        self,
        *,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Record the day's result (times typed in the deployment's time zone)."""
        values = await form_data(request, "methods_used")
        try:
            returned, _ = manifest_lines(values.get("returned", ""))
            completion = Completion(
                methods_used=[Method(m) for m in values.get("methods_used", []) if m in Method.__members__.values()],
                started_at=_local(values.get("started_at"), settings, "started_at"),
                ended_at=_local(values.get("ended_at"), settings, "ended_at"),
                returned=returned,
                reason=str(values.get("reason", "")),
            )
            if not completion.methods_used:
                raise InvalidInput("choose the method used", field="methods_used")
        except CORRECTABLE as exc:
            return await _event_page(request, actor, destructions, inventory, event_id, error=exc.message, status_code=exc.status_code)
        return await _act(
            request, actor, destructions, inventory, event_id, done="completed", work=destructions.complete(actor, event_id, completion)
        )

    @post("/{event_id:uuid}/residue", guards=[witnesses])
    async def residue(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Record the inspection of the residue."""
        values = await form_data(request)
        try:
            check = convert({"notes": values.get("notes", "")}, ResidueCheck)
        except CORRECTABLE as exc:
            return await _event_page(request, actor, destructions, inventory, event_id, error=exc.message, status_code=exc.status_code)
        return await _act(
            request, actor, destructions, inventory, event_id, done="residue", work=destructions.check_residue(actor, event_id, check)
        )

    @post("/{event_id:uuid}/certify", guards=[managers])
    async def certify(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Issue the certificate."""
        return await _act(request, actor, destructions, inventory, event_id, done="certified", work=destructions.certify(actor, event_id))

    @get("/{event_id:uuid}/manifest.csv")
    async def manifest_csv(
        self, event_id: FromPath[UUID], actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]
    ) -> Response[bytes]:
        """The whole manifest with what became of each record."""
        view = await destructions.get(actor, event_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["label_code", "kind", "status", "serial_read", "verified_by", "verified_at", "reason", "missing"])
        after = ""
        while True:
            lines = await destructions.lines(actor, event_id, after=after, limit=5000)
            for x in lines:
                at = x.verified_at.isoformat() if x.verified_at else ""
                writer.writerow([x.code, x.kind, x.status, _cell(x.serial_read), x.verified_by or "", at, _cell(x.reason), x.missing])
            if len(lines) < 5000:
                break
            after = lines[-1].code
        disposition = f"attachment; filename=destruction-{view.event.code}-manifest.csv"
        return Response(out.getvalue().encode(), media_type="text/csv; charset=utf-8", headers={"content-disposition": disposition})

    @get("/{event_id:uuid}/certificate.pdf")
    async def certificate_pdf(
        self,
        *,
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        destructions: NamedDependency[DestructionService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[bytes]:
        """The certificate of destruction, with the ledger checkpoint that covers its certification."""
        view = await destructions.get(actor, event_id)
        found = await certification(ledger, signer, view.event.code)
        draw = functools.partial(certificate_pdf, found.content, found.reference, verify_url(settings.base_url, view.event.code))
        pdf = await anyio.to_thread.run_sync(draw)
        disposition = f"inline; filename=destruction-{view.event.code}-certificate.pdf"
        return Response(pdf, media_type="application/pdf", headers={"content-disposition": disposition})


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _local(raw: Any, settings: Settings, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(raw or ""))
    except ValueError:
        raise InvalidInput("give a date and time", field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.zone)


async def _act(
    request: Request[Any, Any, Any],
    actor: Actor,
    destructions: DestructionService,
    inventory: InventoryService,
    event_id: UUID,
    *,
    done: str,
    work: Any,
) -> Response[Any]:
    try:
        await work
    except CORRECTABLE as exc:
        return await _event_page(request, actor, destructions, inventory, event_id, error=exc.message, status_code=exc.status_code)
    return Redirect(f"/destructions/{event_id}?done={done}")


async def _plan_form(
    request: Request[Any, Any, Any],
    actor: Actor,
    inventory: InventoryService,
    *,
    values: dict[str, Any],
    error: str | None,
    status_code: int = 200,
) -> Template:
    mine = [d for d in await inventory.depots(actor) if d.active]
    every = [d for d in await inventory.all_depots() if d.active]
    return page(
        request, "destruction/form.html", status_code=status_code, mine=mine, every=every, methods=list(Method), values=values, error=error
    )


async def _event_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    destructions: DestructionService,
    inventory: InventoryService,
    event_id: UUID,
    *,
    after: str = "",
    notice: str | None = None,
    error: str | None,
    status_code: int = 200,
) -> Template:
    view = await destructions.get(actor, event_id)
    event = view.event
    status = EventStatus(event.status)
    stage = Stage.AFTER if status is EventStatus.COMPLETED else Stage.BEFORE
    attesting = status in (EventStatus.APPROVED, EventStatus.IN_PROGRESS, EventStatus.COMPLETED)
    depots = {d.id: d for d in await inventory.all_depots()}
    preparing = actor.role in STAFF and actor.can_see_depot(event.depot_id) and status not in (EventStatus.COMPLETED, EventStatus.CERTIFIED)
    return page(
        request,
        "destruction/event.html",
        status_code=status_code if error is None else max(status_code, 400),
        view=view,
        event=event,
        status=status,
        depot=depots.get(event.depot_id),
        site_depot=depots.get(event.site_depot_id) if event.site_depot_id else None,
        lines=await destructions.lines(actor, event_id, after=after, limit=PAGE_LINES),
        page_lines=PAGE_LINES,
        stage=stage,
        current_sha256=await destructions.current_sha256(actor, event_id, stage) if attesting else None,
        shelves=[loc for loc in await inventory.locations(actor, event.depot_id) if loc.active] if preparing else [],
        preparing=preparing,
        can=_abilities(actor, view, status),
        methods=list(Method),
        statuses=LineStatus,
        notice=notice,
        error=error,
    )


def _abilities(actor: Actor, view: Any, status: EventStatus) -> dict[str, bool]:
    at_site = status in (EventStatus.APPROVED, EventStatus.IN_PROGRESS)
    party = actor.id in view.parties
    witness = actor.role in WITNESSES and actor.id is not None and not party
    return {
        "approve": actor.role in MANAGERS and status is EventStatus.PLANNED and view.on_manifest > 0,
        "verify": actor.role in SITE_STAFF and at_site,
        "withdraw": actor.role in MANAGERS and at_site,
        "attest": witness and (at_site or status is EventStatus.COMPLETED),
        "photos": actor.role in SITE_STAFF and (at_site or status is EventStatus.COMPLETED),
        "complete": actor.role in WITNESSES and status is EventStatus.IN_PROGRESS,
        "residue": witness and status is EventStatus.COMPLETED and not view.event.residue_verified_by,
        "certify": actor.role in MANAGERS and status is EventStatus.COMPLETED and bool(view.event.residue_verified_by),
    }
