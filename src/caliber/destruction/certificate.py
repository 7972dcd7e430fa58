"""The certificate of destruction: what it states, as canonical JSON whose SHA-256 the certification event carries.

The certificate's statement is computed from the records (never typed in):
the event, the legal authority, the witnesses and observers with the time of
each attestation, photo hashes, counts by type and the full list of serial
numbers (ammunition by lot, quantity and mass). Its bytes are RFC 8785, so
anyone can hash the JSON and find that hash in the ledger's
``destruction.certified`` events; the PDF prints the same statement.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Spacer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.models import User
from caliber.destruction.models import Attestation, DestructionEvent, DestructionPhoto, LineStatus, ManifestLine, Observer
from caliber.items.queries import records_by_code
from caliber.items.records import kilograms
from caliber.labels.codes import format_code
from caliber.labels.qr import matrix
from caliber.labels.sheets import BOLD, FONT, draw_qr, register_fonts
from caliber.ledger import canonical
from caliber.pdf import MONO, Cell, Grid, NumberedCanvas, wrap
from caliber.times import written_date, written_time

__all__ = [
    "FORMAT",
    "LedgerReference",
    "Person",
    "Signatories",
    "certificate_bytes",
    "certificate_pdf",
    "certificate_sha256",
    "signatories",
    "statement",
]

FORMAT = "caliber-destruction-certificate/v1"
DESTROYED = (LineStatus.DESTROYED.value, LineStatus.RESIDUE_VERIFIED.value, LineStatus.CERTIFIED.value)


def _when(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


async def statement(session: AsyncSession, event_id: UUID) -> dict[str, Any]:
    """What the certificate of ``event_id`` states (the same before and after certification)."""
    event = await session.get(DestructionEvent, event_id)
    if event is None:
        raise LookupError(f"no destruction event {event_id}")
    query = select(ManifestLine.code).where(ManifestLine.event_id == event_id, ManifestLine.status.in_(DESTROYED))
    codes = list(await session.scalars(query.order_by(ManifestLine.code)))
    records = await records_by_code(session, codes)
    weapons, ammunition = [], []
    for code in codes:
        kind, record = records[code]
        if kind == "item":
            weapons.append(
                {
                    "code": code,
                    "kind": record.kind,
                    "type": record.component_type or record.un_type,
                    "manufacturer": record.manufacturer,
                    "model": record.model,
                    "calibre": record.calibre,
                    "serial": record.serial,
                }
            )
        else:
            ammunition.append(
                {
                    "code": code,
                    "lot_number": record.lot_number,
                    "calibre": record.calibre,
                    "nature": record.nature,
                    "quantity": record.quantity,
                    "gross_mass_kg": kilograms(record.gross_mass_g),
                    "net_explosive_mass_kg": kilograms(record.net_explosive_mass_g),
                }
            )
    attestations = await session.scalars(select(Attestation).where(Attestation.event_id == event_id))
    observers = await session.scalars(select(Observer).where(Observer.event_id == event_id).order_by(Observer.position))
    photos = await session.scalars(select(DestructionPhoto).where(DestructionPhoto.event_id == event_id))
    return {
        "format": FORMAT,
        "event": event.code,
        "site": {"name": event.site_name, "address": event.site_address},
        "planned_date": event.planned_date.isoformat(),
        "started_at": _when(event.started_at),
        "ended_at": _when(event.ended_at),
        "methods": event.method_used.split(",") if event.method_used else [],
        "legal_authority": {"number": event.authority_number, "date": event.authority_date.isoformat()},
        "organiser": event.organiser,
        "approved_by": event.approved_by,
        "residue_checked_by": event.residue_verified_by,
        "residue_notes": event.residue_notes,
        "witnesses": sorted(
            (
                {
                    "name": a.name,
                    "role": a.role,
                    "stage": a.stage,
                    "attested_at": _when(a.attested_at),
                    "manifest_sha256": a.manifest_sha256,
                }
                for a in attestations
            ),
            key=lambda a: (a["attested_at"], a["name"]),
        ),
        "observers": [{"name": o.name, "organisation": o.organisation} for o in observers],
        "photos": sorted(({"stage": p.stage, "sha256": p.sha256} for p in photos), key=lambda p: (p["stage"], p["sha256"])),
        "counts": {
            "weapons_by_type": dict(sorted(Counter(w["type"] for w in weapons).items())),
            "ammunition_lots": len(ammunition),
            "ammunition_pieces": sum(int(a["quantity"]) for a in ammunition),
        },
        "weapons": weapons,
        "ammunition": ammunition,
    }


def certificate_bytes(content: dict[str, Any]) -> bytes:
    """The statement as canonical JSON (RFC 8785): the bytes that are hashed."""
    return canonical.encode(content)


def certificate_sha256(content: dict[str, Any]) -> str:
    """The hash the certification events carry."""
    return hashlib.sha256(certificate_bytes(content)).hexdigest()


@dataclass(frozen=True)
class LedgerReference:
    """Where the certification sits in the ledger: the entry, and the checkpoint and proof that cover it."""

    origin: str
    index: int
    size: int
    root_b64: str
    proof_b64: list[str]


@dataclass(frozen=True)
class Person:
    """Someone the certificate names: full name and role, with the username their acts are recorded under."""

    name: str
    role: str
    username: str

    def __str__(self) -> str:
        role = f", {self.role.replace('_', ' ')}" if self.role else ""
        reference = f" ({self.username})" if self.username and self.username != self.name else ""
        return f"{self.name}{role}{reference}"


@dataclass(frozen=True)
class Signatories:
    """Who approved, checked and attested, by full name: read for the PDF only (the statement keeps what it recorded)."""

    users: dict[str, Person] = field(default_factory=dict)
    """By username."""
    witnesses: dict[tuple[str, str | None, str], str] = field(default_factory=dict)
    """Usernames by attestation (stage, time, name as the statement gives them)."""

    def user(self, username: str | None) -> str:
        """``username`` as full name, role and username (the username alone if no user has it)."""
        if not username:
            return "not recorded"
        return str(self.users.get(username, Person(username, "", username)))

    def witness(self, attestation: dict[str, Any]) -> str:
        """The witness of a statement's ``attestation`` as full name, role and username."""
        key = (attestation["stage"], attestation["attested_at"], attestation["name"])
        return str(Person(attestation["name"], attestation["role"], self.witnesses.get(key, "")))


