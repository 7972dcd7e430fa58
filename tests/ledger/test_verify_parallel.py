"""The verifier's worker processes reach the same verdict, and name the same breakage, as one process."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from caliber.ledger import canonical, merkle, note, verify
from caliber.ledger.verify import VerificationError, verify_bundle

ORIGIN = "parallel.example/ledger"
SKEY, VKEY = note.generate_key(ORIGIN)
ENTRIES = 700


def events(count: int) -> list[bytes]:
    """A chained log: subjects recur across the whole log, some events carry nested data (the full check's path)."""
    lines: list[bytes] = []
    last_of: dict[str, int] = {}
    prev: str | None = None
    for seq in range(count):
        subjects = sorted({f"item:{seq % 37}", f"depot:{seq % 5}"} if seq % 3 else {f"item:{seq % 37}"})
        data: dict[str, object] = {"to": f"Rack {seq % 11}", "n": seq}
        if seq % 7 == 0:
            data["changes"] = {"serial": {"old": "AK1", "new": "AK-1"}}
        line = canonical.encode(
            {
                "actor": {"id": None, "name": "operator", "role": "admin"},
                "data": data,
                "log": ORIGIN,
                "prev": prev,
                "seq": seq,
                "subject_prev": {s: last_of[s] for s in subjects if s in last_of},
                "subjects": subjects,
                "time": "2026-11-28T10:00:00.000001Z",
                "type": "item.moved",
                "v": 1,
            }
        )
        last_of.update(dict.fromkeys(subjects, seq))
        prev = base64.b64encode(merkle.leaf_hash(line)).decode()
        lines.append(line)
    return lines


def write_bundle(path: Path, lines: list[bytes], signed_sizes: list[int]) -> None:
    leaves = [merkle.leaf_hash(line) for line in lines]
    notes = [note.sign(note.format_checkpoint(note.Checkpoint(ORIGIN, n, merkle.root(leaves[:n]))), SKEY) for n in signed_sizes]
    with path.open("wb") as out:
        out.write(f"{verify.BUNDLE_FORMAT}\norigin {ORIGIN}\ncheckpoints {len(notes)}\n".encode())
        out.writelines(base64.b64encode(n.encode()) + b"\n" for n in notes)
        out.write(f"entries {len(lines)}\n".encode())
        out.writelines(line + b"\n" for line in lines)


def verdict(path: Path, jobs: int) -> str:
    try:
        with path.open("rb") as stream:
            report = verify_bundle(stream, VKEY, jobs=jobs)
    except VerificationError as exc:
        return f"FAILED: {exc}"
    return f"OK {report.entries} {report.checkpoints} {base64.b64encode(report.latest_root).decode()}"


@pytest.fixture(autouse=True)
def always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "PARALLEL_FROM", 0)


def swap(lines: list[bytes]) -> list[bytes]:
    return [*lines[:300], lines[301], lines[300], *lines[302:]]


def insert(lines: list[bytes]) -> list[bytes]:
    return [*lines[:400], lines[399], *lines[400:]]


TAMPERS: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "untouched": lambda lines: lines,
    "one byte of a fast-path entry": lambda lines: [*lines[:351], lines[351].replace(b"Rack", b"Rock"), *lines[352:]],
    "one byte of a nested entry": lambda lines: [*lines[:350], lines[350].replace(b"AK-1", b"AK-2"), *lines[351:]],
    "whitespace": lambda lines: [*lines[:200], lines[200].replace(b',"log"', b', "log"'), *lines[201:]],
    "a deleted entry": lambda lines: lines[:500] + lines[501:],
    "two swapped entries": swap,
    "an inserted entry": insert,
}


@pytest.mark.parametrize("tamper", TAMPERS)
def test_workers_agree_with_one_process(tmp_path: Path, tamper: str) -> None:
    honest = events(ENTRIES)
    bundle = tmp_path / "ledger.bundle"
    lines = TAMPERS[tamper](honest)
    write_bundle(bundle, lines, [1, 250, 333, 512, ENTRIES] if len(lines) == ENTRIES else [1, 250, 333, 512, len(lines)])
    alone, together = verdict(bundle, 1), verdict(bundle, 2)
    assert together == alone
    assert together.startswith("OK") == (tamper == "untouched"), together
    with bundle.open("rb") as stream:  # the workers themselves decided, rather than handing back to one process
        header = verify._read_bundle(stream)
        roots = verify._walk_parallel(str(bundle), stream.tell(), header.count, header.origin, {header.count}, jobs=2)
    assert (roots is not None) == (tamper == "untouched")


def test_a_signed_root_inside_a_run_is_checked(tmp_path: Path) -> None:
    """A checkpoint of a size in the middle of a worker's run must match that prefix's root."""
    lines = events(ENTRIES)
    bundle = tmp_path / "ledger.bundle"
    write_bundle(bundle, lines, [333, ENTRIES])
    assert verdict(bundle, 2).startswith("OK")
    leaves = [merkle.leaf_hash(line) for line in lines]
    wrong = note.sign(note.format_checkpoint(note.Checkpoint(ORIGIN, 333, merkle.root(leaves[:332]))), SKEY)
    text = bundle.read_bytes().split(b"\n")
    text[3] = base64.b64encode(wrong.encode())
    bundle.write_bytes(b"\n".join(text))
    assert "signed root of size 333" in verdict(bundle, 2)
