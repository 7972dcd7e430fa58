"""Recording custody events: append under the log's lock, apply to the state tables, in one transaction.

A domain service changes state only through :meth:`Ledger.write`::

    async with ledger.write(actor) as tx:
        ...validate with tx.session...
        await tx.record(DepotRegistered(...), [subject])

``record`` applies the event to the state tables at once (through the applier
its domain registered in the ledger's :class:`~caliber.ledger.registry.Registry`) and the block appends every
recorded event to the log when it ends, sharing one lock and one commit.
Bulk work (imports, manifests) calls ``record_many`` with many events of one
type: an applier registered with ``batch=True`` then applies them all with a
few statements. Replaying the log through the same appliers rebuilds the
state tables (``caliber ledger check``).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import AnyOf, Database, execute, execute_sql, insert_many, rows_in
from caliber.ledger import canonical, merkle
from caliber.ledger.events import Change, Event, Recorded
from caliber.ledger.models import NODE_INDEX_BITS, LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode, LedgerSubject, node_key
from caliber.ledger.registry import Registry, UnknownEventType
from caliber.ledger.signer import LogSigner

__all__ = [
    "EVENT_VERSION",
    "CustodyTransaction",
    "Entry",
    "Ledger",
    "StoreCorrupt",
    "apply_changes",
    "changes_of",
]

EVENT_VERSION = 1
HEAD_ID = 1
APPENDED: ContextVar[list[int] | None] = ContextVar("caliber_appended", default=None)
"""Set to ``[0]`` by whoever wants to know how many entries the writes of this context append (the request log)."""


class StoreCorrupt(RuntimeError):
    """The ledger tables contradict themselves (rows missing or changed outside Caliber)."""


E = TypeVar("E", bound=Event)


def changes_of(record: Any, wanted: dict[str, Any]) -> dict[str, Change]:
    """``{field: Change(old, new)}`` for the fields of ``wanted`` (None: leave as is) that differ on ``record``.

    The ``changes`` member of every ``*.changed`` event: a correction names the old value and the new.
    """
    return {
        name: Change(getattr(record, name), value) for name, value in wanted.items() if value is not None and getattr(record, name) != value
    }


def apply_changes(record: Any, changes: dict[str, Change]) -> None:
    """Set each field of a ``changes`` member (as :func:`changes_of` wrote it) to its new value."""
    for name, change in changes.items():
        setattr(record, name, change.new)


def rfc3339(moment: dt.datetime) -> str:
    """A UTC time as RFC 3339 with microseconds, e.g. ``2026-11-28T08:12:29.123456Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def actor_json(actor: Any) -> dict[str, Any]:
    """The ``actor`` member of an event: who did it, in which role."""
    return {"id": str(actor.id) if actor.id else None, "name": actor.username, "role": str(actor.role)}


@dataclass(frozen=True, slots=True)
class Entry:
    """An appended event: its index, canonical bytes and leaf hash."""

    index: int
    data: bytes
    leaf_hash: bytes

    @property
    def event(self) -> dict[str, Any]:
        """The event itself (checked to be canonical)."""
        return canonical.check(self.data)  # type: ignore[no-any-return]


