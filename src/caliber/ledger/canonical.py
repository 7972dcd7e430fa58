"""RFC 8785 (JSON Canonicalization Scheme) bytes of custody events, and the check that bytes are canonical.

Pure: standard library and ``rfc8785`` only. Custody events hold objects,
arrays, strings, integers within ±(2**53 - 1), booleans and null; never
floats (masses and quantities are strings). For that schema the standard
library's C JSON encoder, with sorted keys and no escaping beyond JSON's own,
writes exactly RFC 8785's bytes, some fifty times faster than the reference
``rfc8785`` package; property tests prove the two byte-identical. Objects whose
keys hold characters at or above U+E000 (where RFC 8785's UTF-16 key order
differs from code-point order) go to the reference encoder.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

__all__ = ["MAX_SAFE_INTEGER", "CanonicalError", "check", "encode"]

MAX_SAFE_INTEGER = 2**53 - 1
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
_UTF16_ORDER_DIFFERS = "\ue000"


class CanonicalError(ValueError):
    """A value cannot be a custody event, or bytes are not its canonical form."""


def _needs_reference(value: Any) -> bool:
    """Check the schema; True when an object key needs RFC 8785's UTF-16 ordering.

    Iterative, with the common types first and scalars checked in place rather
    than queued: it runs on every write and import row.
    """
    reference = False
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            keys = "".join(item)  # raises TypeError for a key that is not a string
            if not keys.isascii() and max(keys) >= _UTF16_ORDER_DIFFERS:
                reference = True
            members = item.values()
        elif kind is list or kind is tuple:
            members = item
        else:
            members = (item,)
        for member in members:
            kind = type(member)
            if kind is str or member is None or kind is bool:
                continue
            if kind is int:
                if not -MAX_SAFE_INTEGER <= member <= MAX_SAFE_INTEGER:
                    raise CanonicalError(f"integer {member} is outside ±(2**53 - 1): write it as a string")
            elif kind is dict or kind is list or kind is tuple:
                pending.append(member)
            elif kind is float:
                raise CanonicalError(f"float {member!r} in a custody event: write numbers with fractions as strings")
            else:
                raise CanonicalError(f"{kind.__name__} cannot be written in a custody event")
    return reference


def encode(event: Any) -> bytes:
    """The RFC 8785 bytes of ``event``; :class:`CanonicalError` if it breaks the event schema."""
    try:
        if _needs_reference(event):
            return rfc8785.dumps(event)
        return _encoder.encode(event).encode("utf-8")
    except TypeError as exc:
        raise CanonicalError(f"an object key is not a string: {exc}") from exc
    except UnicodeEncodeError as exc:
        raise CanonicalError("a string holds a lone surrogate, which UTF-8 cannot carry") from exc
    except RecursionError as exc:
        raise CanonicalError("the event nests too deeply") from exc


def _checked_int(text: str) -> int:
    value = int(text)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise CanonicalError(f"integer {text} is outside ±(2**53 - 1)")


def _no_float(text: str) -> Any:
    raise CanonicalError(f"number {text} has a fraction or exponent: custody events hold integers only")


def _no_constant(text: str) -> Any:
    raise CanonicalError(f"{text} is not JSON")


_decoder = json.JSONDecoder(parse_int=_checked_int, parse_float=_no_float, parse_constant=_no_constant)
_AT_OR_ABOVE_E000 = re.compile(rb"[\xee-\xf4]")  # UTF-8 lead bytes of U+E000 and above


def check(data: bytes) -> Any:
    """Parse ``data`` and return the event, if and only if ``data`` is its canonical encoding.

    Parsing and writing the value again must give the same bytes: that one
    comparison rejects whitespace, reordered or duplicate keys (the parser keeps
    one), needless escapes and non-minimal numbers. Bytes holding characters at
    or above U+E000 are compared with the reference encoder's output instead.
    """
    try:
        event = _decoder.decode(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not UTF-8 at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise CanonicalError(f"not JSON: {exc.msg} at character {exc.pos}") from exc
    try:
        needs_reference = not data.isascii() and _AT_OR_ABOVE_E000.search(data) is not None
        again = rfc8785.dumps(event) if needs_reference else _encoder.encode(event).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError("a string holds a lone surrogate, which UTF-8 cannot carry") from exc
    if again != data:
        raise CanonicalError("the bytes are valid JSON but not in RFC 8785 canonical form (whitespace, key order, duplicate keys, escapes)")
    return event
