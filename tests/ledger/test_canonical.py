"""RFC 8785: the reference vectors, and the fast encoder byte-identical to the ``rfc8785`` package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from caliber.ledger.canonical import MAX_SAFE_INTEGER, CanonicalError, check, encode

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "jcs"  # cyberphone/json-canonicalization's, see tests/vectors
NAMES = sorted(p.stem for p in (VECTORS / "input").glob("*.json"))


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def test_the_reference_vectors_are_there() -> None:
    assert len(NAMES) >= 6, f"the RFC 8785 reference vectors are missing from {VECTORS}"
    assert {p.stem for p in (VECTORS / "output").glob("*.json")} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_reference_vectors(name: str) -> None:
    value = json.loads((VECTORS / "input" / f"{name}.json").read_text(encoding="utf-8"))
    expected = (VECTORS / "output" / f"{name}.json").read_bytes()
    assert rfc8785.dumps(value) == expected
    assert bytes.fromhex((VECTORS / "outhex" / f"{name}.txt").read_text().replace(" ", "").replace("\n", "")) == expected
    if _has_float(value):
        with pytest.raises(CanonicalError, match="float"):
            encode(value)
    else:
        assert encode(value) == expected
        assert check(expected) == value


def test_keys_sort_by_utf16_code_units() -> None:
    event = {"\U0001f602": 1, "\ufb33": 2, "a": 3}
    assert encode(event) == rfc8785.dumps(event)
    assert encode(event).index("\U0001f602".encode()) < encode(event).index("\ufb33".encode())


keys = st.text(max_size=8)
scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.text(max_size=20)
events = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=25)


@settings(max_examples=1500, deadline=None)
@given(event=events)
def test_encode_is_byte_identical_to_the_reference(event: Any) -> None:
    data = encode(event)
    assert data == rfc8785.dumps(event)
    assert check(data) == event


@settings(max_examples=300, deadline=None)
@given(event=st.dictionaries(keys, events, min_size=1, max_size=4), pad=st.sampled_from([" ", "\n", "\t"]))
def test_whitespace_or_reordering_is_not_canonical(event: dict[str, Any], pad: str) -> None:
    data = encode(event)
    with pytest.raises(CanonicalError):
        check(pad.encode() + data)
    if len(event) > 1:
        reordered = (
            "{"
            + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{encode(v).decode()}" for k, v in sorted(event.items(), reverse=True))
            + "}"
        )
        if reordered.encode() != data:
            with pytest.raises(CanonicalError):
                check(reordered.encode())


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b'{"a":1,"a":2}', "canonical form"),
        (b'{"a":2,"a":2}', "canonical form"),
        (b'{"a":1.5}', "integers only"),
        (b'{"a":1e3}', "integers only"),
        (b'{"a":NaN}', "not JSON"),
        (b'{"a":"\\u00e9"}', "canonical"),
        (b'{"b":1,"a":2}', "canonical"),
        (b"\xff", "UTF-8"),
        (b'{"a":9007199254740992}', "2**53"),
        (b'{"a":"x"', "not JSON"),
    ],
)
def test_non_canonical_bytes_are_refused_with_the_reason(data: bytes, says: str) -> None:
    with pytest.raises(CanonicalError, match=says.replace("*", r"\*")):
        check(data)


def test_values_outside_the_schema_are_refused() -> None:
    for bad in ({"a": 1.0}, {"a": 2**53}, {1: "x"}, {"a": {1, 2}}, {"a": "\ud800"}):
        with pytest.raises(CanonicalError):
            encode(bad)