@dataclass
class CustodyTransaction:
    """A write transaction that records custody events; see :meth:`Ledger.write`."""

    session: AsyncSession
    actor: dict[str, Any]
    registry: Registry
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    """When events happen: the wall clock (tests move a clock of their own)."""
    pending: list[dict[str, Any]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    async def record(self, event: E, subjects: Iterable[str]) -> Recorded[E]:
        """Apply one custody event to the state tables now; it joins the log when the block ends."""
        return (await self.record_many([(event, subjects)]))[0]

    async def record_many(self, events: Iterable[tuple[E, Iterable[str]]]) -> list[Recorded[E]]:
        """Apply many custody events of one type, each ``(event, subjects)``, in one go; they join the log in order.

        Each event is applied as replay will see it: written out as JSON and read back
        through its struct, so that a value outside the event's shape fails here and
        everything rolls back.
        """
        given = list(events)
        if not given:
            return []
        kind = type(given[0][0])
        if kind.type not in self.registry.events or self.registry.events[kind.type] is not kind:
            raise UnknownEventType(f"no domain of this ledger declares the event type {kind.type!r}")
        time = rfc3339(self.clock())
        recorded: list[Recorded[E]] = []
        logged: list[dict[str, Any]] = []
        for event, subjects in given:
            if type(event) is not kind:
                raise TypeError(f"record_many takes events of one type: {kind.type} and {event.type}")
            data = event.encode()
            named = sorted(set(subjects))
            logged.append({"time": time, "actor": self.actor, "type": kind.type, "subjects": named, "data": data})
            recorded.append(Recorded(kind.type, time, self.actor, named, kind.decode(data)))
        await self.registry.apply(self.session, recorded)
        self.pending.extend(logged)
        return recorded


class Ledger:
    """The custody log of one origin, over one database."""

    def __init__(self, db: Database, origin: str, registry: Registry) -> None:
        self.db = db
        self.origin = origin
        self.registry = registry
        """The event types this ledger records and what applies them (``caliber.domains.registry()``)."""
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        """When events happen (the wall clock; tests set their own)."""

    @asynccontextmanager
    async def write(self, actor: Any) -> AsyncIterator[CustodyTransaction]:
        """A write transaction holding the log's lock; recorded events are appended and committed at the end."""

        def committed() -> None:  # tell whoever counts this request's events
            if (counter := APPENDED.get()) is not None:
                counter[0] += len(tx.entries)

        async with self.db.write(committed) as session:
            head = await _lock_head(session, for_update=not self.db.is_sqlite)
            tx = CustodyTransaction(session, actor_json(actor), self.registry, self.clock)
            yield tx
            if tx.pending:
                tx.entries = await _append(session, self.origin, head, tx.pending)

    async def checkpoint(self, signer: LogSigner) -> LedgerCheckpoint:
        """The signed checkpoint of the current tree; a new one is signed when the tree has grown since the last.

        The signer refuses (:class:`ForkRefused`) a tree that does not extend the one it signed last.
        """
        async with self.db.read() as session:
            head = await _lock_head(session, for_update=False)
            latest = await latest_checkpoint(session)
            if latest is not None and latest.size == head.size:
                return latest
            last = signer.last_signed()
            proof = await consistency_proof(session, last.size, head.size) if last is not None and last.size <= head.size else []
            size, root = head.size, head.root
        signed = signer.sign(size, root, proof)
        try:
            async with self.db.write() as session:
                session.add(LedgerCheckpoint(size=size, root=root, note=signed, created_at=dt.datetime.now(dt.UTC)))
        except IntegrityError:  # another process signed this size first
            pass
        async with self.db.read() as session:
            stored = await session.get(LedgerCheckpoint, size)
            assert stored is not None
            return stored

    async def size(self) -> int:
        """The number of entries in the log."""
        async with self.db.read() as session:
            return int(await session.scalar(select(LedgerHead.size).where(LedgerHead.id == HEAD_ID)) or 0)


async def latest_checkpoint(session: AsyncSession) -> LedgerCheckpoint | None:
    """The checkpoint of the largest tree signed so far."""
    return await session.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1))


_HEAD = select(LedgerHead.size, LedgerHead.root, LedgerHead.last_leaf).where(LedgerHead.id == HEAD_ID)
_HEAD_LOCKED = _HEAD.with_for_update()
_HEAD_MOVED = (
    update(LedgerHead)
    .where(LedgerHead.id == HEAD_ID)
    .values(size=bindparam("size"), root=bindparam("root"), last_leaf=bindparam("last_leaf"))
)
_LAST_INDEXES = (
    select(LedgerSubject.subject, func.max(LedgerSubject.idx))
    .where(AnyOf(LedgerSubject.subject, "subjects"))
    .group_by(LedgerSubject.subject)
)


async def _lock_head(session: AsyncSession, *, for_update: bool) -> Any:
    """The head row (size, root, last_leaf); locked for the transaction where ``for_update`` (PostgreSQL: SQLite's
    writers already hold its one write lock)."""
    found = await rows_in(session, _HEAD_LOCKED if for_update else _HEAD)
    if not found:
        raise RuntimeError("the ledger head row is missing: run `caliber db upgrade`")
    return found[0]