async def signatories(session: AsyncSession, event_id: UUID) -> Signatories:
    """The people the certificate of ``event_id`` names, with their usernames, for its PDF."""
    event = await session.get(DestructionEvent, event_id)
    if event is None:
        raise LookupError(f"no destruction event {event_id}")
    attested = await session.execute(
        select(Attestation.stage, Attestation.attested_at, Attestation.name, User.username)
        .join(User, User.id == Attestation.user_id)
        .where(Attestation.event_id == event_id)
    )
    usernames = [u for u in (event.approved_by, event.residue_verified_by) if u]
    users = await session.execute(select(User.username, User.display_name, User.role).where(User.username.in_(usernames)))
    return Signatories(
        users={username: Person(name, role, username) for username, name, role in users},
        witnesses={(stage, _when(at), name): username for stage, at, name, username in attested},
    )


def _date(iso: str) -> str:
    return written_date(dt.date.fromisoformat(iso))


def _time(iso: str | None, zone: dt.tzinfo) -> str:
    return written_time(dt.datetime.fromisoformat(iso), zone) if iso else "not recorded"


MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
LABEL = 44 * mm
QR = 30 * mm


def certificate_pdf(
    content: dict[str, Any],
    reference: LedgerReference,
    verify_url: str,
    *,
    people: Signatories | None = None,
    zone: dt.tzinfo = dt.UTC,
    log_key: str = "the log's verifier key",
) -> bytes:
    """The certificate as a PDF: every field of the statement whole, times in ``zone``, people by name, every serial.

    Every cell shows hidden characters written out (:class:`caliber.pdf.Grid`); nothing is shortened: text wraps, tables go on.
    """
    register_fonts()
    people = people or Signatories()
    out = io.BytesIO()
    title = f"Certificate of destruction {format_code(content['event'])}"
    document = BaseDocTemplate(out, pagesize=A4, title=title, invariant=1, pageCompression=1)

    def first_heading(canvas: Canvas, _document: BaseDocTemplate) -> None:
        if canvas.getPageNumber() == 1:
            _heading(canvas, content["event"], verify_url)

    def footer(canvas: Canvas, page: int, pages: int) -> None:
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN, MARGIN - 8, f"{title} · page {page} of {pages}")

    frame = Frame(MARGIN, MARGIN + 4, WIDTH, A4[1] - 2 * MARGIN - 4, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    document.addPageTemplates([PageTemplate(frames=[frame], onPage=first_heading)])
    story = [Spacer(WIDTH, QR + 4 * mm), _facts(content, people, zone), *_parties(content, people, zone)]
    story += [_ledger(content, reference, verify_url, log_key), *_destroyed(content)]
    document.build(story, canvasmaker=functools.partial(NumberedCanvas, footer=footer))
    return out.getvalue()


def _heading(canvas: Canvas, event: str, verify_url: str) -> None:
    """The title, the event and the QR of the public verification page, on the first page."""
    width, height = A4
    canvas.setFont(BOLD, 16)
    canvas.drawString(MARGIN, height - MARGIN - 14, "Certificate of destruction")
    canvas.setFont(BOLD, 12)
    canvas.drawString(MARGIN, height - MARGIN - 32, f"Event {format_code(event)}")
    canvas.setFont(FONT, 8)
    for n, line in enumerate(wrap("Scan the code to check this certificate against the custody ledger.", FONT, 8, WIDTH - QR - 6 * mm)):
        canvas.drawString(MARGIN, height - MARGIN - 48 - 10 * n, line)
    modules = matrix(verify_url)
    draw_qr(canvas, modules, width - MARGIN - QR, height - MARGIN, QR / len(modules))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _facts(content: dict[str, Any], people: Signatories, zone: dt.tzinfo) -> Grid:
    authority = content["legal_authority"]
    rows = [
        ("Event", format_code(content["event"])),
        ("Site", _text(content["site"]["name"])),
        ("Site address", _text(content["site"]["address"]) or "not recorded"),
        ("Planned for", _date(content["planned_date"])),
        ("Destruction started", _time(content["started_at"], zone)),
        ("Destruction ended", _time(content["ended_at"], zone)),
        ("Methods", ", ".join(m.replace("_", " ") for m in content["methods"]) or "not recorded"),
        ("Legal authority", f"{_text(authority['number'])} of {_date(authority['date'])}"),
        ("Organiser", _text(content["organiser"])),
        ("Manifest approved by", people.user(content["approved_by"])),
        ("Residue checked by", people.user(content["residue_checked_by"])),
        ("Residue notes", _text(content["residue_notes"]) or "none"),
    ]
    return Grid.of([LABEL, WIDTH - LABEL], rows, fonts=[BOLD, FONT], size=9)


def _parties(content: dict[str, Any], people: Signatories, zone: dt.tzinfo) -> list[Grid]:
    """The witnesses with their attestations, and the observers."""
    witnesses = [
        (people.witness(w), f"{w['stage']} destruction\n{_time(w['attested_at'], zone)}", Cell(w["manifest_sha256"], MONO))
        for w in content["witnesses"]
    ]
    grids = [
        Grid.of(
            [64 * mm, 52 * mm, WIDTH - 116 * mm],
            witnesses or [("none recorded", "", "")],
            header=["Witness", "Attested", "Manifest SHA-256"],
            title="Witnesses",
        )
    ]
    if content["observers"]:
        observers = [(_text(o["name"]), _text(o["organisation"])) for o in content["observers"]]
        grids.append(Grid.of([WIDTH / 2, WIDTH / 2], observers, header=["Observer", "Organisation"], title="Observers"))
    photos: list[tuple[str, str | Cell]] = [(p["stage"], Cell(p["sha256"], MONO)) for p in content["photos"]]
    grids.append(Grid.of([LABEL, WIDTH - LABEL], photos or [("none", "")], header=["Stage", "SHA-256"], title="Photographs"))
    counts = [(kind.replace("_", " "), f"{count:,}") for kind, count in content["counts"]["weapons_by_type"].items()]
    if content["ammunition"]:
        lots, pieces = content["counts"]["ammunition_lots"], content["counts"]["ammunition_pieces"]
        counts.append(("ammunition", f"{lots:,} lot{'s' * (lots != 1)}, {pieces:,} piece{'s' * (pieces != 1)}"))
    grids.append(Grid.of([LABEL, WIDTH - LABEL], counts or [("nothing", "")], title="Counts"))
    return grids


def _ledger(content: dict[str, Any], reference: LedgerReference, verify_url: str, log_key: str) -> Grid:
    rows: list[tuple[str, str | Cell]] = [
        ("Certificate SHA-256", Cell(certificate_sha256(content), MONO)),
        ("Log", _text(reference.origin)),
        ("Entry", f"{reference.index:,} in a tree of {reference.size:,} entries"),
        ("Root", Cell(reference.root_b64, MONO)),
        ("Verify online", verify_url),
        ("Verify offline", Cell("caliber-verify BUNDLE --log-key LOG_KEY --certificate certificate.json", MONO)),
        ("BUNDLE", "the ledger's export (caliber ledger export); certificate.json: this certificate's statement"),
        ("LOG_KEY", Cell(log_key, MONO)),
    ]
    return Grid.of([LABEL, WIDTH - LABEL], rows, fonts=[BOLD, FONT], title="Custody ledger")


def _destroyed(content: dict[str, Any]) -> list[Grid]:
    """Every weapon and component by serial, every ammunition lot."""
    grids = []
    if weapons := content["weapons"]:
        rows = [
            (
                format_code(w["code"]),
                _text(w["serial"]),
                _text(f"{w['manufacturer']} {w['model']}"),
                _text(w["calibre"]),
                _text(w["type"]).replace("_", " "),
            )
            for w in weapons
        ]
        widths = [24 * mm, 40 * mm, 56 * mm, 28 * mm, WIDTH - 148 * mm]
        header = ["Label code", "Serial", "Manufacturer and model", "Calibre", "Type"]
        grids.append(Grid.of(widths, rows, header=header, title=f"Weapons and components destroyed ({len(weapons):,})", size=7))
    if lots := content["ammunition"]:
        lot_rows = [
            (
                format_code(a["code"]),
                _text(a["lot_number"]),
                _text(f"{a['calibre']} {a['nature']}"),
                f"{a['quantity']:,}",
                f"{a['gross_mass_kg']} kg",
                f"{a['net_explosive_mass_kg']} kg",
            )
            for a in lots
        ]
        widths = [24 * mm, 32 * mm, 52 * mm, 22 * mm, 22 * mm, WIDTH - 152 * mm]
        header = ["Label code", "Lot", "Calibre and nature", "Pieces", "Gross mass", "Net explosive mass"]
        grids.append(
            Grid.of(widths, lot_rows, header=header, title=f"Ammunition destroyed ({len(lots):,} lot{'s' * (len(lots) != 1)})", size=7)
        )
    return grids
