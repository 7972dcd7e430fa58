"""Export, full audit and replay of the custody ledger held in the database.

- :func:`export_bundle` writes the bundle the offline verifier reads.
- :func:`audit` runs that verifier over the database's own export, and also
  recomputes every stored subtree hash and the head, and holds the database's
  checkpoints against what the signer remembers signing (``caliber ledger verify``).
- :func:`check_log` is the start-up check of ``caliber serve``: the database
  holds the log this signer signs (same origin, same key), neither behind nor
  forked from the last checkpoint it signed.
- :func:`replay` applies every event to an empty database and compares the
  result with the live state tables (``caliber ledger check``).
"""

from __future__ import annotations

import base64
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import Database
from caliber.errors import NotFound
from caliber.ledger import canonical, merkle, note
from caliber.ledger.events import EventShapeError
from caliber.ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerEntry, LedgerHead, LedgerNode, node_key
from caliber.ledger.registry import Registry, UnknownEventType
from caliber.ledger.signer import ForkRefused, LogSigner, SignerStateError
from caliber.ledger.store import HEAD_ID, Ledger, StoreCorrupt, latest_checkpoint, root_at
from caliber.ledger.verify import BUNDLE_FORMAT, WITHHELD, Report, VerificationError, verify_bundle

__all__ = ["AuditError", "Difference", "LogMismatch", "audit", "check_log", "export_bundle", "replay"]

BATCH = 5000
# Columns of the state tables that are not custody state.
IGNORED_COLUMNS = {"created_at", "updated_at", "sa_orm_sentinel", "password_hash"}

Progress = Callable[[int], None]


class AuditError(Exception):
    """The database's ledger does not verify; the message names the entry or node and what broke."""


class LogMismatch(AuditError):
    """The database is not the log this signer signs, or is behind or forked from what it signed: never append to it."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def stored_origin(session: AsyncSession) -> str | None:
    """The origin the log's first entry names (``log``), fixed when the log was created; None for an empty log."""
    first = await session.scalar(select(LedgerEntry.data).where(LedgerEntry.idx == 0))
    return None if first is None else str(canonical.check(first)["log"])


async def log_facts(db: Database) -> tuple[str | None, bool]:
    """The origin the log's entries name (None: no entries yet) and whether any checkpoint of it was signed."""
    async with db.read() as session:
        return await stored_origin(session), await latest_checkpoint(session) is not None


async def check_log(ledger: Ledger, signer: LogSigner) -> None:
    """Refuse (:class:`LogMismatch`) a database whose log has another origin or key than ``signer``'s, or that is
    behind or not consistent with the last checkpoint ``signer`` signed (a restored backup, a fork)."""
    async with ledger.db.read() as session:
        origin = await stored_origin(session)
        if origin is not None and origin != ledger.origin:
            raise LogMismatch(
                f"the ledger's entries name the log {origin!r} but the configured origin is {ledger.origin!r}: "
                f"a log's origin never changes; set CALIBER_LOG_ORIGIN={origin} (or unset it) and use that log's key"
            )
        latest = await latest_checkpoint(session)
        if latest is not None:
            _check_signed_by(latest.size, latest.note, signer)
        head = await session.get(LedgerHead, HEAD_ID)
        size, root = (head.size, head.root) if head is not None else (0, merkle.EMPTY_ROOT)
        try:
            last = signer.last_signed()
        except SignerStateError as exc:
            raise LogMismatch(str(exc)) from exc
        if last is None:
            return
        if size < last.size:
            raise LogMismatch(
                f"the database's tree (size {size}, root {_b64(root)}) is behind the signer's last signed checkpoint "
                f"(size {last.size}, root {_b64(last.root)}): the database was rolled back (an older backup restored?); "
                "restore the newest backup, or the lost entries, before writing to it"
            )
        if await _root_of(session, last.size, size, root) != last.root:
            raise LogMismatch(
                f"the database's tree (size {size}, root {_b64(root)}) is not consistent with the signer's last signed "
                f"checkpoint (size {last.size}, root {_b64(last.root)}): the database forks the log (or its stored "
                "subtree hashes were changed); restore the database this signer signed before writing to it"
            )


async def _root_of(session: AsyncSession, size: int, head_size: int, head_root: bytes) -> bytes:
    """The database's root at ``size``: the head's, or folded from the stored subtrees below it."""
    if size == head_size:
        return head_root
    try:
        return await root_at(session, size)
    except StoreCorrupt as exc:
        raise AuditError(str(exc)) from exc


def _check_signed_by(size: int, signed: str, signer: LogSigner) -> None:
    try:
        note.verify(signed, [signer.vkey])
    except note.NoteError as exc:
        raise LogMismatch(
            f"the database's checkpoint of size {size} is not signed by this server's log key {signer.vkey} ({exc}): "
            "use the key the log was created with (the data dir's log-key, or CALIBER_LOG_KEY)"
        ) from exc


