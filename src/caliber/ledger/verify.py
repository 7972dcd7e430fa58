"""The offline verifier: checks an exported ledger bundle without trusting the server.

Pure: standard library, ``cryptography`` and ``rfc8785`` (through the other pure
ledger modules) only, so an inspector can copy this package to a machine with
just those installed. Run ``caliber-verify BUNDLE --log-key VKEY`` or
``python -m caliber.ledger.verify BUNDLE --log-key VKEY``.

Checks: every entry's bytes are canonical RFC 8785 and name this log and their
own index; the hash chain (``prev``); every subject's chain (``subject_prev``);
the Merkle root of every checkpoint; the log's signature on every checkpoint;
witness cosignatures against pinned keys (and a quorum on the latest); no two
checkpoints of one size with different roots; and, with ``--state``,
consistency with the checkpoint accepted last time. On a fork it prints both
signed checkpoints as proof of misbehaviour. With ``--certificate FILE`` it
also checks a certificate of destruction (its canonical JSON statement)
against the verified entries: their ``destruction.certified`` events carry its
SHA-256, name its event, and certify exactly the records it lists. Exit 0
only when all holds.

A bundle for a reader of part of the log (a depot's staff, an inspector of one
jurisdiction) withholds the entries outside their scope: in place of each, a
line ``#`` and the entry's leaf hash. Every checkpoint's root is still checked
over every leaf, so the entries shown are proven in their places and none can be
left out unseen; the hash chain runs through the withheld leaves (``prev`` is the
leaf hash of the entry before); a record's own chain may pass through a
withheld entry, and only forward, to an index after its last shown one. The
header then announces how many are withheld, and the verifier counts them itself.
A withheld entry gives nothing of its subjects, so whether one after a record's
last entry shown is its own no bundle can show: ``--whole`` says how many follow it.

Bundle format (``caliber-ledger-bundle/v1``), line by line::

    caliber-ledger-bundle/v1
    origin <origin>
    checkpoints <M>
    <base64 of a signed checkpoint note, cosignatures included>
    ...
    entries <N>                              (or: entries <N> withheld <K>)
    <entry 0: its canonical JSON bytes>      (canonical JSON holds no newline)
    #<base64 of entry 1's leaf hash>          (an entry withheld)
    ...
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import multiprocessing
import os
import re
import sys
from binascii import a2b_base64, b2a_base64
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from caliber.ledger import canonical, merkle, note

__all__ = ["BUNDLE_FORMAT", "WITHHELD", "CertificateReport", "Report", "VerificationError", "main", "verify_bundle", "verify_certificate"]

BUNDLE_FORMAT = "caliber-ledger-bundle/v1"
PARALLEL_FROM = 50_000
"""Bundles with fewer entries are checked in one process: starting workers costs more than they save."""
_BATCH = 4096  # leaves hashed into the tree at a time


class VerificationError(Exception):
    """What broke, where; ``evidence`` holds proof of misbehaviour when there is some."""

    def __init__(self, message: str, evidence: str = "") -> None:
        super().__init__(message)
        self.evidence = evidence


@dataclass
class Report:
    """What a successful verification established."""

    origin: str
    entries: int
    checkpoints: int
    latest_size: int
    latest_root: bytes
    cosigned_by: list[str] = field(default_factory=list)
    withheld: int = 0
    """Entries the bundle gives only the leaf hash of (outside its reader's scope)."""
    crossed: list[str] = field(default_factory=list)
    """The records whose own chain, between two entries shown, passes through a withheld one."""
    tails: dict[str, tuple[int, int]] = field(default_factory=dict)
    """For each record asked to be whole: the index of its last entry shown, and how many entries after it are
    withheld (any of them may be its own: a withheld entry gives nothing of its subjects)."""


WITHHELD = b"#"
"""The first byte of a withheld entry's line, followed by the base64 of its leaf hash (an entry starts with ``{``)."""


@dataclass
class _Header:
    origin: str
    checkpoints: list[str]
    count: int
    withheld: int
    entries: Iterator[tuple[int, bytes]]


def _read_bundle(stream: IO[bytes]) -> _Header:
    def line(expect: str) -> str:
        raw = stream.readline()
        if not raw.endswith(b"\n"):
            raise VerificationError(f"the bundle ends early: expected {expect}")
        return raw[:-1].decode("utf-8")

    def counted(name: str) -> int:
        key, _, number = line(f"the {name} count").partition(" ")
        if key != name or re.fullmatch(r"[0-9]+", number) is None:
            raise VerificationError(f"the bundle has no {name} count")
        return int(number)

    if line("the format line") != BUNDLE_FORMAT:
        raise VerificationError(f"not a {BUNDLE_FORMAT} bundle")
    key, _, origin = line("the origin line").partition(" ")
    if key != "origin" or not origin:
        raise VerificationError("the bundle has no origin line")
    checkpoints = [base64.b64decode(line("a checkpoint")).decode("utf-8") for _ in range(counted("checkpoints"))]
    key, _, counts = line("the entries count").partition(" ")
    announced = re.fullmatch(r"([0-9]+)(?: withheld ([0-9]+))?", counts)
    if key != "entries" or announced is None:
        raise VerificationError("the bundle has no entries count")
    count, withheld = int(announced[1]), int(announced[2] or 0)

    def entries() -> Iterator[tuple[int, bytes]]:
        for index in range(count):
            raw = stream.readline()
            if not raw.endswith(b"\n"):
                raise VerificationError(f"entry {index}: missing, the bundle ends before it (truncated)")
            yield index, raw[:-1]
        if stream.readline():
            raise VerificationError(f"the bundle holds more than the {count} entries it announces")

    return _Header(origin, checkpoints, count, withheld, entries())


# The fast path. One compiled pattern recognises the canonical bytes of the
# envelope Caliber writes (keys in their fixed order, canonical strings and
# integers, no whitespace), with ``data`` an object of scalars and lists of
# scalars under plain keys, and captures what the chain checks need. It only
# ever accepts: anything it does not recognise (nested data, escaped or unusual
# keys, long integers, a broken chain) goes to _check_entry, which parses the
# entry, decides, and names what broke. Property tests hold the two to the
# same verdict.
_STRING = rb'"[^"\\\x00-\x1f]*(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f]*)*"'
_INDEX = rb"(?:0|[1-9][0-9]{0,14})"
_SUBJECT = rb'"[!#-\[\]-~]+"'  # printable ASCII, no quote or backslash


def _envelope(string: bytes) -> re.Pattern[bytes]:
    scalar = rb"(?:" + string + rb"|0|-?[1-9][0-9]{0,14}|true|false|null)"
    value = rb"(?:" + scalar + rb"|\[(?:" + scalar + rb"(?:," + scalar + rb")*)?\])"
    member = rb'"[A-Za-z0-9_]+":' + value
    return re.compile(
        rb'\{"actor":\{"id":(?:null|' + string + rb'),"name":' + string + rb',"role":' + string + rb"\}"
        rb',"data":(\{(?:' + member + rb"(?:," + member + rb")*)?\})"
        rb',"log":(' + string + rb")"
        rb',"prev":(null|"[A-Za-z0-9+/]{43}=")'
        rb',"seq":(' + _INDEX + rb")"
        rb',"subject_prev":\{((?:' + _SUBJECT + rb":" + _INDEX + rb"(?:," + _SUBJECT + rb":" + _INDEX + rb")*)?)\}"
        rb',"subjects":\[((?:' + _SUBJECT + rb"(?:," + _SUBJECT + rb")*)?)\]"
        rb',"time":' + string + rb',"type":' + string + rb',"v":1\}',
    )


_ENVELOPE = _envelope(_STRING)
# Bytes without a backslash or a control character hold no escapes, so every
# quoted run is a canonical string: a simpler pattern reads them twice as fast.
_PLAIN_ENVELOPE = _envelope(rb'"[^"]*"')
_ESCAPES = bytes(range(0x20)) + b"\\"
# Exact on bytes the pattern accepted: there a quote after "{" or "," always opens a string.
_DATA_KEY = re.compile(rb'[{,]"([A-Za-z0-9_]+)":')
_QUOTED = re.compile(rb'"([^"]+)"')
_KEY_ORDERS: set[tuple[bytes, ...]] = set()  # key sequences of data objects already found in strict order
_KEY_ORDERS_KEPT = 4096


_PAIR = re.compile(rb'"([^"]+)":([0-9]+)')

Known = dict[bytes, int]
"""Subject -> index of its latest entry so far."""
Claims = dict[bytes, int | None]
"""Subject -> the previous index its first entry in a run claims (None: none), checked when runs are joined."""


@dataclass
class _Withheld:
    """The withheld entries met so far, and the subjects whose chain passed through one."""

    indexes: set[int] = field(default_factory=set)
    crossed: set[bytes] = field(default_factory=set)

    def passes(self, subject: bytes, claim: int | None, after: int) -> bool:
        """Whether ``subject``'s claimed previous entry is a withheld one after index ``after`` (its last shown)."""
        if claim is None or claim <= after or claim not in self.indexes:
            return False
        self.crossed.add(subject)
        return True


Withheld = _Withheld | None
"""What a walk accepting withheld entries gathers (None: it accepts none)."""


def _chain_holds(
    index: int, subjects: list[bytes], claimed: dict[bytes, int], last_of: Known, first: Claims | None, *, withheld: Withheld = None
) -> bool:
    """Each subject's claimed previous entry is its latest one, or a withheld entry after that; a worker notes the
    claims it cannot check yet."""
    for subject in subjects:
        claim = claimed.get(subject)
        if subject in last_of:
            if claim != last_of[subject] and not (withheld is not None and withheld.passes(subject, claim, last_of[subject])):
                return False
        elif first is not None:
            first.setdefault(subject, claim)
        elif claim is not None and not (withheld is not None and withheld.passes(subject, claim, -1)):
            return False
    if not claimed.keys() <= set(subjects):
        return False
    for subject in subjects:
        last_of[subject] = index
    return True


def _entry_holds(index: int, data: bytes, origin: bytes, prev: bytes, last_of: Known, *, first: Claims | None = None) -> bool:
    """True when the fast path proves entry ``index`` canonical and chained (and records its subjects)."""
    match = (_PLAIN_ENVELOPE if len(data.translate(None, _ESCAPES)) == len(data) else _ENVELOPE).fullmatch(data)
    if match is None:
        return False
    members, log, claimed_prev, seq, subject_prev, listed = match.groups()
    if log != origin or claimed_prev != prev or int(seq) != index:
        return False
    keys = tuple(_DATA_KEY.findall(members))
    if len(keys) > 1 and keys not in _KEY_ORDERS:
        if list(keys) != sorted(set(keys)):
            return False
        if len(_KEY_ORDERS) < _KEY_ORDERS_KEPT:
            _KEY_ORDERS.add(keys)
    subjects = _QUOTED.findall(listed)
    if len(subjects) > 1 and subjects != sorted(set(subjects)):
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    if first is None or all(map(last_of.__contains__, subjects)):
        if subject_prev != b",".join([b'"%b":%d' % (s, last_of[s]) for s in subjects if s in last_of]):
            return False
        for subject in subjects:
            last_of[subject] = index
        return True
    pairs = _PAIR.findall(subject_prev)
    named = [subject for subject, _ in pairs]
    if len(named) > 1 and named != sorted(set(named)):
        return False
    return _chain_holds(index, subjects, {subject: int(claim) for subject, claim in pairs}, last_of, first)


def _check_entry(
    index: int, data: bytes, origin: str, prev: bytes | None, last_of: Known, *, first: Claims | None = None, withheld: Withheld = None
) -> None:
    try:
        event = canonical.check(data)
    except canonical.CanonicalError as exc:
        raise VerificationError(f"entry {index}: {exc}") from exc
    if not isinstance(event, dict):
        raise VerificationError(f"entry {index}: not a JSON object")
    if event.get("v") != 1 or event.get("log") != origin or event.get("seq") != index:
        raise VerificationError(
            f"entry {index}: names log {event.get('log')!r} and index {event.get('seq')!r} (moved, or from another log)"
        )
    if event.get("prev") != (b2a_base64(prev, newline=False).decode() if prev is not None else None):
        raise VerificationError(
            f"entry {index}: the hash chain breaks: its prev is not the hash of entry {index - 1} "
            "(one of them changed, or one removed or inserted)"
        )
    subjects = event.get("subjects")
    subject_prev = event.get("subject_prev")
    if (
        not isinstance(subjects, list)
        or not isinstance(subject_prev, dict)
        or not all(isinstance(s, str) for s in subjects)
        or not all(type(claim) is int for claim in subject_prev.values())
    ):
        raise VerificationError(f"entry {index}: subjects or subject_prev missing or malformed")
    claimed = {s.encode(): claim for s, claim in subject_prev.items()}
    if not _chain_holds(index, [s.encode() for s in subjects], claimed, last_of, first, withheld=withheld):
        expected = {s: last_of[s.encode()] for s in subjects if s.encode() in last_of}
        broken = sorted(set(subject_prev) ^ set(expected) or {s for s in expected if expected[s] != subject_prev[s]})
        raise VerificationError(f"entry {index}: the custody chain of {broken[0]} breaks")


def _withheld_leaf(index: int, data: bytes) -> bytes:
    """The leaf hash a withheld entry's line gives, strictly: ``#`` and the canonical base64 of 32 bytes."""
    try:
        leaf = a2b_base64(data[1:], strict_mode=True)
    except ValueError:
        leaf = b""
    if len(leaf) != merkle.HASH_SIZE or b2a_base64(leaf, newline=False) != data[1:]:
        raise VerificationError(f"entry {index}: withheld, but its line is not # and the base64 of a leaf hash")
    return leaf


def _walk(
    entries: Iterable[tuple[int, bytes]],
    origin: str,
    prev: bytes | None,
    frontier: merkle.Frontier,
    wanted: Collection[int],
    *,
    last_of: Known,
    first: Claims | None = None,
    withheld: Withheld = None,
) -> tuple[int, bytes | None, dict[int, list[tuple[int, bytes]]]]:
    """Check consecutive entries and grow ``frontier`` with them.

    Returns the size reached, the last leaf hash, and the frontier's nodes at
    every size in ``wanted`` passed on the way. Withheld entries are accepted
    only with a ``withheld`` set, which gathers their indexes.
    """
    origin_json = canonical.encode(origin)
    prev_json = b"null" if prev is None else b'"' + b2a_base64(prev, newline=False) + b'"'
    sha256 = hashlib.sha256
    leaves: list[bytes] = []
    snapshots: dict[int, list[tuple[int, bytes]]] = {}
    count = frontier.size
    for index, data in entries:
        if data[:1] == WITHHELD and withheld is not None:
            prev = _withheld_leaf(index, data)
            withheld.indexes.add(index)
        else:
            if not _entry_holds(index, data, origin_json, prev_json, last_of, first=first):
                _check_entry(index, data, origin, prev, last_of, first=first, withheld=withheld)
            prev = sha256(b"\x00" + data).digest()
        prev_json = b'"' + b2a_base64(prev, newline=False) + b'"'
        leaves.append(prev)
        count = index + 1
        if count in wanted or len(leaves) == _BATCH:
            frontier.extend(leaves)
            leaves.clear()
            if count in wanted:
                snapshots[count] = list(frontier.nodes)
    frontier.extend(leaves)
    return count, prev, snapshots


@dataclass
class _Run:
    """What one worker established about one run of consecutive entries."""

    start: int
    count: int
    prev: bytes | None
    last_leaf: bytes | None
    nodes: list[tuple[int, bytes]]
    snapshots: dict[int, list[tuple[int, bytes]]]
    first: Claims
    last_of: Known


def _check_run(task: tuple[str, int, int, str, frozenset[int]]) -> _Run | None:
    """A worker: check the entries between two byte offsets; None when anything is off (the caller then decides alone)."""
    path, begin, end, origin, wanted = task
    with open(path, "rb") as stream:
        stream.seek(begin)
        block = stream.read(end - begin)
    if not block.endswith(b"\n"):
        return None
    lines = block[:-1].split(b"\n")
    try:  # the run's first entry says where the run starts and what precedes it; joining the runs checks both
        head = canonical.check(lines[0])
        start, prev_text = head["seq"], head["prev"]
        prev = None if prev_text is None else a2b_base64(prev_text)
    except (canonical.CanonicalError, KeyError, TypeError, ValueError):
        return None
    if type(start) is not int or start < 0 or (prev is not None and len(prev) != merkle.HASH_SIZE):
        return None
    frontier = merkle.Frontier(size=start)
    last_of: Known = {}
    first: Claims = {}
    try:
        _, last_leaf, snapshots = _walk(enumerate(lines, start), origin, prev, frontier, wanted, last_of=last_of, first=first)
    except VerificationError:
        return None
    return _Run(start, len(lines), prev, last_leaf, frontier.nodes, snapshots, first, last_of)


def _run_bounds(path: str, begin: int, parts: int) -> list[tuple[int, int]]:
    """Byte ranges of about equal size from ``begin`` to the end of the file, each starting at a line."""
    end = os.path.getsize(path)
    cuts = [begin]
    with open(path, "rb") as stream:
        for part in range(1, parts):
            stream.seek(max(begin + (end - begin) * part // parts - 1, cuts[-1]))
            stream.readline()
            if cuts[-1] < stream.tell() < end:
                cuts.append(stream.tell())
    cuts.append(end)
    return list(itertools.pairwise(cuts))


def _walk_parallel(path: str, begin: int, count: int, origin: str, wanted: set[int], *, jobs: int) -> dict[int, bytes] | None:
    """The roots at the wanted sizes, from ``jobs`` processes each checking runs of the entries; None if any run fails."""
    tasks = [(path, lo, hi, origin, frozenset(wanted)) for lo, hi in _run_bounds(path, begin, jobs * 4)]
    frontier = merkle.Frontier()
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    last_of: Known = {}
    prev: bytes | None = None
    # An executor, not a Pool: leaving early cancels the runs not started and waits for the running ones to end,
    # where terminating a Pool with runs in flight can hang.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_check_run, task) for task in tasks]
        try:
            for future in futures:
                run = future.result()
                if run is None or run.start != frontier.size or run.prev != prev:
                    return None
                if any(last_of.get(subject) != claim for subject, claim in run.first.items()):
                    return None
                last_of.update(run.last_of)
                for size, nodes in run.snapshots.items():
                    upto = merkle.Frontier(frontier.nodes, frontier.size)
                    for level, value in nodes:
                        upto.add(level, value)
                    roots[size] = upto.root()
                for level, value in run.nodes:
                    frontier.add(level, value)
                prev = run.last_leaf
        except BrokenProcessPool:  # a worker died: one process decides
            return None
        finally:
            for future in futures:
                future.cancel()
    return roots if frontier.size == count else None


@dataclass(frozen=True)
class _Signed:
    size: int
    root: bytes
    note: str


def _open_checkpoints(notes: list[str], origin: str, log_key: str) -> list[_Signed]:
    opened: dict[int, _Signed] = {}
    for position, signed in enumerate(notes):
        try:
            checkpoint = note.parse_checkpoint(note.verify(signed, [log_key]))
        except note.NoteError as exc:
            raise VerificationError(f"checkpoint {position}: {exc}") from exc
        if checkpoint.origin != origin:
            raise VerificationError(f"checkpoint {position}: origin {checkpoint.origin!r} is not {origin!r}")
        other = opened.get(checkpoint.size)
        if other is not None and other.root != checkpoint.root:
            raise VerificationError(
                f"two signed checkpoints of size {checkpoint.size} with different roots: the log equivocated",
                evidence=other.note + "\n" + signed,
            )
        opened[checkpoint.size] = _Signed(checkpoint.size, checkpoint.root, signed)
    return [opened[size] for size in sorted(opened)]


def verify_bundle(
    stream: IO[bytes],
    log_key: str,
    witnesses: list[str] | None = None,
    quorum: int = 0,
    state_dir: Path | None = None,
    *,
    jobs: int = 1,
    whole: Collection[str] = (),
) -> Report:
    """Verify a bundle read from ``stream``; :class:`VerificationError` names what broke.

    With ``jobs`` above 1, a stream opened from a file, and at least
    :data:`PARALLEL_FROM` entries, that many processes check runs of the
    entries side by side; any failure is then checked again in one process,
    which names what broke. Each record in ``whole`` must have no withheld
    entry between two of its entries shown (entries after its last one shown
    cannot be told from those of other records).
    """
    witnesses = witnesses or []
    header = _read_bundle(stream)
    origin, notes, count, entries = header.origin, header.checkpoints, header.count, header.entries
    if log_key.split("+", 1)[0] != origin:
        raise VerificationError(f"the pinned log key is for {log_key.split('+', 1)[0]!r}, the bundle for {origin!r}")
    checkpoints = _open_checkpoints(notes, origin, log_key)
    if not checkpoints:
        raise VerificationError("the bundle has no signed checkpoint")
    accepted = _accepted_before(state_dir, origin, log_key)
    wanted_roots = {c.size for c in checkpoints} | ({accepted.size} if accepted else set())
    roots = None
    withheld, last_of = _Withheld(), Known()
    # Workers take no withheld entry (a record's chain through one needs every index before it): one process does.
    if jobs > 1 and count >= PARALLEL_FROM and not header.withheld and not whole and isinstance(getattr(stream, "name", None), str):
        roots = _walk_parallel(stream.name, stream.tell(), count, origin, wanted_roots, jobs=jobs)
    if roots is None:  # one process, which also names what broke when a worker found something wrong
        count, _, snapshots = _walk(entries, origin, None, merkle.Frontier(), wanted_roots, last_of=last_of, withheld=withheld)
        roots = {size: merkle.Frontier(nodes).root() for size, nodes in snapshots.items()} | {0: merkle.EMPTY_ROOT}
    if len(withheld.indexes) != header.withheld:
        raise VerificationError(f"the bundle announces {header.withheld} withheld entries but withholds {len(withheld.indexes)}")
    if absent := sorted(subject for subject in whole if subject.encode() not in last_of):
        raise VerificationError(f"the bundle shows no entry of {', '.join(absent)}")
    if lacking := sorted(subject for subject in whole if subject.encode() in withheld.crossed):
        raise VerificationError(f"the history of {', '.join(lacking)} is not whole: the bundle withholds entries of it")
    for checkpoint in checkpoints:
        if checkpoint.size > count:
            raise VerificationError(f"the checkpoint of size {checkpoint.size} covers entries the bundle lacks (it has {count})")
        if roots[checkpoint.size] != checkpoint.root:
            raise VerificationError(
                f"the entries do not hash to the signed root of size {checkpoint.size}: "
                "an entry was changed, removed, inserted or reordered"
            )
    latest = checkpoints[-1]
    if latest.size != count:
        raise VerificationError(f"the bundle has {count} entries but its latest checkpoint covers {latest.size}")
    cosigned = _check_cosignatures(latest, witnesses, quorum)
    if accepted is not None:
        _check_against_accepted(accepted, latest, roots)
    if state_dir is not None:
        _remember(state_dir, origin, latest.note)
    crossed = sorted(subject.decode() for subject in withheld.crossed)
    lasts = {subject: last_of[subject.encode()] for subject in whole}
    tails = {subject: (last, sum(index > last for index in withheld.indexes)) for subject, last in lasts.items()}
    return Report(origin, count, len(checkpoints), latest.size, latest.root, cosigned, len(withheld.indexes), crossed, tails)


@dataclass(frozen=True)
class CertificateReport:
    """A certificate of destruction found in a verified ledger."""

    event: str
    sha256: str
    records: int
    entries: list[int]


def verify_certificate(stream: IO[bytes], certificate: bytes) -> CertificateReport:
    """Check a certificate's statement against a bundle's entries (verify the bundle first).

    The statement must be canonical JSON; the ``destruction.certified`` entries
    carrying its SHA-256 must name its event and certify exactly the records it
    lists, weapons and ammunition alike.
    """
    try:
        content = canonical.check(certificate)
    except canonical.CanonicalError as exc:
        raise VerificationError(f"the certificate is not the canonical JSON Caliber issues: {exc}") from None
    if not isinstance(content, dict) or not isinstance(content.get("event"), str):
        raise VerificationError("the certificate names no destruction event")
    digest = hashlib.sha256(certificate).hexdigest()
    needle = digest.encode()
    certified: set[str] = set()
    found: list[int] = []
    for index, data in _read_bundle(stream).entries:
        if data[:1] == WITHHELD or needle not in data or b'"destruction.certified"' not in data:
            continue
        event = canonical.check(data)
        if event["type"] != "destruction.certified" or event["data"]["certificate_sha256"] != digest:
            continue
        if content["event"] not in event["subjects"]:
            raise VerificationError(f"entry {index} certifies this statement for another event than {content['event']}")
        found.append(index)
        certified.update(event["data"]["codes"])
    if not found:
        raise VerificationError(f"no entry of the ledger certifies a statement with SHA-256 {digest}")
    listed = {record["code"] for record in [*content.get("weapons", []), *content.get("ammunition", [])]}
    if listed != certified:
        extra, lacking = sorted(listed - certified), sorted(certified - listed)
        raise VerificationError(
            f"the certificate lists records the ledger did not certify ({', '.join(extra[:5]) or 'none'}) "
            f"or leaves out records it did ({', '.join(lacking[:5]) or 'none'})"
        )
    return CertificateReport(content["event"], digest, len(listed), found)


def _check_cosignatures(latest: _Signed, witnesses: list[str], quorum: int) -> list[str]:
    cosigned = []
    for vkey in witnesses:
        try:
            note.verify_cosignature(latest.note, vkey)
        except note.NoteError as exc:
            if "no cosignature" in str(exc):
                continue
            raise VerificationError(f"the latest checkpoint (size {latest.size}): {exc}") from exc
        cosigned.append(vkey.split("+", 1)[0])
    if len(cosigned) < quorum:
        raise VerificationError(f"the latest checkpoint has {len(cosigned)} valid witness cosignatures, the quorum is {quorum}")
    return cosigned


def _state_file(state_dir: Path, origin: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in origin)
    return state_dir / f"{safe}.checkpoint"


def _accepted_before(state_dir: Path | None, origin: str, log_key: str) -> _Signed | None:
    if state_dir is None or not _state_file(state_dir, origin).exists():
        return None
    signed = _state_file(state_dir, origin).read_text()
    checkpoint = note.parse_checkpoint(note.verify(signed, [log_key]))
    return _Signed(checkpoint.size, checkpoint.root, signed)


def _check_against_accepted(accepted: _Signed, latest: _Signed, roots: dict[int, bytes]) -> None:
    if latest.size < accepted.size:
        raise VerificationError(
            f"the latest checkpoint (size {latest.size}) is older than the one accepted before (size {accepted.size}): rolled back",
            evidence=accepted.note + "\n" + latest.note,
        )
    if roots.get(accepted.size) != accepted.root:
        raise VerificationError(
            f"the log forked: its first {accepted.size} entries no longer hash to the root signed and accepted before",
            evidence=accepted.note + "\n" + latest.note,
        )


def _remember(state_dir: Path, origin: str, signed: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = _state_file(state_dir, origin)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(signed)
    temporary.replace(path)


def _cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    """The ``caliber-verify`` command."""
    parser = argparse.ArgumentParser(prog="caliber-verify", description="Verify an exported Caliber custody ledger bundle, offline.")
    parser.add_argument("bundle", type=Path, help="the file from `caliber ledger export`")
    parser.add_argument("--log-key", required=True, help="the log's verifier key (name+id+key), pinned")
    parser.add_argument("--witness", action="append", default=[], metavar="VKEY", help="a witness's verifier key (repeat)")
    parser.add_argument("--quorum", type=int, default=0, help="cosignatures the latest checkpoint needs")
    parser.add_argument("--state", type=Path, help="folder remembering the checkpoint accepted last time")
    parser.add_argument("--jobs", type=int, default=_cpus(), help="processes checking entries side by side (default: every CPU)")
    parser.add_argument(
        "--whole",
        action="append",
        default=[],
        metavar="SUBJECT",
        help="a record (label code or record key) whose history must not pass through a withheld entry (repeat)",
    )
    parser.add_argument("--certificate", type=Path, help="a certificate of destruction's statement (certificate.json) to check as well")
    args = parser.parse_args(argv)
    try:
        with args.bundle.open("rb") as stream:
            report = verify_bundle(
                stream,
                args.log_key,
                args.witness,
                args.quorum,
                args.state,
                jobs=max(args.jobs, 1),
                whole=["".join(subject.split()) for subject in args.whole],
            )
        if args.certificate is not None:
            with args.bundle.open("rb") as stream:
                certificate = verify_certificate(stream, args.certificate.read_bytes())
    except VerificationError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        if exc.evidence:
            print("Proof of misbehaviour (both signed checkpoints):\n" + exc.evidence, file=sys.stderr)
        return 1
    except (OSError, note.NoteError, ValueError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    witnesses = f", cosigned by {', '.join(report.cosigned_by)}" if report.cosigned_by else ""
    root = base64.b64encode(report.latest_root).decode()
    withheld = f" ({report.withheld} of them withheld: outside the reader's scope, only their hashes)" if report.withheld else ""
    print(f"OK: {report.origin}: {report.entries} entries{withheld}, {report.checkpoints} checkpoints, root {root}{witnesses}")
    if report.crossed:
        named = ", ".join(report.crossed[:10]) + (f" and {len(report.crossed) - 10} more" if len(report.crossed) > 10 else "")
        print(f"Records whose history passes through withheld entries: {named}")
    for subject, (last, unseen) in sorted(report.tails.items()):
        withheld = "1 entry after it is" if unseen == 1 else f"{unseen} entries after it are"
        after = f"; {withheld} withheld, and whether one is its own the bundle cannot show" if unseen else ""
        print(f"Whole: {subject}, from its first entry to entry {last}, its last one shown{after}")
    if args.certificate is not None:
        print(
            f"OK: certificate of destruction {certificate.event} (SHA-256 {certificate.sha256}): "
            f"{certificate.records} records certified in entries {', '.join(map(str, certificate.entries[:10]))}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
