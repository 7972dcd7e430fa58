"""Witnesses: inspectors' keys that cosign checkpoints, and the add-checkpoint exchange (C2SP tlog-witness).

An inspector keeps a witness key (cosignature/v1, type 0x04) offline, cosigns
a checkpoint after checking it is consistent with the last one they cosigned
(``caliber ledger cosign``), and submits it here. The request body follows
C2SP tlog-witness ``add-checkpoint``::

    old <size the witness cosigned last, 0 for none>
    <consistency proof from old to the checkpoint's size, one base64 hash a line>
    <blank line>
    <the checkpoint note, signed by the log and cosigned by the witness>

Answers: the stored cosignature line; 409 with the known size when ``old`` is
not the size this witness last cosigned here; 422 for a bad proof; 403 for a
signature that does not verify or a witness that is not registered.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from caliber.ledger import merkle, note
from caliber.ledger.events import Recorded
from caliber.ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerWitness
from caliber.ledger.registry import Appliers
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.ledger.witness_events import WitnessRegistered

__all__ = ["AddCheckpoint", "KnownSizeConflict", "WitnessService", "appliers", "parse_add_checkpoint", "witness_subject"]

appliers = Appliers("witnesses", tables=["ledger_witness"])
"""The registration of witness keys, and what applies it."""


class KnownSizeConflict(Conflict):
    """``old`` is not the size this witness cosigned last; ``known`` is."""

    def __init__(self, known: int) -> None:
        super().__init__(f"this witness last cosigned size {known} here: send old {known} with a proof from it")
        self.known = known


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request."""

    old: int
    proof: list[bytes]
    note: str


def witness_subject(name: str) -> str:
    """The ledger subject of a witness key."""
    return f"witness:{name}"


def parse_add_checkpoint(body: str) -> AddCheckpoint:
    """Parse an add-checkpoint request body; :class:`InvalidInput` says what is malformed."""
    head, separator, signed = body.partition("\n\n")
    lines = head.split("\n")
    old = lines[0].removeprefix("old ")
    if not separator or not lines[0].startswith("old ") or not (old.isascii() and old.isdigit()):
        raise InvalidInput("the body starts with 'old <size>', then proof lines, a blank line and the checkpoint")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error as exc:
        raise InvalidInput("a proof line is not base64") from exc
    return AddCheckpoint(int(old), proof, signed)


class WitnessService:
    """Registered witness keys and their cosignatures."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def witnesses(self) -> list[LedgerWitness]:
        """The registered witness keys."""
        async with self.ledger.db.read() as session:
            return list(await session.scalars(select(LedgerWitness).order_by(LedgerWitness.name)))

    async def register(self, actor: Any, vkey: str) -> LedgerWitness:
        """Register an inspector's witness verifier key (admins only): a custody event."""
        from caliber.accounts.models import Role

        actor.require_role(Role.ADMIN)
        try:
            if note.key_type(vkey) != note.COSIGNATURE_V1:
                raise InvalidInput("this is a note signer key, not a witness (cosignature/v1) key", field="vkey")
        except note.NoteError as exc:
            raise InvalidInput(f"not a witness verifier key: {exc}", field="vkey") from exc
        name = vkey.split("+", 1)[0]
        async with self.ledger.write(actor) as tx:
            if await tx.session.get(LedgerWitness, name) is not None:
                raise Conflict(f"a witness named {name} is already registered")
            await tx.record(WitnessRegistered(name=name, vkey=vkey), [witness_subject(name)])
            return await tx.session.get(LedgerWitness, name)  # type: ignore[return-value]

    async def add_checkpoint(self, signer: LogSigner, request: AddCheckpoint) -> str:
        """Check a cosigned checkpoint against what this log signed and store the cosignature."""
        try:
            text = note.verify(request.note, [signer.vkey])
            checkpoint = note.parse_checkpoint(text)
        except note.NoteError as exc:
            raise PermissionDenied(f"the checkpoint is not signed by this log: {exc}") from exc
        async with self.ledger.db.write() as session:
            witness, timestamp = await _cosigner(session, request.note)
            stored = await session.get(LedgerCheckpoint, checkpoint.size)
            if stored is None or stored.root != checkpoint.root:
                raise NotFound(f"this log has no checkpoint of size {checkpoint.size} with that root")
            latest = select(func.coalesce(func.max(LedgerCosignature.size), 0)).where(LedgerCosignature.witness == witness.name)
            known = int(await session.scalar(latest) or 0)
            if request.old != known:
                raise KnownSizeConflict(known)
            old_root = merkle.EMPTY_ROOT if known == 0 else (await session.get(LedgerCheckpoint, known)).root  # type: ignore[union-attr]
            try:
                merkle.verify_consistency(known, checkpoint.size, request.proof, old_root, checkpoint.root)
            except merkle.ProofError as exc:
                raise InvalidInput(f"the consistency proof from {known} to {checkpoint.size} does not verify: {exc}") from exc
            line = next(s.line() for s in note.signatures(request.note) if s.name == witness.name)
            if checkpoint.size > known:
                session.add(LedgerCosignature(size=checkpoint.size, witness=witness.name, line=line, timestamp=timestamp))
            return line


async def _cosigner(session: AsyncSession, signed: str) -> tuple[LedgerWitness, int]:
    names = {s.name for s in note.signatures(signed)}
    witnesses = list(await session.scalars(select(LedgerWitness).where(LedgerWitness.name.in_(names))))
    if len(witnesses) != 1:
        raise PermissionDenied("the checkpoint must carry the cosignature of exactly one registered witness")
    try:
        return witnesses[0], note.verify_cosignature(signed, witnesses[0].vkey)
    except note.NoteError as exc:
        raise PermissionDenied(str(exc)) from exc


@appliers.on(WitnessRegistered)
async def _witness_registered(session: AsyncSession, event: Recorded[WitnessRegistered]) -> None:
    data = event.data
    session.add(LedgerWitness(name=data.name, vkey=data.vkey))
    await session.flush()