async def check_signed_history(ledger: Ledger, signer: LogSigner) -> None:
    """Every checkpoint this signer's history names is a row of the database with the same root.

    Rows other hosts (sharing the key) signed may lie between; each row's signature and root are checked
    against the entries by the bundle verifier.
    """
    try:
        history = signer.signed_history()
    except SignerStateError as exc:
        raise AuditError(str(exc)) from exc
    if not history:
        if signer.history_path.exists():
            raise AuditError(f"{signer.history_path} exists but {signer.state_path} does not: the signer's state was deleted")
        return
    async with ledger.db.read() as session:
        rows = {row.size: row.note for row in await session.execute(select(LedgerCheckpoint.size, LedgerCheckpoint.note))}
    for size, root in history:
        if size not in rows:
            raise AuditError(
                f"the checkpoint of size {size} (root {_b64(root)}) that this signer signed is missing from the database: "
                "checkpoint rows were deleted, the database was restored from an older copy, or a process stopped "
                "between signing and storing it"
            )
        try:
            signed_root = note.parse_checkpoint(note.split_note(rows[size])[0]).root
        except note.NoteError as exc:
            raise AuditError(f"the checkpoint of size {size} is not a checkpoint note: {exc}") from exc
        if signed_root != root:
            raise AuditError(
                f"the database's checkpoint of size {size} has root {_b64(signed_root)} but this signer signed "
                f"{_b64(root)} at that size: the checkpoint was replaced"
            )


Readable = Callable[[Sequence[dict[str, Any]]], Awaitable[list[bool]]]
"""For each event (its ``subjects`` at least), whether the bundle's reader may read it."""


class _Subjects(msgspec.Struct):
    subjects: list[str]


_subjects_of = msgspec.json.Decoder(_Subjects).decode


async def export_bundle(
    ledger: Ledger,
    signer: LogSigner,
    out: IO[bytes],
    progress: Progress | None = None,
    *,
    upto: int | None = None,
    readable: Readable | None = None,
) -> int:
    """Write the ledger as a bundle (after signing a checkpoint of the current tree); returns the entry count.

    With ``upto``, the bundle ends at the signed checkpoint of that size (the one a page showed), a later tree's
    entries and checkpoints left out; :class:`NotFound` when no checkpoint of that size was signed. With
    ``readable``, the entries it refuses are withheld: their lines give only the leaf hash, which the verifier hashes
    into the tree as it does the entries shown.
    """
    latest = await ledger.checkpoint(signer)
    async with ledger.db.read() as session:
        if upto is not None and upto != latest.size:
            chosen = await session.get(LedgerCheckpoint, upto)
            if chosen is None:
                raise NotFound(f"no signed checkpoint of size {upto}: open the ledger page again for the latest")
            latest = chosen
        checkpoints = list(
            await session.scalars(select(LedgerCheckpoint).where(LedgerCheckpoint.size <= latest.size).order_by(LedgerCheckpoint.size))
        )
        cosignatures: dict[int, list[str]] = {}
        for size, line in await session.execute(select(LedgerCosignature.size, LedgerCosignature.line).order_by(LedgerCosignature.witness)):
            cosignatures.setdefault(size, []).append(line)
        out.write(f"{BUNDLE_FORMAT}\norigin {ledger.origin}\ncheckpoints {len(checkpoints)}\n".encode())
        for checkpoint in checkpoints:
            signed = checkpoint.note + "".join(cosignatures.get(checkpoint.size, []))
            out.write(base64.b64encode(signed.encode()) + b"\n")
        if readable is None:
            out.write(f"entries {latest.size}\n".encode())
            async for batch in _entry_batches(session, latest.size, progress):
                out.writelines(data + b"\n" for data in batch)
            return latest.size
        with tempfile.TemporaryFile() as lines:  # the count of withheld entries heads them: known once all are read
            withheld = 0
            async for batch in _entry_batches(session, latest.size, progress):
                shown = await readable([{"subjects": _subjects_of(data).subjects} for data in batch])
                for data, show in zip(batch, shown, strict=True):
                    lines.write(data + b"\n" if show else WITHHELD + base64.b64encode(merkle.leaf_hash(data)) + b"\n")
                withheld += shown.count(False)
            out.write(f"entries {latest.size} withheld {withheld}\n".encode())
            lines.seek(0)
            shutil.copyfileobj(lines, out)
    return latest.size


async def _entry_batches(session: AsyncSession, size: int, progress: Progress | None) -> AsyncIterator[list[bytes]]:
    """The bytes of the first ``size`` entries, in order, :data:`BATCH` at a time."""
    for start in range(0, size, BATCH):
        end = min(start + BATCH, size)
        rows = await session.scalars(
            select(LedgerEntry.data).where(LedgerEntry.idx >= start, LedgerEntry.idx < end).order_by(LedgerEntry.idx)
        )
        yield list(rows)
        if progress:
            progress(end - start)


