"""Label codes: digits only, the first saying the kind, with a Damm check digit.

Keyboard-wedge scanners on QWERTZ, Albanian or Cyrillic layouts garble letters
and punctuation but never digits, so a code is one digit for the kind of
record (1 weapon, 2 component, 3 ammunition lot, 4 location, 5 destruction
event), eight digits of serial number within that kind, and one Damm check
digit. The Damm quasigroup catches every single-digit error and every swap of
two neighbouring digits. People read a code in groups: ``1000 0004 27``.

A scan may hold the whole label URL (``BASE_URL/s/CODE``), the bare code, or
either typed through the wrong keyboard layout: :func:`find_code` finds the
code in it.
"""

from __future__ import annotations

import re

__all__ = [
    "CODE_DIGITS",
    "KINDS",
    "MAX_SERIAL",
    "CheckDigitMismatch",
    "CodeError",
    "check_digit",
    "find_code",
    "format_code",
    "is_valid",
    "kind_of",
    "make_code",
    "number_of",
    "read_code",
]

SERIAL_DIGITS = 8
CODE_DIGITS = SERIAL_DIGITS + 2
MAX_SERIAL = 10**SERIAL_DIGITS - 1
KINDS = {"weapon": 1, "component": 2, "lot": 3, "location": 4, "destruction": 5}
"""The first digit of a code, by kind of record."""
_KIND_OF_DIGIT = {str(digit): kind for kind, digit in KINDS.items()}

# The totally anti-symmetric quasigroup of order 10 from H. Michael Damm (2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_DIGIT_RUNS = re.compile(rf"(?<![0-9])[0-9]{{{CODE_DIGITS}}}(?![0-9])")
_SPACED = re.compile(r"(?<![0-9])[0-9]{4} [0-9]{4} [0-9]{2}(?![0-9])")


class CodeError(ValueError):
    """A text holds no valid label code; the message says why."""


class CheckDigitMismatch(CodeError):
    """A text holds a label code's ten digits, but their check digit does not match: one was mistyped or misread."""


def _interim(digits: str) -> int:
    state = 0
    for digit in digits:
        state = _DAMM[state][ord(digit) - 48]
    return state


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of digits."""
    if not digits.isascii() or not digits.isdigit():
        raise CodeError(f"{digits!r} is not a string of digits")
    return str(_interim(digits))


def is_valid(code: str) -> bool:
    """Whether ``code`` is ten digits of a known kind whose last is the Damm check digit of the first nine."""
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit() and code[0] in _KIND_OF_DIGIT and _interim(code) == 0


def make_code(kind: str, serial: int) -> str:
    """The label code of the ``serial``-th record (1 to 99,999,999) of ``kind`` (see :data:`KINDS`)."""
    if kind not in KINDS:
        raise CodeError(f"no label kind {kind!r}; kinds: {', '.join(KINDS)}")
    if not 1 <= serial <= MAX_SERIAL:
        raise CodeError(f"label serial {serial} is outside 1..{MAX_SERIAL}")
    digits = f"{KINDS[kind]}{serial:0{SERIAL_DIGITS}d}"
    return digits + check_digit(digits)


def number_of(code: str) -> int:
    """The kind digit and serial of a valid code as one number (unique across kinds)."""
    if not is_valid(code):
        raise CodeError(f"{code!r} is not a valid label code")
    return int(code[: SERIAL_DIGITS + 1])


def kind_of(code: str) -> str:
    """The kind of record a valid code labels."""
    if not is_valid(code):
        raise CodeError(f"{code!r} is not a valid label code")
    return _KIND_OF_DIGIT[code[0]]


def format_code(code: str) -> str:
    """The code in groups for people to read: ``1000 0004 27``."""
    return f"{code[:4]} {code[4:8]} {code[8:]}"


_AIM_PREFIX = re.compile(r"^\s*\][A-Za-z][0-9A-Za-z]")  # a scanner's symbology identifier, e.g. ]Q1 for QR


def read_code(text: str) -> str:
    """The label code in a scan or typed text, or :class:`CodeError` saying why there is none.

    Accepts the label URL (``BASE_URL/s/CODE``), a bare or grouped code, either
    typed through the wrong keyboard layout (layouts turn ``/``, ``:`` and
    letters into other characters, never digits), surrounding white space and
    a scanner's prefix or suffix. Only digits survive, so the code is the last
    run of exactly ten digits (or the grouped form) whose check digit holds.
    """
    text = _AIM_PREFIX.sub("", text)
    candidates = [m.group() for m in _DIGIT_RUNS.finditer(text)]
    candidates += [m.group().replace(" ", "") for m in _SPACED.finditer(text)]
    valid = [c for c in candidates if is_valid(c)]
    if valid:
        return valid[-1]
    if candidates:
        raise CheckDigitMismatch(f"{candidates[-1]}: check digit wrong: re-scan or type the code")
    raise CodeError(f"no label code ({CODE_DIGITS} digits) in {text.strip()[:60]!r}")


def find_code(text: str) -> str | None:
    """The label code in a scan or typed text (see :func:`read_code`), or None when there is no valid one."""
    try:
        return read_code(text)
    except CodeError:
        return None
