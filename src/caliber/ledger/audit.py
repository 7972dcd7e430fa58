"""Export, full audit and replay of the custody ledger held in the database.

- :func:`export_bundle` writes the bundle the offline verifier reads.
- :func:`audit` runs that verifier over the database's own export, and also
  recomputes every stored subtree hash and the head (``caliber ledger verify``).
- :func:`replay` applies every event to an empty database and compares the
  result with the live state tables (``caliber ledger check``).
"""

from __future__ import annotations

import base64
import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import Database
from caliber.ledger import canonical, merkle
from caliber.ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerEntry, LedgerHead, LedgerNode, node_key
from caliber.ledger.signer import ForkRefused, LogSigner
from caliber.ledger.store import HEAD_ID, Ledger, StoreCorrupt, appliers
from caliber.ledger.verify import BUNDLE_FORMAT, Report, VerificationError, verify_bundle

__all__ = ["CUSTODY_TABLES", "AuditError", "Difference", "audit", "export_bundle", "replay"]

BATCH = 5000
# State tables the ledger rebuilds, and the columns that are not custody state.
CUSTODY_TABLES = [
    "depot",
    "location",
    "user_account",
    "user_depot",
    "ledger_witness",
    "label",
    "item",
    "item_photo",
    "ammunition_lot",
    "import_row",
    "transfer",
    "transfer_line",
    "stock_check",
    "stock_check_line",
    "label_calibration",
    "label_printer",
    "destruction_event",
    "destruction_line",
    "destruction_observer",
    "destruction_party",
    "destruction_attestation",
    "destruction_photo",
    "report_record",
    "report_hold",
    "report_target",
    "report_day",
    "report_month",
]
IGNORED_COLUMNS = {"created_at", "updated_at", "sa_orm_sentinel", "password_hash"}

Progress = Callable[[int], None]


class AuditError(Exception):
    """The database's ledger does not verify; the message names the entry or node and what broke."""


async def export_bundle(ledger: Ledger, signer: LogSigner, out: IO[bytes], progress: Progress | None = None) -> int:
    """Write the ledger as a bundle (after signing a checkpoint of the current tree); returns the entry count."""
    latest = await ledger.checkpoint(signer)
    async with ledger.db.read() as session:
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
        out.write(f"entries {latest.size}\n".encode())
        for start in range(0, latest.size, BATCH):
            end = min(start + BATCH, latest.size)
            rows = await session.scalars(
                select(LedgerEntry.data).where(LedgerEntry.idx >= start, LedgerEntry.idx < end).order_by(LedgerEntry.idx)
            )
            out.writelines(data + b"\n" for data in rows)
            if progress:
                progress(end - start)
    return latest.size


async def audit(ledger: Ledger, signer: LogSigner, progress: Progress | None = None) -> Report:
    """Verify everything in the database: entries, chains, checkpoints, signatures, stored subtrees and the head."""
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


async def replay(live: Database, empty: Database, progress: Progress | None = None) -> list[Difference]:
    """Apply every event of ``live``'s ledger to the migrated, empty ``empty`` and compare the state tables."""
    import caliber.domains  # noqa: F401  (registers every domain's appliers)

    handlers = appliers()
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
                    handler = handlers.get(event_type)
                    group = list(run)
                    if handler is None:
                        raise AuditError(f"no applier for event type {event_type!r} (entry {group[0]['seq']})")
                    await handler(target, group)
                if progress:
                    progress(end - start)
    differences: list[Difference] = []
    for table in CUSTODY_TABLES:
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