async def _append(session: AsyncSession, origin: str, head: Any, pending: Sequence[dict[str, Any]]) -> list[Entry]:
    size = head.size
    frontier = merkle.Frontier(await _frontier(session, size), size)
    subjects = {subject for event in pending for subject in event["subjects"]}
    last_of = await _last_indexes(session, subjects)
    prev = head.last_leaf
    entries: list[Entry] = []
    nodes: list[dict[str, Any]] = []
    subject_rows: list[dict[str, Any]] = []
    for event in pending:
        envelope = {
            **event,
            "v": EVENT_VERSION,
            "log": origin,
            "seq": size,
            "prev": base64.b64encode(prev).decode() if prev else None,
            "subject_prev": {subject: last_of[subject] for subject in event["subjects"] if subject in last_of},
        }
        data = canonical.encode(envelope)
        leaf = merkle.leaf_hash(data)
        entries.append(Entry(size, data, leaf))
        nodes.extend({"key": node_key(level, index), "hash": value} for level, index, value in frontier.push(leaf))
        for subject in event["subjects"]:
            subject_rows.append({"subject": subject, "idx": size})
            last_of[subject] = size
        prev = leaf
        size += 1
    if session.get_bind().dialect.name == "postgresql":  # the head row is locked until commit: one round trip, not four
        columns = (
            [e.index for e in entries],
            [e.data for e in entries],
            [event["type"] for event in pending],
            [node["key"] for node in nodes],
            [node["hash"] for node in nodes],
            [row["subject"] for row in subject_rows],
            [row["idx"] for row in subject_rows],
        )
        await execute_sql(session, _POSTGRES_APPEND, *columns, size, frontier.root(), prev)
        return entries
    entry_rows = [{"idx": e.index, "data": e.data, "event_type": event["type"]} for e, event in zip(entries, pending, strict=True)]
    await insert_many(session, LedgerEntry.__table__, entry_rows)
    await insert_many(session, LedgerNode.__table__, nodes)
    await insert_many(session, LedgerSubject.__table__, subject_rows)
    await execute(session, _HEAD_MOVED, size=size, root=frontier.root(), last_leaf=prev)
    return entries


_POSTGRES_APPEND = f"""
WITH entries AS (
    INSERT INTO ledger_entry (idx, data, event_type) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::varchar[])
), nodes AS (
    INSERT INTO ledger_node (key, hash) SELECT * FROM unnest($4::bigint[], $5::bytea[])
), subjects AS (
    INSERT INTO ledger_subject (subject, idx) SELECT * FROM unnest($6::varchar[], $7::bigint[])
)
UPDATE ledger_head SET size = $8, root = $9, last_leaf = $10 WHERE id = {HEAD_ID}
"""
"""An append on PostgreSQL as one statement: entries, subtree hashes, subjects and the new head (a data-modifying
``WITH`` runs each part once, whether the rest reads it or not)."""


def perfect_subtrees(size: int) -> list[tuple[int, int]]:
    """(level, index) of the complete subtrees that make up a tree of ``size`` leaves, left to right."""
    result, offset = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            result.append((level, offset >> level))
            offset += 1 << level
    return result


async def _frontier(session: AsyncSession, size: int) -> list[tuple[int, bytes]]:
    wanted = perfect_subtrees(size)
    if not wanted:
        return []
    hashes = await load_nodes(session, wanted)
    return [(level, hashes[(level, index)]) for level, index in wanted]


_INDEX_MASK = (1 << NODE_INDEX_BITS) - 1
_NODES_BY_KEY = select(LedgerNode.key, LedgerNode.hash).where(AnyOf(LedgerNode.key, "keys"))
"""One statement for any number of nodes: compiled once."""


