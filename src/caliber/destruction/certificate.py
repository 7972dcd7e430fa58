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
from collections import Counter
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.destruction.models import Attestation, DestructionEvent, DestructionPhoto, LineStatus, ManifestLine, Observer
from caliber.inventory.items import records_by_code
from caliber.inventory.records import kilograms
from caliber.ledger import canonical

__all__ = ["FORMAT", "certificate_bytes", "certificate_sha256", "statement"]

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