async def audit(ledger: Ledger, signer: LogSigner, progress: Progress | None = None) -> Report:
    """Verify everything in the database: entries, chains, checkpoints, signatures, stored subtrees and the head,
    and that the database holds every checkpoint the signer signed, neither behind nor forked from the last."""
    await check_log(ledger, signer)
    await check_signed_history(ledger, signer)
    with tempfile.TemporaryFile() as bundle:
        try:
            await export_bundle(ledger, signer, bundle, progress)
        except ForkRefused as exc:
            raise AuditError(f"the signer refuses the current tree: {exc}") from exc
        except StoreCorrupt as exc:
            raise AuditError(str(exc)) from exc
        bundle.seek(0)
        try:
            report = verify_bundle(bundle, signer.vkey)
        except VerificationError as exc:
            raise AuditError(str(exc)) from exc
        bundle.seek(0)
        leaves = _leaf_hashes(bundle)
    async with ledger.db.read() as session:
        await _check_nodes(session, leaves)
        head = await session.get(LedgerHead, HEAD_ID)
        if head is None or head.size != len(leaves) or head.root != merkle.root(leaves):
            raise AuditError("the ledger head (size and root) does not match the entries")
    return report


def _leaf_hashes(bundle: IO[bytes]) -> list[bytes]:
    for raw in iter(bundle.readline, b""):
        if raw.startswith(b"entries "):
            return [merkle.leaf_hash(line[:-1]) for line in iter(bundle.readline, b"")]
    return []


async def _check_nodes(session: AsyncSession, leaves: list[bytes]) -> None:
    """Every stored subtree hash must equal the one recomputed from the entries, level by level."""
    level, hashes = 0, leaves
    while hashes:
        stored = await session.execute(
            select(LedgerNode.key - node_key(level, 0), LedgerNode.hash)
            .where(LedgerNode.key >= node_key(level, 0), LedgerNode.key < node_key(level + 1, 0))
            .order_by(LedgerNode.key)
        )
        count = 0
        for index, value in stored:
            if index >= len(hashes) or hashes[index] != value:
                raise AuditError(f"stored subtree hash at level {level}, index {index} does not match the entries")
            count += 1
        if count != len(hashes):
            raise AuditError(f"level {level} of the stored tree has {count} hashes where the entries give {len(hashes)}")
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        level += 1


@dataclass(frozen=True)
class Difference:
    """One row that differs between the live tables and the replayed ledger."""

    table: str
    key: str
    live: dict[str, Any] | None
    replayed: dict[str, Any] | None

    def __str__(self) -> str:
        if self.live is None:
            return f"{self.table} {self.key}: in the ledger but missing from the live table: {self.replayed}"
        if self.replayed is None:
            return f"{self.table} {self.key}: in the live table but no event made it: {self.live}"
        changed = {k: (self.live[k], self.replayed[k]) for k in self.live if self.live[k] != self.replayed.get(k)}
        return f"{self.table} {self.key}: live differs from the ledger (live, ledger): {changed}"


async def replay(live: Database, empty: Database, registry: Registry, progress: Progress | None = None) -> list[Difference]:
    """Apply every event of ``live``'s ledger to the migrated, empty ``empty`` and compare the state tables.

    Each entry's ``data`` is read through its event type's struct (an entry that does not fit fails
    with its index) and applied by the same appliers as when it was written.
    """
    async with live.read() as source:
        size = int(await source.scalar(select(LedgerHead.size).where(LedgerHead.id == HEAD_ID)) or 0)
        async with empty.write() as target:
            for start in range(0, size, BATCH):
                end = min(start + BATCH, size)
                rows = await source.scalars(
                    select(LedgerEntry.data).where(LedgerEntry.idx >= start, LedgerEntry.idx < end).order_by(LedgerEntry.idx)
                )
                events = [canonical.check(data) for data in rows]
                for event_type, run in itertools.groupby(events, key=lambda event: event["type"]):
                    group = list(run)
                    try:
                        recorded = [registry.decode(event) for event in group]
                    except UnknownEventType:
                        raise AuditError(f"no applier for event type {event_type!r} (entry {group[0]['seq']})") from None
                    except EventShapeError as error:
                        raise AuditError(f"an entry from {group[0]['seq']} on does not fit its event type: {error}") from None
                    await registry.apply(target, recorded)
                if progress:
                    progress(end - start)
    differences: list[Difference] = []
    for table in registry.tables:
        differences += await _compare(live, empty, table)
    return differences


async def _rows(db: Database, table_name: str) -> dict[str, dict[str, Any]]:
    from caliber.models import metadata

    table = metadata.tables[table_name]
    columns = [c for c in table.columns if c.name not in IGNORED_COLUMNS]
    keys = [c.name for c in table.primary_key.columns]
    async with db.read() as session:
        result = await session.execute(select(*columns))
        rows = [dict(row._mapping) for row in result]
    return {"/".join(str(row[k]) for k in keys): row for row in rows}


async def _compare(live: Database, replayed: Database, table: str) -> list[Difference]:
    a, b = await _rows(live, table), await _rows(replayed, table)
    return [Difference(table, key, a.get(key), b.get(key)) for key in sorted(a.keys() | b.keys()) if a.get(key) != b.get(key)]
