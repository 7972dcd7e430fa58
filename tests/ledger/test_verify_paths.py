"""The verifier's fast path never accepts what the full check refuses, and accepts the entries Caliber writes."""

from __future__ import annotations

import hashlib
from binascii import b2a_base64
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from caliber.ledger import canonical
from caliber.ledger.verify import VerificationError, _check_entry, _entry_holds

ORIGIN = "paths.example/ledger"
PREV = hashlib.sha256(b"\x00previous").digest()

scalars = st.one_of(st.text(max_size=12), st.integers(-(2**53) + 1, 2**53 - 1), st.booleans(), st.none())
plain_keys = st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True)
keys = st.one_of(plain_keys, plain_keys, st.text(max_size=6))
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(plain_keys, scalars, max_size=2))
# The fast path reads integers of up to 15 digits; longer ones (to ±(2**53 - 1)) take the full check.
short_scalars = st.one_of(st.text(max_size=12), st.integers(-(10**15) + 1, 10**15 - 1), st.booleans(), st.none())
subjects = st.one_of(st.from_regex(r"(item|depot):[0-9a-f]{1,6}", fullmatch=True), st.text(min_size=1, max_size=5))


@st.composite
def entries(draw: st.DrawFn) -> tuple[int, bytes, bytes | None, dict[bytes, int]]:
    """An entry at a random index with a random history; honest or not, canonical or edited."""
    index = draw(st.integers(0, 10**6))
    prev = None if index == 0 else (PREV if draw(st.integers(0, 4)) else hashlib.sha256(b"other").digest())
    named = draw(st.lists(subjects, max_size=3, unique=True))
    if draw(st.booleans()):
        named.sort()
    history = {s.encode(): draw(st.integers(0, max(index - 1, 0))) for s in named if index and draw(st.booleans())}
    honest = {s: history[s.encode()] for s in named if s.encode() in history}
    event = {
        "actor": {"id": draw(st.none() | st.uuids().map(str)), "name": draw(st.text(max_size=8)), "role": "depot_clerk"},
        "data": draw(st.dictionaries(keys, values, max_size=4)),
        "log": ORIGIN if draw(st.integers(0, 9)) else "elsewhere/ledger",
        "prev": b2a_base64(PREV, newline=False).decode() if index else None,
        "seq": index if draw(st.integers(0, 9)) else index + 1,
        "subject_prev": honest if draw(st.integers(0, 3)) else dict.fromkeys(named, 0),
        "subjects": named,
        "time": "2026-11-28T10:00:00.000001Z",
        "type": draw(st.sampled_from(["item.moved", "depot.registered"])),
        "v": 1,
    }
    data = canonical.encode(event)
    edit = draw(st.sampled_from(["none", "none", "none", "replace", "insert", "delete"]))
    if edit != "none" and data:
        at = draw(st.integers(0, len(data) - 1))
        byte = bytes([draw(st.integers(0, 255))])
        data = {"replace": data[:at] + byte + data[at + 1 :], "insert": data[:at] + byte + data[at:], "delete": data[:at] + data[at + 1 :]}[
            edit
        ]
    return index, data, prev, history


def full_verdict(index: int, data: bytes, prev: bytes | None, history: dict[bytes, int]) -> dict[bytes, int] | None:
    last_of = dict(history)
    try:
        _check_entry(index, data, ORIGIN, prev, last_of)
    except VerificationError:
        return None
    return last_of


def fast_verdict(index: int, data: bytes, prev: bytes | None, history: dict[bytes, int]) -> dict[bytes, int] | None:
    last_of = dict(history)
    prev_json = b'"' + b2a_base64(prev, newline=False) + b'"' if prev is not None else b"null"
    return last_of if _entry_holds(index, data, canonical.encode(ORIGIN), prev_json, last_of) else None


@settings(max_examples=3000, deadline=None)
@given(entries())
def test_the_fast_path_accepts_only_what_the_full_check_accepts(entry: tuple[int, bytes, bytes | None, dict[bytes, int]]) -> None:
    fast = fast_verdict(*entry)
    if fast is not None:
        assert full_verdict(*entry) == fast


def move(index: int, data: dict[str, Any], named: list[str], history: dict[bytes, int]) -> bytes:
    return canonical.encode(
        {
            "actor": {"id": None, "name": "operator", "role": "admin"},
            "data": data,
            "log": ORIGIN,
            "prev": b2a_base64(PREV, newline=False).decode(),
            "seq": index,
            "subject_prev": {s: history[s.encode()] for s in named if s.encode() in history},
            "subjects": named,
            "time": "2026-11-28T10:00:00.000001Z",
            "type": "item.moved",
            "v": 1,
        }
    )


@settings(max_examples=500, deadline=None)
@given(
    data=st.dictionaries(plain_keys, st.one_of(short_scalars, st.lists(short_scalars, max_size=4)), max_size=8),
    named=st.lists(st.from_regex(r"(item|depot|location):[0-9a-f]{1,8}", fullmatch=True), max_size=3, unique=True).map(sorted),
    seen=st.sets(st.integers(0, 2), max_size=3),
)
@example(data={"to": 'Magazine 3 \u2028 "quoted" \\ \x01 \u0161'}, named=["item:1"], seen={0})
def test_the_fast_path_accepts_the_flat_events_caliber_writes(data: dict[str, Any], named: list[str], seen: set[int]) -> None:
    history = {s.encode(): 7 for i, s in enumerate(named) if i in seen}
    entry = (10, move(10, data, named, history), PREV, history)
    accepted = fast_verdict(*entry)
    assert accepted is not None
    assert accepted == full_verdict(*entry) == {**history, **{s.encode(): 10 for s in named}}


@pytest.mark.parametrize("data", [{"changes": {"serial": "AK1"}}, {"mass": 2**53 - 1}, {"k\u00e9y": 1}, {"a-b": 1}])
def test_other_shapes_go_to_the_full_check(data: dict[str, Any]) -> None:
    entry = (10, move(10, data, ["item:1"], {}), PREV, {})
    assert fast_verdict(*entry) is None
    assert full_verdict(*entry) == {b"item:1": 10}
