"""The ledger's HTTP API: checkpoint, key, entries, proofs, timelines.

Any logged-in role reads what reveals no content (checkpoint, key, witnesses,
hash-only proofs, leaf hashes); events themselves only within the scope of the
records they concern (``caliber.ledger.scope``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import select

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.accounts.models import Role
from caliber.destruction.scope import destruction_scopes
from caliber.errors import InvalidInput, NotFound
from caliber.items.scope import inventory_scopes
from caliber.labels.scope import printer_scopes
from caliber.ledger import store
from caliber.ledger.models import LedgerCheckpoint, LedgerCosignature
from caliber.ledger.schemas import (
    ConsistencyProofOut,
    EntryOut,
    EntryWithProof,
    InclusionProofOut,
    Timeline,
    TimelineEntry,
    WitnessKeyIn,
    WitnessOut,
)
from caliber.ledger.scope import LedgerScope, ScopeOf, keyed_scopes
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Entry, Ledger
from caliber.ledger.witness import KnownSizeConflict, WitnessService, parse_add_checkpoint
from caliber.tracing.scope import tracing_scopes

__all__ = [
    "SUBJECT_SCOPES",
    "LedgerApi",
    "ProvenEntry",
    "checkpoint_with_cosignatures",
    "ledger_scope",
    "proven_entry",
    "scoped_timeline",
    "subject_timeline",
    "tlog_proof",
]

MAX_ENTRIES = 1000
TEXT = "text/plain; charset=utf-8"
MAX_INDEX = 2**62
"""Beyond any tree a ledger can hold (and within the database's 64-bit integers)."""
NonNegative = Annotated[int, QueryParameter(ge=0, le=MAX_INDEX)]
OptionalNonNegative = Annotated[int | None, QueryParameter(ge=0, le=MAX_INDEX)]
SUBJECT_SCOPES: tuple[ScopeOf, ...] = (inventory_scopes, destruction_scopes, printer_scopes, tracing_scopes, keyed_scopes)
"""The domains that say where their records are, for the ledger's read scope."""


def b64(value: bytes) -> str:
    """Standard base64 text of ``value``."""
    return base64.b64encode(value).decode()


def ledger_scope(ledger: NamedDependency[Ledger]) -> LedgerScope:
    """Who reads which events: the scope of the records they concern (a dependency)."""
    return LedgerScope(ledger.db, SUBJECT_SCOPES)


def entry_out(entry: Entry, event: dict[str, Any], readable: bool) -> EntryOut:
    """An entry as the API shows it: bytes and event only to an actor who may read it, the leaf hash to anyone."""
    if not readable:
        return EntryOut(entry.index, None, b64(entry.leaf_hash), None)
    return EntryOut(entry.index, b64(entry.data), b64(entry.leaf_hash), event)


def no_event_about(subject: str) -> NotFound:
    """What a timeline answers for a subject the ledger does not know, and for one out of the caller's scope alike."""
    return NotFound(f"the ledger has no event about {subject}")


async def checkpoint_with_cosignatures(ledger: Ledger, signer: LogSigner) -> tuple[LedgerCheckpoint, str]:
    """The latest checkpoint and its signed note with every stored cosignature line appended."""
    checkpoint = await ledger.checkpoint(signer)
    async with ledger.db.read() as session:
        query = select(LedgerCosignature.line).where(LedgerCosignature.size == checkpoint.size).order_by(LedgerCosignature.witness)
        return checkpoint, checkpoint.note + "".join(await session.scalars(query))


def tlog_proof(index: int, proof: list[bytes], checkpoint_note: str) -> str:
    """A ``c2sp.org/tlog-proof@v1`` bundle: the index, the inclusion proof, a blank line, the checkpoint."""
    lines = ["c2sp.org/tlog-proof@v1", f"index {index}", *(b64(p) for p in proof)]
    return "\n".join(lines) + "\n\n" + checkpoint_note


@dataclass(frozen=True, slots=True)
class ProvenEntry:
    """An entry as ``actor`` may see it, with its inclusion proof against the latest checkpoint."""

    entry: EntryWithProof
    proof: list[bytes]
    checkpoint: LedgerCheckpoint


async def proven_entry(ledger: Ledger, signer: LogSigner, scope: LedgerScope, actor: Actor, index: int) -> ProvenEntry:
    """Entry ``index`` with its proof and tlog-proof bundle; its bytes and event only where ``actor`` reads it (the
    leaf hash and proof reveal no content), 404 beyond the latest checkpoint."""
    checkpoint, text = await checkpoint_with_cosignatures(ledger, signer)
    if not 0 <= index < checkpoint.size:
        raise NotFound(f"no entry {index}: the latest checkpoint covers entries 0 to {checkpoint.size - 1}")
    async with ledger.db.read() as session:
        (found,) = await store.read_entries(session, index, index + 1)
        proof = await store.inclusion_proof(session, index, checkpoint.size)
    event = found.event
    (readable,) = await scope.readable(actor, [event])
    out = entry_out(found, event, readable)
    entry = EntryWithProof(out.index, out.data, out.leaf_hash, out.event, tlog_proof=tlog_proof(index, proof, text))
    return ProvenEntry(entry, proof, checkpoint)


async def subject_timeline(ledger: Ledger, signer: LogSigner, subject: str) -> Timeline:
    """A subject's custody chain against the latest checkpoint, proofs fetched in one query (the caller has checked
    that the actor reads the subject: :func:`scoped_timeline`, or a record page that found the record in scope)."""
    checkpoint, text = await checkpoint_with_cosignatures(ledger, signer)
    async with ledger.db.read() as session:
        indexes = [i for i in await store.subject_indexes(session, subject) if i < checkpoint.size]
        if not indexes:
            raise no_event_about(subject)
        found = await store.read_indexes(session, indexes)
        proofs = await store.inclusion_proofs(session, indexes, checkpoint.size)
    entries = [TimelineEntry(e.index, b64(e.leaf_hash), e.event, [b64(p) for p in proofs[e.index]]) for e in found]
    return Timeline(subject, text, checkpoint.size, entries)


async def scoped_timeline(ledger: Ledger, signer: LogSigner, scope: LedgerScope, actor: Actor, subject: str) -> Timeline:
    """A subject's timeline for ``actor``: out of their scope it is not found, exactly as an unknown subject."""
    if not await scope.reads_subject(actor, subject):
        raise no_event_about(subject)
    return await subject_timeline(ledger, signer, subject)


class LedgerApi(Controller):
    """Read the custody ledger and prove what is in it."""

    path = "/api/ledger"
    tags = ["ledger"]
    dependencies = {"read_scope": Provide(ledger_scope, sync_to_thread=False)}

    @get("/checkpoint", media_type=TEXT)
    async def checkpoint(self, ledger: NamedDependency[Ledger], signer: NamedDependency[LogSigner]) -> str:
        """The latest signed checkpoint (C2SP tlog-checkpoint) with its cosignatures."""
        _checkpoint, text = await checkpoint_with_cosignatures(ledger, signer)
        return text

    @get("/key", media_type=TEXT)
    async def key(self, signer: NamedDependency[LogSigner]) -> str:
        """The log's verifier key (Go note format), for pinning in verifiers."""
        return signer.vkey + "\n"

    @get("/entries")
    async def entries(
        self,
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        read_scope: NamedDependency[LedgerScope],
        start: NonNegative = 0,
        end: OptionalNonNegative = None,
    ) -> Response[list[EntryOut]]:
        """Entries ``start`` to ``end - 1`` (at most 1,000 at a time). An entry about no record in the caller's scope
        comes with its index and leaf hash only (``data`` and ``event`` null): the range still verifies."""
        size = await ledger.size()
        end = min(size, start + MAX_ENTRIES if end is None else end)
        if end - start > MAX_ENTRIES:
            raise InvalidInput(f"ask for at most {MAX_ENTRIES} entries at a time", field="end")
        async with ledger.db.read() as session:
            found = await store.read_entries(session, start, end)
        events = [entry.event for entry in found]
        readable = await read_scope.readable(actor, events)
        out = [entry_out(*shown) for shown in zip(found, events, readable, strict=True)]
        return Response(out, headers={"X-Ledger-Size": str(size)})

    @get("/entries/{index:int}")
    async def entry(
        self,
        index: Annotated[int, PathParameter(ge=0, le=MAX_INDEX)],
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        read_scope: NamedDependency[LedgerScope],
    ) -> EntryWithProof:
        """One entry with its inclusion proof against the latest checkpoint, as a tlog-proof bundle (``data`` and
        ``event`` null when it concerns no record in the caller's scope)."""
        proven = await proven_entry(ledger, signer, read_scope, actor, index)
        return proven.entry

    @get("/proof/inclusion")
    async def inclusion(self, ledger: NamedDependency[Ledger], index: NonNegative, size: NonNegative) -> InclusionProofOut:
        """The inclusion proof of entry ``index`` in the tree of ``size``."""
        if not index < size <= await ledger.size():
            raise InvalidInput(f"need index < size <= the ledger's size; got index {index}, size {size}")
        async with ledger.db.read() as session:
            (found,) = await store.read_entries(session, index, index + 1)
        proof = await store.prove_inclusion(ledger.db, index, size)
        return InclusionProofOut(index, size, b64(found.leaf_hash), [b64(p) for p in proof])

    @get("/proof/consistency")
    async def consistency(self, ledger: NamedDependency[Ledger], old: NonNegative, new: NonNegative) -> ConsistencyProofOut:
        """The consistency proof from the tree of ``old`` entries to the tree of ``new``."""
        if not old <= new <= await ledger.size():
            raise InvalidInput(f"need old <= new <= the ledger's size; got old {old}, new {new}")
        proof = await store.prove_consistency(ledger.db, old, new)
        return ConsistencyProofOut(old, new, [b64(p) for p in proof])

    @get("/subjects/{subject:str}/timeline")
    async def timeline(
        self,
        subject: FromPath[str],
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        read_scope: NamedDependency[LedgerScope],
    ) -> Timeline:
        """Every event of one subject (a label code or record key), each with its inclusion proof; 404 for a subject
        out of the caller's scope, as for one the ledger does not know."""
        return await scoped_timeline(ledger, signer, read_scope, actor, subject)

    @get("/witnesses")
    async def witnesses(self, witnesses: NamedDependency[WitnessService]) -> list[WitnessOut]:
        """The witness keys that may cosign this log's checkpoints."""
        return [WitnessOut(w.name, w.vkey) for w in await witnesses.witnesses()]

    @post("/witnesses", guards=[requires(Role.ADMIN)], status_code=HTTP_201_CREATED)
    async def register_witness(
        self, data: JSONBody[WitnessKeyIn], actor: NamedDependency[Actor], witnesses: NamedDependency[WitnessService]
    ) -> WitnessOut:
        """Register an inspector's witness key (admins only; a custody event)."""
        witness = await witnesses.register(actor, data.vkey.strip())
        return WitnessOut(witness.name, witness.vkey)

    @post("/witness/add-checkpoint", guards=[requires(Role.INSPECTOR)], media_type=TEXT, status_code=200)
    async def add_checkpoint(
        self, request: Request[Any, Any, Any], witnesses: NamedDependency[WitnessService], signer: NamedDependency[LogSigner]
    ) -> Response[str]:
        """C2SP tlog-witness add-checkpoint: store an inspector's cosignature of a checkpoint this log signed."""
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            line = await witnesses.add_checkpoint(signer, parse_add_checkpoint(body))
        except KnownSizeConflict as exc:
            return Response(f"{exc.known}\n", status_code=409, media_type="text/x.tlog.size")
        return Response(line, media_type=TEXT)