async def load_nodes(session: AsyncSession, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored subtree hashes by (level, index), in one query."""
    keys = list(dict.fromkeys(wanted))
    if not keys:
        return {}
    stored = await rows_in(session, _NODES_BY_KEY, keys=[node_key(level, index) for level, index in keys])
    found = {(key >> NODE_INDEX_BITS, key & _INDEX_MASK): value for key, value in stored}
    missing = [key for key in keys if key not in found]
    if missing:
        raise StoreCorrupt(f"stored subtree hashes missing at (level, index) {missing[:5]}: the ledger tables were changed outside Caliber")
    return found


async def _last_indexes(session: AsyncSession, subjects: set[str]) -> dict[str, int]:
    return {subject: int(index) for subject, index in await rows_in(session, _LAST_INDEXES, subjects=sorted(subjects))}


# -- reading: roots, proofs and entries from the stored subtrees ------------


def _pieces(lo: int, hi: int) -> list[tuple[int, int]]:
    """The stored complete subtrees whose concatenation is leaves [lo, hi)."""
    return [(level, (lo >> level) + index) for level, index in perfect_subtrees(hi - lo)]


async def _subtree_reader(session: AsyncSession, ranges: Iterable[tuple[int, int]]) -> merkle.Subtree:
    """A ``subtree(lo, hi)`` over the database, having fetched every node the ranges need in one query."""
    ranges = list(ranges)
    return _subtree_over(await load_nodes(session, (piece for lo, hi in ranges for piece in _pieces(lo, hi))))


def _subtree_over(hashes: dict[tuple[int, int], bytes]) -> merkle.Subtree:
    """A ``subtree(lo, hi)`` that folds the fetched complete subtrees covering [lo, hi)."""

    def subtree(lo: int, hi: int) -> bytes:
        return merkle.Frontier([(level, hashes[(level, index)]) for level, index in _pieces(lo, hi)]).root()

    return subtree


def _ranges_of(prove: Callable[[merkle.Subtree], list[bytes]]) -> list[tuple[int, int]]:
    """The subtree ranges a proof asks for (a dry run with a recording ``subtree``)."""
    asked: list[tuple[int, int]] = []

    def record(lo: int, hi: int) -> bytes:
        asked.append((lo, hi))
        return merkle.EMPTY_ROOT

    prove(record)
    return asked


async def root_at(session: AsyncSession, size: int) -> bytes:
    """The root of the first ``size`` entries."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return (await _subtree_reader(session, [(0, size)]))(0, size)


async def inclusion_proof(session: AsyncSession, index: int, size: int) -> list[bytes]:
    """The inclusion proof of entry ``index`` in the tree of ``size`` (O(log n) nodes, one query)."""

    def prove(subtree: merkle.Subtree) -> list[bytes]:
        return merkle.inclusion_proof(index, size, subtree)

    return prove(await _subtree_reader(session, _ranges_of(prove)))


async def consistency_proof(session: AsyncSession, size1: int, size2: int) -> list[bytes]:
    """The consistency proof from the tree of ``size1`` to the tree of ``size2`` (one query)."""

    def prove(subtree: merkle.Subtree) -> list[bytes]:
        return merkle.consistency_proof(size1, size2, subtree)

    return prove(await _subtree_reader(session, _ranges_of(prove)))


async def read_entries(session: AsyncSession, start: int, end: int) -> list[Entry]:
    """Entries ``start`` to ``end - 1``, in order."""
    rows = await session.execute(
        select(LedgerEntry.idx, LedgerEntry.data).where(LedgerEntry.idx >= start, LedgerEntry.idx < end).order_by(LedgerEntry.idx)
    )
    return [Entry(index, data, merkle.leaf_hash(data)) for index, data in rows]


async def subject_indexes(session: AsyncSession, subject: str, limit: int = 1000) -> list[int]:
    """Indexes of the entries about ``subject``, oldest first (at most ``limit``)."""
    query = select(LedgerSubject.idx).where(LedgerSubject.subject == subject).order_by(LedgerSubject.idx).limit(limit)
    return list(await session.scalars(query))


async def read_indexes(session: AsyncSession, indexes: list[int]) -> list[Entry]:
    """The entries at ``indexes``, in order, in one query."""
    if not indexes:
        return []
    rows = await session.execute(select(LedgerEntry.idx, LedgerEntry.data).where(LedgerEntry.idx.in_(indexes)).order_by(LedgerEntry.idx))
    return [Entry(index, data, merkle.leaf_hash(data)) for index, data in rows]


async def inclusion_proofs(session: AsyncSession, indexes: list[int], size: int) -> dict[int, list[bytes]]:
    """Inclusion proofs of several entries in the tree of ``size``, with one query for all their nodes."""

    def prove_all(subtree: merkle.Subtree) -> list[bytes]:
        for index in indexes:
            proofs[index] = merkle.inclusion_proof(index, size, subtree)
        return []

    proofs: dict[int, list[bytes]] = {}
    prove_all(await _subtree_reader(session, _ranges_of(prove_all)))
    return proofs


# -- proofs for readers ---------------------------------------------------------------
#
# Stored subtree hashes never change once written, so a proof needs no
# transaction: the proof endpoints read every node they need with one
# statement in one round trip (Database.fetch_sql), skipping the
# session's BEGIN, ROLLBACK and pool checks.


async def _fetch_nodes(db: Database, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = sorted({node_key(level, index) for level, index in wanted})
    found = {(key >> NODE_INDEX_BITS, key & _INDEX_MASK): bytes(value) for key, value in await db.fetch(_NODES_BY_KEY, keys=keys)}
    if len(found) != len(keys):
        raise StoreCorrupt("stored subtree hashes missing: the ledger tables were changed outside Caliber")
    return found


async def _prove(db: Database, prove: Callable[[merkle.Subtree], list[bytes]]) -> list[bytes]:
    ranges = _ranges_of(prove)
    hashes = await _fetch_nodes(db, (piece for lo, hi in ranges for piece in _pieces(lo, hi)))
    return prove(_subtree_over(hashes))


async def prove_inclusion(db: Database, index: int, size: int) -> list[bytes]:
    """The inclusion proof of entry ``index`` in the tree of ``size``, in one round trip."""
    return await _prove(db, lambda subtree: merkle.inclusion_proof(index, size, subtree))


async def prove_consistency(db: Database, size1: int, size2: int) -> list[bytes]:
    """The consistency proof from ``size1`` to ``size2``, in one round trip."""
    return await _prove(db, lambda subtree: merkle.consistency_proof(size1, size2, subtree))
