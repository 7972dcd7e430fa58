"""The destruction API: plan, manifest, site checks, attestations, completion, certificate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.destruction.models import EventStatus, LineStatus, Stage
from caliber.destruction.queries import EventView
from caliber.destruction.rules import MANAGERS, SITE_STAFF, STAFF, WITNESSES
from caliber.destruction.schemas import AttestationInput, Completion, ManifestChange, NewDestruction, ResidueCheck, Verification, Withdrawal
from caliber.destruction.service import DestructionService
from caliber.errors import InvalidInput

__all__ = ["DestructionApi", "EventOut", "event_out"]

staff = [requires(*STAFF)]
managers = [requires(*MANAGERS)]
witnesses = [requires(*WITNESSES)]
site_staff = [requires(*SITE_STAFF)]
MAX_PHOTO_BODY = 20 * 1024 * 1024


class AttestationOut(msgspec.Struct):
    """A witness's attestation."""

    name: str
    role: str
    stage: str
    manifest_sha256: str
    attested_at: dt.datetime
    statement: str


class EventOut(msgspec.Struct):
    """A destruction event and where it stands."""

    id: UUID
    code: str
    status: str
    site_name: str
    site_address: str
    planned_date: dt.date
    methods: list[str]
    authority_number: str
    authority_date: dt.date
    organiser: str
    required_witnesses: int
    manifest_sha256: str | None
    approved_by: str | None
    counts: dict[str, int]
    on_manifest: int
    remaining: int
    observers: list[dict[str, str]]
    attestations: list[AttestationOut]
    photos: list[dict[str, str]]
    methods_used: list[str]
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    residue_checked_by: str | None
    certificate_sha256: str | None


class LineOut(msgspec.Struct):
    """One record on a manifest."""

    code: str
    kind: str
    status: str
    serial_read: str
    verified_by: str | None
    verified_at: dt.datetime | None
    reason: str
    missing: bool


class RefusalOut(msgspec.Struct):
    """A record that could not join, and why."""

    code: str
    reason: str


class ManifestOut(msgspec.Struct):
    """What a manifest change did."""

    added: list[str]
    removed: list[str]
    refused: list[RefusalOut]


class VerifiedOut(msgspec.Struct):
    """Records newly verified, and the event's counts after."""

    verified: list[str]
    counts: dict[str, int]
    remaining: int


class CertifiedOut(msgspec.Struct):
    """The certificate's hash, as the ledger carries it."""

    certificate_sha256: str


def event_out(view: EventView) -> EventOut:
    """An event as the API shows it."""
    e = view.event
    return EventOut(
        id=e.id,
        code=e.code,
        status=e.status,
        site_name=e.site_name,
        site_address=e.site_address,
        planned_date=e.planned_date,
        methods=e.methods.split(","),
        authority_number=e.authority_number,
        authority_date=e.authority_date,
        organiser=e.organiser,
        required_witnesses=e.required_witnesses,
        manifest_sha256=e.manifest_sha256,
        approved_by=e.approved_by,
        counts=view.counts,
        on_manifest=view.on_manifest,
        remaining=view.remaining,
        observers=[{"name": o.name, "organisation": o.organisation} for o in view.observers],
        attestations=[AttestationOut(a.name, a.role, a.stage, a.manifest_sha256, a.attested_at, a.statement) for a in view.attestations],
        photos=[{"sha256": p.sha256, "stage": p.stage} for p in view.photos],
        methods_used=e.method_used.split(",") if e.method_used else [],
        started_at=e.started_at,
        ended_at=e.ended_at,
        residue_checked_by=e.residue_verified_by,
        certificate_sha256=e.certificate_sha256,
    )


