"""Destruction pages: the list, the plan form, the event page with its actions per role, certificate and manifest files."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream, Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.config import Settings
from caliber.depots.service import DepotService
from caliber.destruction.certificate import certificate_pdf, signatories
from caliber.destruction.export import manifest_rows
from caliber.destruction.manifest import ManifestRefused, Refusal
from caliber.destruction.models import EventStatus, LineStatus, Method, Stage
from caliber.destruction.rules import MANAGERS, SITE_STAFF, STAFF, WITNESSES
from caliber.destruction.schemas import (
    AttestationInput,
    Completion,
    ManifestChange,
    NewDestruction,
    ObserverInput,
    ResidueCheck,
    Withdrawal,
)
from caliber.destruction.service import DestructionService
from caliber.destruction.verification import certification, verify_url
from caliber.errors import CORRECTABLE, CaliberError, InvalidInput
from caliber.items.service import ItemService
from caliber.labels.codes import kind_of
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.schemas import convert
from caliber.transfers.service import manifest_lines
from caliber.web import csv_stream, form_data, form_uuid, page

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
REFUSED = "Nothing was changed: the lines below cannot be added. Correct them, or tick “Add what can be added” to add the rest."


@dataclass(frozen=True)
class Scene:
    """One action on an event page: who, on which event, and the page to answer with."""

    request: Request[Any, Any, Any]
    actor: Actor
    destructions: DestructionService
    inventory: DepotService
    event_id: UUID
    sent: dict[str, Any] = field(default_factory=dict)

    async def form(self, *lists: str) -> dict[str, Any]:
        """The submitted form (kept, so a refusal shows it again as typed)."""
        self.sent.clear()
        self.sent.update(await form_data(self.request, *lists))
        return self.sent

    async def act(self, work: Callable[[], Awaitable[Any]], *, done: str = "", stay: bool = False) -> Response[Any]:
        """Do ``work``; go back to the event (``?done=``), or show the page with what ``work`` returned (``stay``) or what was wrong."""
        try:
            said = await work()
        except CORRECTABLE as exc:
            return await self.page(error=exc, status_code=exc.status_code, sent=done, sent_values=self.sent)
        if stay:
            return await self.page(notice=said)
        return Redirect(f"/destructions/{self.event_id}?done={done}")

    async def page(self, **context: Any) -> Template:
        """The event page."""
        return await _event_page(self.request, self.actor, self.destructions, self.inventory, self.event_id, **context)


async def scene(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    destructions: NamedDependency[DestructionService],
    inventory: NamedDependency[DepotService],
    event_id: FromPath[UUID],
) -> Scene:
    """The scene of an action route (a dependency)."""
    return Scene(request, actor, destructions, inventory, event_id)


class DestructionPages(Controller):
    """``/destructions``: plan, prepare, verify, witness, complete and certify."""

    path = "/destructions"
    include_in_schema = False
    dependencies = {"scene": Provide(scene)}

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
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Template:
        """The plan form."""
        return await _plan_form(request, actor, inventory, values={}, error=None)

    @post("/new", guards=[staff])
    async def create(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
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
            return await _plan_form(request, actor, inventory, values=values, error=exc, status_code=exc.status_code)
        return Redirect(f"/destructions/{event.id}?done=planned")

    @get("/{event_id:uuid}")
    async def show(
        self,
        *,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        inventory: NamedDependency[DepotService],
        after: FromQuery[str] = "",
        done: FromQuery[str] = "",
    ) -> Template:
        """The event: plan, progress, manifest (a page at a time), witnesses, and the actions the actor may take."""
        return await _event_page(request, actor, destructions, inventory, event_id, after=after, notice=DONE.get(done), error=None)

    @post("/{event_id:uuid}/manifest", guards=[staff])
    async def change_manifest(self, scene: NamedDependency[Scene], items: NamedDependency[ItemService]) -> Response[Any]:
        """Add records by scanned codes, a location or an import; remove listed ones.

        Lines that cannot be added stay in the box as typed, each refusal listed with its reason: with "add what can
        be added" the rest is added, without it nothing is.
        """
        values = await scene.form()
        actor = scene.actor
        try:
            shelf: list[str] = []
            if values.get("location_id"):
                shelf = await items.location_codes(actor, form_uuid(values["location_id"], "location_id"))
            imported = await items.import_codes(str(values["import_sha256"]).strip().lower()) if values.get("import_sha256") else []
            removed, _ = manifest_lines(values.get("remove", ""))
            change = ManifestChange(
                add=[c for c in shelf if kind_of(c) != "location"] + imported,  # not the shelf's own label
                lines=str(values.get("codes", "")).splitlines(),
                remove=removed,
                reason=str(values.get("reason", "")),
                partial=values.get("partial") == "yes",
            )
            report = await scene.destructions.change_manifest(actor, scene.event_id, change)
        except ManifestRefused as exc:
            return await scene.page(error=REFUSED, refused=exc.refused, values=values, status_code=exc.status_code)
        except CORRECTABLE as exc:
            return await scene.page(error=exc, values=values, status_code=exc.status_code)
        typed = {line.strip() for line in change.lines}
        kept = "\n".join(r.code for r in report.refused if r.code in typed)
        notice = f"Added {len(report.added)}." + (f" Removed {len(report.removed)}." if report.removed else "")
        return await scene.page(notice=notice, refused=report.refused, values={"codes": kept, "partial": values.get("partial")})

    @post("/{event_id:uuid}/approve", guards=[managers])
    async def approve(self, scene: NamedDependency[Scene]) -> Response[Any]:
        """Freeze the manifest."""
        return await scene.act(lambda: scene.destructions.approve(scene.actor, scene.event_id), done="approved")

    @post("/{event_id:uuid}/withdraw", guards=[managers])
    async def withdraw(self, scene: NamedDependency[Scene]) -> Response[Any]:
        """Take records off the manifest at the site, with a reason."""
        values = await scene.form()

        async def work() -> None:
            codes, _ = manifest_lines(values.get("codes", ""))
            fields = {"codes": codes, "reason": values.get("reason", ""), "missing": values.get("missing") == "yes"}
            await scene.destructions.withdraw(scene.actor, scene.event_id, convert(fields, Withdrawal))

        return await scene.act(work, done="withdrawn")

    @post("/{event_id:uuid}/attest", guards=[witnesses])
    async def attest(self, scene: NamedDependency[Scene]) -> Response[Any]:
        """Attest to the manifest hash shown on the page."""
        values = await scene.form()
        return await scene.act(
            lambda: scene.destructions.attest(scene.actor, scene.event_id, convert(values, AttestationInput)), done="attested"
        )

    @post("/{event_id:uuid}/photos", guards=[site_staff])
    async def add_photo(self, scene: NamedDependency[Scene]) -> Response[Any]:
        """Upload a photograph before or after (a phone opens its camera)."""
        form = await scene.request.form()

        async def work() -> None:
            upload = form.get("photo")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("choose a photo to upload", field="photo")
            stage = form.get("stage")
            if stage not in ("before", "after"):
                raise InvalidInput("say whether the photo is from before or after", field="stage")
            content = await upload.read()
            await scene.destructions.add_photo(scene.actor, scene.event_id, Stage(stage), content, upload.content_type)

        return await scene.act(work, done="photo")

    @post("/{event_id:uuid}/complete", guards=[witnesses])
    async def complete(self, scene: NamedDependency[Scene], settings: NamedDependency[Settings]) -> Response[Any]:
        """Record the day's result (times typed in the deployment's time zone)."""
        values = await scene.form("methods_used")

        async def work() -> None:
            returned, _ = manifest_lines(values.get("returned", ""))
            methods = [Method(m) for m in values.get("methods_used", []) if m in Method.__members__.values()]
            if not methods:
                raise InvalidInput("choose the method used", field="methods_used")
            started, ended = (_local(values.get(name), settings, name) for name in ("started_at", "ended_at"))
            completion = Completion(methods, started, ended, returned=returned, reason=str(values.get("reason", "")))
            await scene.destructions.complete(scene.actor, scene.event_id, completion)

        return await scene.act(work, done="completed")

    @post("/{event_id:uuid}/residue", guards=[witnesses])
    async def residue(self, scene: NamedDependency[Scene]) -> Response[Any]:
        """Record the inspection of the residue."""
        values = await scene.form()
        check = {"notes": values.get("notes", "")}
        return await scene.act(
            lambda: scene.destructions.check_residue(scene.actor, scene.event_id, convert(check, ResidueCheck)), done="residue"
        )

    @post("/{event_id:uuid}/certify", guards=[managers])
    async def certify(self, scene: NamedDependency[Scene]) -> Response[Any]:
        """Issue the certificate."""
        return await scene.act(lambda: scene.destructions.certify(scene.actor, scene.event_id), done="certified")

    @get("/{event_id:uuid}/transfer", guards=[staff])
    async def transfer_form(self, scene: NamedDependency[Scene]) -> Template:
        """The transfer form filled in: the manifest's records, from the organising depot to the site depot, to seal and send."""
        view = await scene.destructions.get(scene.actor, scene.event_id)
        if view.event.site_depot_id is None:
            raise InvalidInput("the site is not a depot: records travel there outside Caliber's transfers")
        listed = [line.code for line in await scene.destructions.lines(scene.actor, scene.event_id, status=LineStatus.LISTED, limit=30_000)]
        values = {
            "from_depot_id": str(view.event.depot_id),
            "to_depot_id": str(view.event.site_depot_id),
            "codes": "\n".join(listed),
            "notes": f"to destruction {view.event.code} at {view.event.site_name}",
        }
        mine = [d for d in await scene.inventory.depots(scene.actor) if d.active]
        every = [d for d in await scene.inventory.all_depots() if d.active]
        return page(scene.request, "inventory/transfer_form.html", mine=mine, every=every, values=values, error=None)

    @get("/{event_id:uuid}/manifest.csv")
    async def manifest_csv(
        self, event_id: FromPath[UUID], actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]
    ) -> Stream:
        """The whole manifest, each record described (serial, maker, lot number, mass) with what became of it, streamed."""
        view = await destructions.get(actor, event_id)
        return csv_stream(manifest_rows(destructions, actor, event_id), f"destruction-{view.event.code}-manifest.csv")

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
        async with ledger.db.read() as session:
            people = await signatories(session, view.event.id)
        url = verify_url(settings.base_url, view.event.code)
        draw = functools.partial(
            certificate_pdf, found.content, found.reference, url, people=people, zone=settings.zone, log_key=signer.vkey
        )
        pdf = await anyio.to_thread.run_sync(draw)
        disposition = f"inline; filename=destruction-{view.event.code}-certificate.pdf"
        return Response(pdf, media_type="application/pdf", headers={"content-disposition": disposition})


