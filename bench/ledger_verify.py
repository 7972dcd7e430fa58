"""Full offline verification of a ledger bundle against raw streaming SHA-256 over the same bytes.

Run: ``.venv/bin/python -m bench.ledger_verify [--entries 1000000] [--quick]``.
Builds a bundle of realistic custody events (hash chain, subject chains,
signed checkpoints every tenth of the log), then times ``verify_bundle``
(canonical check, leaf hashes, hash chain, subject chains, Merkle roots,
signatures) and, in the same run, ``hashlib.sha256`` streaming the same
entry bytes. Goal: at least one tenth of the raw rate.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import tempfile
import time
from pathlib import Path

from bench.figures import figure
from caliber.ledger import canonical, merkle, note
from caliber.ledger.verify import BUNDLE_FORMAT, verify_bundle

ORIGIN = "bench.caliber/ledger"


def event(seq: int, prev: bytes | None, subject: str, subject_prev: int | None) -> dict[str, object]:
    """A custody event shaped like an item move (about 430 bytes)."""
    return {
        "v": 1,
        "log": ORIGIN,
        "seq": seq,
        "time": "2026-11-28T08:12:29.123456Z",
        "actor": {"id": "01a22140-4f9e-7707-8f6b-733a8c371b23", "name": "marko.clerk", "role": "depot_clerk"},
        "type": "item.moved",
        "subjects": [subject],
        "data": {"from": "Building A / Room 1 / Rack 2", "to": "Magazine 3", "reason": "consolidation", "serial": f"AK{seq:08d}"},
        "prev": base64.b64encode(prev).decode() if prev else None,
        "subject_prev": {subject: subject_prev} if subject_prev is not None else {},
    }


def build(path: Path, entries: int, skey: str) -> int:
    """Write a bundle of ``entries`` events; returns the entry bytes written."""
    lines: list[bytes] = []
    checkpoints: list[str] = []
    last_of: dict[str, int] = {}
    frontier = merkle.Frontier()
    prev: bytes | None = None
    every = max(1, entries // 10)
    for seq in range(entries):
        subject = f"1{seq % 50_000:011d}"
        data = canonical.encode(event(seq, prev, subject, last_of.get(subject)))
        last_of[subject] = seq
        lines.append(data)
        prev = merkle.leaf_hash(data)
        frontier.push(prev)
        if (seq + 1) % every == 0 or seq + 1 == entries:
            checkpoints.append(note.sign(note.format_checkpoint(note.Checkpoint(ORIGIN, seq + 1, frontier.root())), skey))
    with path.open("wb") as out:
        out.write(f"{BUNDLE_FORMAT}\norigin {ORIGIN}\ncheckpoints {len(checkpoints)}\n".encode())
        out.writelines(base64.b64encode(c.encode()) + b"\n" for c in checkpoints)
        out.write(f"entries {entries}\n".encode())
        out.writelines(line + b"\n" for line in lines)
    return sum(map(len, lines))


def raw_sha256(path: Path) -> float:
    """Seconds to stream the bundle's entry lines through SHA-256."""
    start = time.perf_counter()
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for line in stream:
            digest.update(line)
    return time.perf_counter() - start


def timed_verify(path: Path, vkey: str, jobs: int) -> float:
    """Seconds for a full verification of the bundle with ``jobs`` processes."""
    start = time.perf_counter()
    with path.open("rb") as stream:
        report = verify_bundle(stream, vkey, jobs=jobs)
    elapsed = time.perf_counter() - start
    assert report.entries == report.latest_size
    return elapsed


def main() -> None:
    """Build, time raw hashing and verification with one process and with every CPU, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 entries")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="processes for the parallel run")
    args = parser.parse_args()
    entries = 100_000 if args.quick else args.entries
    skey, vkey = note.generate_key(ORIGIN)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.bundle"
        start = time.perf_counter()
        size = build(path, entries, skey)
        built = time.perf_counter() - start
        raw = raw_sha256(path)
        single = timed_verify(path, vkey, 1)
        parallel = timed_verify(path, vkey, args.jobs)
    print(f"ledger verify: {entries:,} entries, {size / entries:.0f} bytes each (bundle built in {built:.1f} s)")
    print(f"  raw streaming SHA-256   {raw:7.2f} s   {entries / raw:>12,.0f} entries/s   (reference)")
    for label, seconds in (("full verify, 1 process", single), (f"full verify, {args.jobs} processes", parallel)):
        print(f"  {label:24s}{seconds:7.2f} s   {entries / seconds:>12,.0f} entries/s   ratio {raw / seconds:.3f}   goal >= 0.100")
        reference = f"raw SHA-256 {entries / raw:,.0f} entries/s"
        ratio = raw / seconds
        figure(
            "ledger_verify",
            f"{label}, {entries:,} entries",
            entries / seconds,
            "entries/s",
            reference=reference,
            ratio=ratio,
            goal=">= 0.1 of raw",
            met=ratio >= 0.1,
        )


if __name__ == "__main__":
    main()