class DestructionApi(Controller):
    """Destruction events."""

    path = "/api/destructions"
    tags = ["destruction"]

    @post("/", guards=staff, status_code=HTTP_201_CREATED)
    async def plan(
        self, data: JSONBody[NewDestruction], actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]
    ) -> EventOut:
        """Plan a destruction event (it gets a label code)."""
        event = await destructions.plan(actor, data)
        return event_out(await destructions.get(actor, event.id))

    @get("/")
    async def list_events(
        self, actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService], status: FromQuery[EventStatus | None] = None
    ) -> list[EventOut]:
        """Events the caller may see, newest first (counts on each event's own read)."""
        return [
            event_out(EventView(e, {}, [], [], [], set()))
            for e in await destructions.list(actor, status=status)  # a list shows no counts: read the event for them
        ]

    @get("/waiting")
    async def waiting(self, actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]) -> list[EventOut]:
        """Events waiting for the caller's attestation."""
        return [event_out(EventView(e, {}, [], [], [], set())) for e in await destructions.waiting_for(actor)]

    @get("/{event_id:uuid}")
    async def get_event(
        self, event_id: FromPath[UUID], actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]
    ) -> EventOut:
        """One event with its counts, observers, attestations and photos."""
        return event_out(await destructions.get(actor, event_id))

    @get("/{event_id:uuid}/manifest")
    async def manifest(
        self,
        *,
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        status: FromQuery[LineStatus | None] = None,
        after: Annotated[str, QueryParameter(max_length=10)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=5000)] = 500,
    ) -> list[LineOut]:
        """Manifest lines by label code; page on with ``after`` = the last code."""
        lines = await destructions.lines(actor, event_id, status=status, after=after, limit=limit)
        return [LineOut(x.code, x.kind, x.status, x.serial_read, x.verified_by, x.verified_at, x.reason, x.missing) for x in lines]

    @post("/{event_id:uuid}/manifest", guards=staff, status_code=200)
    async def change_manifest(
        self,
        event_id: FromPath[UUID],
        data: JSONBody[ManifestChange],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
    ) -> ManifestOut:
        """Add or remove records; a change after approval is an amendment (a reason; approval again)."""
        report = await destructions.change_manifest(actor, event_id, data)
        return ManifestOut(report.added, report.removed, [RefusalOut(r.code, r.reason) for r in report.refused])

    @post("/{event_id:uuid}/approve", guards=managers, status_code=200)
    async def approve(
        self, event_id: FromPath[UUID], actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]
    ) -> EventOut:
        """Freeze the manifest: its hash goes on the ledger."""
        await destructions.approve(actor, event_id)
        return event_out(await destructions.get(actor, event_id))

    @post("/{event_id:uuid}/verify", guards=site_staff, status_code=200)
    async def verify(
        self,
        event_id: FromPath[UUID],
        data: JSONBody[Verification],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
    ) -> VerifiedOut:
        """Check records at the site (label scanned, serial read)."""
        fresh = await destructions.verify(actor, event_id, data)
        view = await destructions.get(actor, event_id)
        return VerifiedOut(fresh, view.counts, view.remaining)

    @post("/{event_id:uuid}/withdraw", guards=managers, status_code=200)
    async def withdraw(
        self,
        event_id: FromPath[UUID],
        data: JSONBody[Withdrawal],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
    ) -> EventOut:
        """Take records off the manifest at the site, with why (``missing``: report them missing)."""
        await destructions.withdraw(actor, event_id, data)
        return event_out(await destructions.get(actor, event_id))

    @get("/{event_id:uuid}/attestation")
    async def to_attest(
        self,
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        stage: FromQuery[Stage] = Stage.BEFORE,
    ) -> dict[str, str]:
        """The manifest hash a witness attests to now, for ``stage``."""
        return {"stage": stage.value, "manifest_sha256": await destructions.current_sha256(actor, event_id, stage)}

    @post("/{event_id:uuid}/attest", guards=witnesses, status_code=200)
    async def attest(
        self,
        event_id: FromPath[UUID],
        data: JSONBody[AttestationInput],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
    ) -> EventOut:
        """Attest, naming the manifest hash you were shown."""
        await destructions.attest(actor, event_id, data)
        return event_out(await destructions.get(actor, event_id))

    @post("/{event_id:uuid}/photos", guards=site_staff, status_code=HTTP_201_CREATED, request_max_body_size=MAX_PHOTO_BODY)
    async def add_photo(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
        stage: FromQuery[Stage],
    ) -> dict[str, str]:
        """A photograph before or after destruction (the body is the image; JPEG, PNG or WebP)."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        body = await request.body()
        if not body:
            raise InvalidInput("the photo is empty", field="photo")
        return {"sha256": await destructions.add_photo(actor, event_id, stage, body, content_type)}

    @post("/{event_id:uuid}/complete", guards=witnesses, status_code=200)
    async def complete(
        self,
        event_id: FromPath[UUID],
        data: JSONBody[Completion],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
    ) -> EventOut:
        """Record the day's result."""
        await destructions.complete(actor, event_id, data)
        return event_out(await destructions.get(actor, event_id))

    @post("/{event_id:uuid}/residue", guards=witnesses, status_code=200)
    async def residue(
        self,
        event_id: FromPath[UUID],
        data: JSONBody[ResidueCheck],
        actor: NamedDependency[Actor],
        destructions: NamedDependency[DestructionService],
    ) -> EventOut:
        """Record the inspection of the residue."""
        await destructions.check_residue(actor, event_id, data)
        return event_out(await destructions.get(actor, event_id))

    @post("/{event_id:uuid}/certify", guards=managers, status_code=200)
    async def certify(
        self, event_id: FromPath[UUID], actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]
    ) -> CertifiedOut:
        """Issue the certificate: its statement's SHA-256 goes on the ledger."""
        return CertifiedOut(await destructions.certify(actor, event_id))

    @get("/{event_id:uuid}/certificate.json")
    async def certificate_json(
        self, event_id: FromPath[UUID], actor: NamedDependency[Actor], destructions: NamedDependency[DestructionService]
    ) -> Response[bytes]:
        """The certificate's statement as canonical JSON: the bytes whose SHA-256 the ledger carries."""
        content = await destructions.certificate(actor, event_id)
        return Response(content, media_type="application/json", headers={"content-disposition": "attachment; filename=certificate.json"})