def _local(raw: Any, settings: Settings, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(raw or ""))
    except ValueError:
        raise InvalidInput("give a date and time", field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.zone)


async def _plan_form(
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
    return page(
        request, "destruction/form.html", status_code=status_code, mine=mine, every=every, methods=list(Method), values=values, error=error
    )


async def _event_page(
    request: Request[Any, Any, Any],
    actor: Actor,
    destructions: DestructionService,
    inventory: DepotService,
    event_id: UUID,
    *,
    after: str = "",
    notice: str | None = None,
    error: CaliberError | str | None = None,
    refused: Sequence[Refusal] = (),
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    sent: str = "",
    sent_values: dict[str, Any] | None = None,
) -> Template:
    view = await destructions.get(actor, event_id)
    event = view.event
    status = EventStatus(event.status)
    stage = Stage.AFTER if status is EventStatus.COMPLETED else Stage.BEFORE
    attesting = status in (EventStatus.APPROVED, EventStatus.IN_PROGRESS, EventStatus.COMPLETED)
    current_sha256 = await destructions.current_sha256(actor, event_id, stage) if attesting else None
    mine = view.attestation_by(actor.id, stage, current_sha256) if current_sha256 else None
    depots = {d.id: d for d in await inventory.all_depots()}
    steps = {step.name: step for step in destructions.next_steps(actor, view, current_sha256, mine)}
    preparing = steps["manifest"].allowed
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
        current_sha256=current_sha256,
        mine=mine,
        local=destructions.local,
        shelves=[loc for loc in await inventory.locations(actor, event.depot_id) if loc.active] if preparing else [],
        preparing=preparing,
        can={name: step.allowed for name, step in steps.items()},
        steps=steps,
        methods=list(Method),
        statuses=LineStatus,
        notice=notice,
        error=error,
        refused=refused,
        values=values or {},
        sent=sent,
        sent_values=sent_values or {},
    )
