"""Response structs of the ledger API. Hashes and bytes are standard base64."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from caliber.schemas import Input

WITHHELD = "null when the entry concerns no record in the caller's scope: its leaf hash alone lets the range verify"


class EntryOut(msgspec.Struct):
    """One entry: its canonical bytes (what is hashed), leaf hash and the event they encode.

    ``data`` and ``event`` are null when the entry concerns no record the caller may read; ``leaf_hash`` is always
    there, so a range of entries still verifies against the tree.
    """

    index: int
    data: Annotated[str | None, msgspec.Meta(description=f"base64 of the event's RFC 8785 bytes; {WITHHELD}")]
    leaf_hash: str
    event: Annotated[dict[str, Any] | None, msgspec.Meta(description=f"the custody event; {WITHHELD}")]


class EntryWithProof(EntryOut, kw_only=True):
    """An entry with its ``c2sp.org/tlog-proof@v1`` bundle against the latest checkpoint."""

    tlog_proof: str


class InclusionProofOut(msgspec.Struct):
    """An inclusion proof (RFC 9162 §2.1.3)."""

    index: int
    size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyProofOut(msgspec.Struct):
    """A consistency proof (RFC 9162 §2.1.4)."""

    old: int
    new: int
    proof: list[str]


class WitnessKeyIn(Input, forbid_unknown_fields=True):
    """A witness's verifier key to register."""

    vkey: Annotated[str, msgspec.Meta(min_length=10, max_length=400)]


class WitnessOut(msgspec.Struct):
    """A registered witness key."""

    name: str
    vkey: str


class TimelineEntry(msgspec.Struct):
    """One event of a subject's custody chain, with its inclusion proof against the checkpoint."""

    index: int
    leaf_hash: str
    event: dict[str, Any]
    proof: list[str]


class Timeline(msgspec.Struct):
    """Every event of one subject, provable against one signed checkpoint."""

    subject: str
    checkpoint: str
    size: int
    entries: list[TimelineEntry]
