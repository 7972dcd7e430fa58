"""Where a certificate stands in the ledger, for the PDF and for the public verification page.

``GET /certificates/{code}`` needs no login and shows no more than the
certificate does: it recomputes the certificate's statement from the records,
compares its SHA-256 with the one the ledger's certification event carries,
and gives that event's inclusion proof against the latest signed checkpoint
(``c2sp.org/tlog-proof@v1``), so anyone can check it without trusting the page.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy import func, select

from caliber.config import Settings
from caliber.destruction.certificate import LedgerReference, certificate_bytes, statement
from caliber.destruction.events import DestructionCertified
from caliber.destruction.models import DestructionEvent, EventStatus
from caliber.errors import NotFound
from caliber.labels.codes import CodeError, read_code
from caliber.ledger import store
from caliber.ledger.models import LedgerEntry, LedgerSubject
from caliber.ledger.routes import checkpoint_with_cosignatures, tlog_proof
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.web import page

__all__ = ["CertificatePages", "Certification", "certification", "verify_url"]


def verify_url(base_url: str, code: str) -> str:
    """The public page that checks a certificate."""
    return f"{base_url.rstrip('/')}/certificates/{code}"


@dataclass(frozen=True)
class Certification:
    """A certified event, its statement, and the proof that the ledger carries its hash."""

    event: DestructionEvent
    content: dict[str, Any]
    computed_sha256: str
    recorded_sha256: str
    reference: LedgerReference
    proof_bundle: str

    @property
    def matches(self) -> bool:
        """The statement recomputed from the records is the one certified."""
        return self.computed_sha256 == self.recorded_sha256


async def certification(ledger: Ledger, signer: LogSigner, code: str) -> Certification:
    """The certification of destruction ``code`` with its inclusion proof against the latest checkpoint."""
    async with ledger.db.read() as session:
        event = await session.scalar(select(DestructionEvent).where(DestructionEvent.code == code))
        if event is None or event.status != EventStatus.CERTIFIED.value:
            raise NotFound(f"no certificate of destruction {code}")
        content = await statement(session, event.id)
        query = (
            select(func.min(LedgerSubject.idx))
            .join(LedgerEntry, LedgerEntry.idx == LedgerSubject.idx)
            .where(LedgerSubject.subject == code, LedgerEntry.event_type == DestructionCertified.type)
        )
        index = await session.scalar(query)
        if index is None:  # pragma: no cover (a certified event has its certification entries)
            raise NotFound(f"the ledger has no certification of {code}")
        (entry,) = await store.read_indexes(session, [int(index)])
    checkpoint, note = await checkpoint_with_cosignatures(ledger, signer)
    proof = await store.prove_inclusion(ledger.db, entry.index, checkpoint.size)
    reference = LedgerReference(
        ledger.origin,
        entry.index,
        checkpoint.size,
        base64.b64encode(checkpoint.root).decode(),
        [base64.b64encode(p).decode() for p in proof],
    )
    return Certification(
        event=event,
        content=content,
        computed_sha256=hashlib.sha256(certificate_bytes(content)).hexdigest(),
        recorded_sha256=DestructionCertified.decode(entry.event["data"]).certificate_sha256,
        reference=reference,
        proof_bundle=tlog_proof(entry.index, proof, note),
    )


class CertificatePages(Controller):
    """The public verification page of certificates of destruction."""

    path = "/certificates"
    include_in_schema = False

    @get("/{code:str}", opt={"public": True})
    async def verify(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        settings: NamedDependency[Settings],
    ) -> Template:
        """Check a certificate against the ledger (no login needed)."""
        try:
            code = read_code(code)
        except CodeError as exc:
            raise NotFound(f"no certificate of destruction {code!r}: {exc}") from None
        found = await certification(ledger, signer, code)
        return page(request, "destruction/verify.html", found=found, url=verify_url(settings.base_url, code))
