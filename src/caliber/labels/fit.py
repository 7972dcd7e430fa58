"""Fitting a label's text beside its QR: type shrinks, then rows wrap; the code is never cut.

Every renderer (PDF sheet, PNG, SVG) lays its text out here with its own way of
measuring it, in points. The code stays on one line in its groups, at its
layout's size or smaller to fit the width, never under :data:`MIN_CODE_PT` (the
sheet loader refuses a layout that would need less). The other rows shrink
together down to :data:`MIN_TEXT_PT` and wrap at spaces. Only text that cannot
fit even then (far longer than a real maker or serial) is shortened, the
longest row first, ending in "…".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ASCENT", "LEADING", "MIN_CODE_PT", "MIN_TEXT_PT", "FitError", "Line", "Measure", "Row", "code_size", "lay_out"]

MIN_CODE_PT = 6.0
"""The smallest code people read and type without a magnifier (6 pt bold digits are about 2.2 mm high)."""
MIN_TEXT_PT = 5.0
"""The smallest kind, maker and serial text: 5 pt is the floor of legible print on labels."""
LEADING = 1.17
"""Line height as a multiple of the type size (DejaVu Sans: ascent 0.93 plus descent 0.24)."""
ASCENT = 0.93
"""From the top of a line to its baseline, as a multiple of the type size."""
_STEP = 0.04

Measure = Callable[[str, bool, float], float]
"""The width in points of a text, bold or not, at a size in points."""


class FitError(ValueError):
    """The code cannot be printed whole at a readable size in the room given."""


@dataclass(frozen=True)
class Row:
    """A text to show and the size it would like; a ``keep`` row (the serial) is the last to be shortened."""

    text: str
    bold: bool
    size: float
    keep: bool = False


@dataclass(frozen=True)
class Line:
    """One printed line: what, in which weight, at which size (points)."""

    text: str
    bold: bool
    size: float


def code_size(code: str, preferred: float, width: float, measure: Measure) -> float:
    """The largest size up to ``preferred`` at which ``code`` fits ``width`` on one line, or :class:`FitError`."""
    size = min(preferred, preferred * width / measure(code, True, preferred))
    while size > MIN_CODE_PT and measure(code, True, size) > width:  # widths are near-linear in size; hinting is not
        size -= 0.05
    if size < MIN_CODE_PT or measure(code, True, size) > width:
        raise FitError(f"the code needs {measure(code, True, MIN_CODE_PT):.1f} pt at {MIN_CODE_PT} pt, the label leaves {width:.1f}")
    return size


def lay_out(code: str, code_pt: float, rows: Sequence[Row], *, width: float, height: float, measure: Measure) -> list[Line]:
    """The lines of a label's text block of ``width`` x ``height`` points: the code first, then ``rows``."""
    first = Line(code, True, code_size(code, code_pt, width, measure))
    room = height - first.size * LEADING
    scale = 1.0
    while True:
        sizes = [max(MIN_TEXT_PT, row.size * scale) for row in rows]
        wrapped = [_wrap(row.text, row.bold, size, width, measure) for row, size in zip(rows, sizes, strict=True)]
        if _height(wrapped, sizes) <= room or all(size == MIN_TEXT_PT for size in sizes):
            break
        scale -= _STEP
    _shorten(wrapped, sizes, rows, room=room, width=width, measure=measure)
    return [first, *(Line(text, row.bold, size) for row, size, texts in zip(rows, sizes, wrapped, strict=True) for text in texts)]


def _height(wrapped: Sequence[Sequence[str]], sizes: Sequence[float]) -> float:
    return sum(len(texts) * size * LEADING for texts, size in zip(wrapped, sizes, strict=True))


def _wrap(text: str, bold: bool, size: float, width: float, measure: Measure) -> list[str]:
    """``text`` in lines of ``width`` broken at spaces (a word wider than a line is broken where it must)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        joined = f"{current} {word}" if current else word
        if measure(joined, bold, size) <= width:
            current = joined
            continue
        if measure(word, bold, size) <= width:
            if current:
                lines.append(current)
            current = word
            continue
        rest = joined  # a word no line holds is broken where it must, from the end of the line it starts on
        while measure(rest, bold, size) > width and len(rest) > 1:
            cut = len(rest) - 1
            while cut > 1 and measure(rest[:cut], bold, size) > width:
                cut -= 1
            lines.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    if current:
        lines.append(current)
    return lines


def _shorten(wrapped: list[list[str]], sizes: list[float], rows: Sequence[Row], *, room: float, width: float, measure: Measure) -> None:
    """Drop last lines of the row with the most lines (the later row on a tie, ``keep`` rows last) until all fit.

    Each cut is marked with "…".
    """
    while any(wrapped) and _height(wrapped, sizes) > room:
        index = max(range(len(wrapped)), key=lambda n: (not rows[n].keep and bool(wrapped[n]), len(wrapped[n]), n))
        wrapped[index].pop()
        mark = _mark(wrapped, rows, index)
        if mark is not None:
            wrapped[mark][-1] = _ellipsis(wrapped[mark][-1], rows[mark].bold, sizes[mark], width, measure)


def _mark(wrapped: list[list[str]], rows: Sequence[Row], cut: int) -> int | None:
    """The row whose last line says "…" for a cut in row ``cut``: itself, or for a row dropped whole the nearest
    row shown before it (else after it) that is not kept whole, so an identity is never marked as cut when it is not."""
    if wrapped[cut]:
        return cut
    others = [n for n in range(len(wrapped)) if wrapped[n] and not rows[n].keep]
    return max((n for n in others if n < cut), default=min(others, default=None))


def _ellipsis(text: str, bold: bool, size: float, width: float, measure: Measure) -> str:
    text = text.removesuffix("…")
    while len(text) > 1 and measure(text + "…", bold, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"
