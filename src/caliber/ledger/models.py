"""Tables of the custody ledger: entries, their subjects, stored subtree hashes, the head, checkpoints.

Rows here are only ever inserted, except the single head row, which holds the
tree size and root under a row lock while an append runs.
"""

from __future__ import annotations

import datetime as dt

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

__all__ = [
    "NODE_INDEX_BITS",
    "LedgerCheckpoint",
    "LedgerCosignature",
    "LedgerEntry",
    "LedgerHead",
    "LedgerNode",
    "LedgerSubject",
    "LedgerWitness",
    "node_key",
]


class LedgerEntry(DefaultBase):
    """One custody event: its index in the log and its RFC 8785 bytes (the bytes that are hashed)."""

    __tablename__ = "ledger_entry"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    event_type: Mapped[str] = mapped_column(String(64), index=True)


class LedgerSubject(DefaultBase):
    """Which entries concern a subject (a label code or record key): each subject's own custody chain."""

    __tablename__ = "ledger_subject"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


NODE_INDEX_BITS = 48


def node_key(level: int, index: int) -> int:
    """The key of the subtree of leaves [index * 2**level, (index + 1) * 2**level): level in the high bits."""
    return level << NODE_INDEX_BITS | index


class LedgerNode(DefaultBase):
    """The hash of a complete subtree, keyed by :func:`node_key`; level 0 holds the leaf hashes.

    One integer key lets a proof fetch all its nodes with one cached ``IN`` query.
    """

    __tablename__ = "ledger_node"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(DefaultBase):
    """The one row that appends lock: current size, root and last leaf hash."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    last_leaf: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)


class LedgerCheckpoint(DefaultBase):
    """A signed checkpoint (C2SP tlog-checkpoint as a signed note); one per tree size."""

    __tablename__ = "ledger_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class LedgerCosignature(DefaultBase):
    """A witness's cosignature line on the checkpoint of one size."""

    __tablename__ = "ledger_cosignature"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class LedgerWitness(DefaultBase):
    """An inspector's witness key that may cosign this log's checkpoints."""

    __tablename__ = "ledger_witness"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    vkey: Mapped[str] = mapped_column(String(400))
