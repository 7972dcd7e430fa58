"""QR matrices exactly as qrcode makes them, with the mask chosen in a fraction of the time.

qrcode places the data once for each of the eight masks and scores every
candidate with loops over single modules (ISO/IEC 18004 §7.8.3, penalty rules
N1 to N4 as qrcode counts them); that is four fifths of the time a QR takes.
Here qrcode encodes and places the data once, with mask 0; each candidate is
then that placement with the mask bits of row ``r`` flipped (rows held as
integers), and is scored with regular expressions and bit operations that
count the same things as qrcode. The matrix returned is the one
``qrcode.QRCode(...).make(fit=True)`` gives (a property test holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import qrcode
from qrcode.util import mask_func

__all__ = ["Matrix", "matrices", "matrix", "pack", "penalty", "unpack"]

Matrix = tuple[tuple[bool, ...], ...]
LEVEL = qrcode.constants.ERROR_CORRECT_M
_FINDER_DARK_FIRST, _FINDER_LIGHT_FIRST = "10111010000", "00001011101"


@dataclass(frozen=True)
class _Grid:
    """The fixed parts of one QR version, as one integer per row (bit ``size - 1 - c`` is column ``c``)."""

    size: int
    data: tuple[int, ...]
    """Where data modules sit."""
    scored: tuple[int, ...]
    """Function patterns with the format and version areas light: what qrcode scores masks on."""
    final: tuple[tuple[int, ...], ...]
    """Function patterns with the format information of each mask."""
    masks: tuple[tuple[int, ...], ...]
    """Each mask's dark modules, on data modules only."""


def _rows(modules: list[list[bool | None]]) -> tuple[int, ...]:
    return tuple(int("".join("1" if cell else "0" for cell in row), 2) for row in modules)


@cache
def _grid(version: int) -> _Grid:
    """Lay out the function patterns of ``version`` with qrcode's own methods."""
    size = 4 * version + 17
    probe = qrcode.QRCode(version=version, error_correction=LEVEL, border=0)
    probe.modules_count = size
    probe.modules = [[None] * size for _ in range(size)]
    for row, col in ((0, 0), (size - 7, 0), (0, size - 7)):
        probe.setup_position_probe_pattern(row, col)
    probe.setup_position_adjust_pattern()
    probe.setup_timing_pattern()
    base = probe.modules

    def with_info(test: bool, mask: int) -> list[list[bool | None]]:
        probe.modules = [list(row) for row in base]
        probe.setup_type_info(test, mask)
        if version >= 7:
            probe.setup_type_number(test)
        modules: list[list[bool | None]] = probe.modules
        return modules

    scored = with_info(True, 0)
    data = tuple(int("".join("1" if cell is None else "0" for cell in row), 2) for row in scored)
    masks = []
    for pattern in range(8):
        dark = mask_func(pattern)
        masks.append(
            tuple(
                int("".join("1" if cell is None and dark(r, c) else "0" for c, cell in enumerate(row)), 2) for r, row in enumerate(scored)
            )
        )
    return _Grid(size, data, _rows(scored), tuple(_rows(with_info(False, m)) for m in range(8)), tuple(masks))


def penalty(rows: list[int] | tuple[int, ...], size: int) -> int:
    """qrcode's score of a candidate (lower is better), from its rows as integers.

    N1 (runs of five or more alike, ``length - 2`` each) is counted as the
    windows of five alike plus two for the first window of each run; N2 (2x2
    blocks alike) and N4 (dark balance) with bit operations; N3 (finder-like
    ``1011101`` with four light modules on one side) by counting the two
    11-module patterns in every row and column: neither pattern overlaps
    itself, so ``str.count`` finds every occurrence.
    """
    full = (1 << size) - 1
    edge = full >> 1
    runs = 0
    for row in rows:
        pairs = ~(row ^ (row >> 1)) & edge
        windows = pairs & (pairs >> 1) & (pairs >> 2) & (pairs >> 3)
        runs += windows.bit_count() + 2 * (windows & ~(windows << 1)).bit_count()
    alike = [~(upper ^ lower) & full for upper, lower in pairwise(rows)]
    previous = 0
    for n in range(len(alike) - 3):
        windows = alike[n] & alike[n + 1] & alike[n + 2] & alike[n + 3]
        runs += windows.bit_count() + 2 * (windows & ~previous).bit_count()
        previous = windows
    blocks = sum((same & (same >> 1) & ~(upper ^ (upper >> 1)) & edge).bit_count() for upper, same in zip(rows, alike, strict=False))
    form = f"0{size}b"
    lines = [format(row, form) for row in rows]
    text = " ".join(lines) + " " + " ".join("".join(column) for column in zip(*lines, strict=True))
    finders = text.count(_FINDER_DARK_FIRST) + text.count(_FINDER_LIGHT_FIRST)
    dark = sum(row.bit_count() for row in rows)
    balance = int(abs(float(dark) / (size**2) * 100 - 50) / 5) * 10
    return runs + 3 * blocks + 40 * finders + balance


def matrix(text: str) -> Matrix:
    """The QR matrix of ``text`` (error correction M, no quiet zone), as ``qrcode`` would make it."""
    qr = qrcode.QRCode(error_correction=LEVEL, border=0, mask_pattern=0)
    qr.add_data(text)
    qr.make(fit=True)
    grid = _grid(qr.version)
    placed = _rows(qr.modules)
    plain = [(row ^ mask) & data for row, mask, data in zip(placed, grid.masks[0], grid.data, strict=True)]

    def candidate(pattern: int, function: tuple[int, ...]) -> list[int]:
        return [fixed | (bits ^ mask) for fixed, bits, mask in zip(function, plain, grid.masks[pattern], strict=True)]

    best = min(range(8), key=lambda pattern: (penalty(candidate(pattern, grid.scored), grid.size), pattern))
    form = f"0{grid.size}b"
    return tuple(tuple(bit == "1" for bit in format(row, form)) for row in candidate(best, grid.final[best]))


def matrices(texts: list[str]) -> dict[str, Matrix]:
    """The matrix of each text (a unit of work for a worker process: this module imports only qrcode)."""
    return {text: matrix(text) for text in texts}


def pack(modules: Matrix) -> bytes:
    """A matrix as bytes to keep: its side, then its modules row by row, eight to a byte."""
    size = len(modules)
    bits = int("".join("1" if dark else "0" for row in modules for dark in row) or "0", 2)
    return bytes([size]) + bits.to_bytes((size * size + 7) // 8, "big")


def unpack(packed: bytes) -> Matrix:
    """The matrix that :func:`pack` kept."""
    size = packed[0]
    flat = format(int.from_bytes(packed[1:], "big"), f"0{size * size}b")
    return tuple(tuple(bit == "1" for bit in flat[row * size : (row + 1) * size]) for row in range(size))
