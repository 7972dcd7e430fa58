"""The certificate of destruction: what it states, as canonical JSON whose SHA-256 the certification event carries.

The certificate's statement is computed from the records (never typed in):
the event, the legal authority, the witnesses and observers with the time of
each attestation, photo hashes, counts by type and the full list of serial
numbers (ammunition by lot, quantity and mass). Its bytes are RFC 8785, so
anyone can hash the JSON and find that hash in the ledger's
``destruction.certified`` events; the PDF prints the same statement.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.destruction.models import Attestation, DestructionEvent, DestructionPhoto, LineStatus, ManifestLine, Observer
from caliber.inventory.items import records_by_code
from caliber.inventory.records import kilograms
from caliber.labels.codes import format_code
from caliber.labels.qr import matrix
from caliber.labels.sheets import BOLD, FONT, draw_qr, register_fonts
from caliber.ledger import canonical
from caliber.schemas import visible

__all__ = ["FORMAT", "LedgerReference", "certificate_bytes", "certificate_pdf", "certificate_sha256", "statement"]

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
    return canonical.encode(content)  # type: ignore[no-any-return]


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


def certificate_pdf(content: dict[str, Any], reference: LedgerReference, verify_url: str) -> bytes:
    """The certificate as a PDF: the statement, the ledger reference, a QR to the public verification page, every serial."""
    register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(f"Certificate of destruction {content['event']}")
    width, height = A4
    writer = _Writer(canvas, width, height, content["event"])
    canvas.setFont(BOLD, 16)
    canvas.drawString(MARGIN, height - MARGIN - 10, "Certificate of destruction")
    draw_qr(canvas, matrix(verify_url), width - MARGIN - 30 * mm, height - MARGIN, 30 * mm / len(matrix(verify_url)))
    writer.y = height - MARGIN - 30
    writer.pairs(
        [
            ("Event", format_code(content["event"])),
            ("Site", ", ".join(p for p in (content["site"]["name"], content["site"]["address"]) if p)),
            ("Destroyed", f"{content['started_at'] or ''} to {content['ended_at'] or ''} (UTC)"),
            ("Method", ", ".join(m.replace("_", " ") for m in content["methods"])),
            ("Legal authority", f"{content['legal_authority']['number']} of {content['legal_authority']['date']}"),
            ("Organiser", content["organiser"]),
            ("Manifest approved by", content["approved_by"] or ""),
            ("Residue checked by", f"{content['residue_checked_by'] or ''}: {content['residue_notes']}"),
        ]
    )
    writer.heading("Witnesses")
    for w in content["witnesses"]:
        role = w["role"].replace("_", " ")
        writer.line(f"{w['name']} ({role}), {w['stage']} destruction, {w['attested_at']}, manifest {w['manifest_sha256'][:16]}…")
    if content["observers"]:
        writer.heading("Observers")
        for o in content["observers"]:
            writer.line(f"{o['name']}, {o['organisation']}")
    writer.heading("Photographs (SHA-256)")
    for p in content["photos"]:
        writer.line(f"{p['stage']}: {p['sha256']}", size=7)
    writer.heading("Counts")
    for kind, count in content["counts"]["weapons_by_type"].items():
        writer.line(f"{kind.replace('_', ' ')}: {count:,}")
    if content["ammunition"]:
        writer.line(f"ammunition: {content['counts']['ammunition_lots']:,} lots, {content['counts']['ammunition_pieces']:,} pieces")
    writer.heading("Custody ledger")
    writer.line(f"Certificate SHA-256: {certificate_sha256(content)}", size=7)
    writer.line(f"Log: {reference.origin}, entry {reference.index} in a tree of {reference.size:,} entries", size=7)
    writer.line(f"Root: {reference.root_b64}", size=7)
    writer.line(f"Verify online: {verify_url}; offline: caliber-verify BUNDLE --certificate certificate.json", size=7)
    if content["weapons"]:
        writer.heading(f"Weapons and components destroyed ({len(content['weapons']):,})")
        for w in content["weapons"]:
            kind = w["type"].replace("_", " ")
            writer.line(f"{format_code(w['code'])}  S/N {w['serial']}  {w['manufacturer']} {w['model']}  {w['calibre']}  {kind}", size=7)
    if content["ammunition"]:
        writer.heading(f"Ammunition destroyed ({len(content['ammunition']):,} lots)")
        for a in content["ammunition"]:
            writer.line(
                f"{format_code(a['code'])}  lot {a['lot_number']}  {a['calibre']} {a['nature']}  {a['quantity']:,} pcs  "
                f"gross {a['gross_mass_kg']} kg  NEM {a['net_explosive_mass_kg']} kg",
                size=7,
            )
    writer.footer()
    canvas.save()
    return out.getvalue()


MARGIN = 18 * mm


class _Writer:
    """Lines down the page, a new page (with the event in the footer) when one is full."""

    def __init__(self, canvas: Canvas, width: float, height: float, event: str) -> None:
        self.canvas, self.width, self.height, self.event = canvas, width, height, event
        self.y = height - MARGIN
        self.page = 1

    def _room(self, needed: float) -> None:
        if self.y - needed < MARGIN + 10:
            self.footer()
            self.canvas.showPage()
            self.page += 1
            self.y = self.height - MARGIN

    def footer(self) -> None:
        self.canvas.setFont(FONT, 7)
        self.canvas.drawString(MARGIN, MARGIN - 8, f"Certificate of destruction {format_code(self.event)} · page {self.page}")

    def heading(self, text: str) -> None:
        self._room(24)
        self.y -= 16
        self.canvas.setFont(BOLD, 11)
        self.canvas.drawString(MARGIN, self.y, text)
        self.y -= 4

    def line(self, text: str, size: float = 9) -> None:
        self._room(size * 1.35)
        self.y -= size * 1.35
        self.canvas.setFont(FONT, size)
        self.canvas.drawString(MARGIN, self.y, _fit(text, size, self.width - 2 * MARGIN))

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self._room(13)
            self.y -= 13
            self.canvas.setFont(BOLD, 9)
            self.canvas.drawString(MARGIN, self.y, label)
            self.canvas.setFont(FONT, 9)
            self.canvas.drawString(MARGIN + 120, self.y, _fit(value, 9, self.width - 2 * MARGIN - 150 - 120))


def _fit(text: str, size: float, room: float) -> str:
    text = visible(text)
    if pdfmetrics.stringWidth(text, FONT, size) <= room:
        return text
    while len(text) > 1 and pdfmetrics.stringWidth(text + "…", FONT, size) > room:
        text = text[: max(len(text) - 8, 1)]
    return text + "…"
