"""Text in PDF documents that wraps and is never cut: lines, grids of cells across pages, "page N of M" footers.

A document that is a legal record (a certificate of destruction) must print
every field whole, however long: text breaks at spaces where it can and inside
a word (a hash, a serial) where it must, and a grid breaks between its rows
(inside a row taller than a few lines) onto the next page, repeating its header.
Cells are drawn as plain strings, never parsed as markup, every character that
would hide or reorder text written out (:func:`caliber.schemas.visible`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from caliber.labels.sheets import BOLD, FONT
from caliber.schemas import visible

__all__ = ["MONO", "Cell", "Grid", "NumberedCanvas", "wrap"]

MONO = "Courier"
"""For hashes and commands: a built-in PDF font (Latin-1, enough for hex and base64)."""
_PAD_X, _PAD_Y = 3.0, 2.0
_TALL_ROW = 6
"""A row of more lines than this is split across pages rather than moved whole to the next."""


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` points: its own line breaks kept, then broken at spaces, then inside words."""
    if not any(c in text for c in "\n\r\t") and pdfmetrics.stringWidth(text, font, size) <= width:
        return [text]
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        for line in simpleSplit(paragraph, font, size, width) or [""]:
            lines.extend(_break_word(line, font, size, width))
    return lines


def _break_word(line: str, font: str, size: float, width: float) -> list[str]:
    """``line`` cut between characters into pieces no wider than ``width`` (a piece holds one character at least).

    No hyphen is added or preferred: a hyphen ending a line reads as hyphenation, and text extraction drops it.
    """
    pieces = []
    while pdfmetrics.stringWidth(line, font, size) > width and len(line) > 1:
        cut, used = 0, 0.0
        while cut < len(line) and (used := used + pdfmetrics.stringWidth(line[cut], font, size)) <= width:
            cut += 1
        pieces.append(line[: max(cut, 1)])
        line = line[max(cut, 1) :]
    return [*pieces, line]


@dataclass(frozen=True)
class Cell:
    """Text in a font of its own, such as a hash in :data:`MONO` beside prose."""

    text: str
    font: str


_Row = tuple[tuple[str, tuple[str, ...]], ...]
"""A row as drawn: each column's font and wrapped lines."""


class Grid(Flowable):  # type: ignore[misc]
    """Rows of cells in columns of fixed widths, each cell's text wrapped inside its column, with a title and a header."""

    def __init__(
        self,
        widths: Sequence[float],
        rows: list[_Row],
        *,
        header: _Row | None,
        title: tuple[str, ...],
        size: float,
        heights: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.widths, self.rows, self.header, self.title, self.size = list(widths), rows, header, title, size
        self.leading = size * 1.25
        self.spaceBefore = 10.0 if title else 0.0
        self.heights = heights if heights is not None else [self._height(row) for row in rows]
        self.top = len(title) * 13.5 + (self._height(header) if header else 0.0)
        self.width, self.height = sum(widths), self.top + sum(self.heights)

    @classmethod
    def of(
        cls,
        widths: Sequence[float],
        rows: Sequence[Sequence[str | Cell]],
        *,
        header: Sequence[str] = (),
        title: str = "",
        size: float = 8.0,
        fonts: Sequence[str] = (),
    ) -> Grid:
        """A grid of ``rows`` (a cell is text in its column's font, from ``fonts``, or a :class:`Cell`)."""
        fonts = list(fonts) or [FONT] * len(widths)

        def laid(row: Sequence[str | Cell], row_fonts: Sequence[str]) -> _Row:
            cells = [
                Cell(visible(c.text), c.font) if isinstance(c, Cell) else Cell(visible(c), f) for c, f in zip(row, row_fonts, strict=True)
            ]
            return tuple((c.font, tuple(wrap(c.text, c.font, size, w - 2 * _PAD_X))) for c, w in zip(cells, widths, strict=True))

        return cls(
            widths,
            [laid(row, fonts) for row in rows],
            header=laid(header, [BOLD] * len(widths)) if header else None,
            title=tuple(wrap(visible(title), BOLD, 11, sum(widths))) if title else (),
            size=size,
        )

    def _height(self, row: _Row) -> float:
        return 2 * _PAD_Y + max(len(lines) for _font, lines in row) * self.leading

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 (ReportLab's names)
        """The grid's size: all of it (ReportLab asks for :meth:`split` when it does not fit)."""
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803 (ReportLab's names)
        """What fits in ``availHeight`` and the rest: nothing when not even the title, the header and a first row fit."""
        used, fitting = self.top, 0
        while fitting < len(self.rows) and used + self.heights[fitting] <= availHeight:
            used += self.heights[fitting]
            fitting += 1
        if fitting == len(self.rows):
            return [self]
        lines = int((availHeight - used - 2 * _PAD_Y) // self.leading)
        row = self.rows[fitting]
        if max(len(cell) for _font, cell in row) > _TALL_ROW and lines >= 2:
            head = tuple((font, cell[:lines]) for font, cell in row)
            tail = tuple((font, cell[lines:] or ("",)) for font, cell in row)
            before, after = self.heights[:fitting], self.heights[fitting + 1 :]
            return [
                self._part([*self.rows[:fitting], head], self.title, [*before, self._height(head)]),
                self._part([tail, *self.rows[fitting + 1 :]], (), [self._height(tail), *after]),
            ]
        if fitting == 0:
            return []
        return [
            self._part(self.rows[:fitting], self.title, self.heights[:fitting]),
            self._part(self.rows[fitting:], (), self.heights[fitting:]),
        ]

    def _part(self, rows: list[_Row], title: tuple[str, ...], heights: list[float]) -> Grid:
        return Grid(self.widths, rows, header=self.header, title=title, size=self.size, heights=heights)

    def draw(self) -> None:
        """Title, header and rows, top down, a hairline under each row."""
        canvas, top = self.canv, self.height
        text = canvas.beginText()
        for line in self.title:
            top -= 13.5
            text.setFont(BOLD, 11)
            text.setTextOrigin(0, top + 3)
            text.textOut(line)
        canvas.setLineWidth(0.3)
        for row, gray in ([(self.header, 0.2)] if self.header else []) + [(r, 0.75) for r in self.rows]:
            top = self._draw_row(text, row, top)
            canvas.setStrokeGray(gray)
            canvas.line(0, top, self.width, top)
        canvas.drawText(text)

    def _draw_row(self, text: Any, row: _Row, top: float) -> float:
        left = 0.0
        for width, (font, lines) in zip(self.widths, row, strict=True):
            text.setFont(font, self.size, self.leading)
            text.setTextOrigin(left + _PAD_X, top - _PAD_Y - self.size)
            for line in lines:
                text.textLine(line)
            left += width
        return top - self._height(row)


class NumberedCanvas(Canvas):  # type: ignore[misc]
    """A canvas that draws each page's footer once the number of pages is known ("page 2 of 5")."""

    def __init__(self, *args: Any, footer: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.footer = footer
        self.pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        """Keep the finished page until the document is complete."""
        self.pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        """Draw every footer, then write the document."""
        for number, state in enumerate(self.pages, start=1):
            self.__dict__.update(state)
            self.footer(self, number, len(self.pages))
            super().showPage()
        super().save()
