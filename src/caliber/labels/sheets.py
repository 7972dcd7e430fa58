"""Label sheets for office printers: layouts as data (``labels/*.toml``) and the PDF of a batch of labels.

A layout file names the page, the grid, the label size, the margins and gaps
and the type sizes; adding a label stock means adding a file. The loader
refuses a layout that does not fit its page, whose QR would lose its quiet
zone or shrink under 0.5 mm a module, or that leaves no room beside the QR for
the whole code at 6 pt (:data:`caliber.labels.fit.MIN_CODE_PT`), naming the file
and the field. Text shrinks and wraps to fit (:mod:`caliber.labels.fit`).
"""

from __future__ import annotations

import io
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from caliber.config import resource_path
from caliber.labels.codes import format_code
from caliber.labels.fit import ASCENT, LEADING, MIN_CODE_PT, MIN_TEXT_PT, Row, lay_out
from caliber.labels.qr import Matrix
from caliber.labels.render import MIN_MODULE_MM, QUIET_MODULES, LabelContent, qr_modules

__all__ = ["REFERENCE_URL", "Layout", "LayoutError", "draw_qr", "layouts", "load_layout", "register_fonts", "sheet_pdf"]

PAGES = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
REFERENCE_URL = "https://caliber.ministry.example.gov/s/1000000427"
"""A long label address: every layout must keep the QR of one like it readable."""
REFERENCE_CODE = format_code("1000000427")
"""Every code is as wide as this one: DejaVu's digits all have one width."""
TEXT_GAP_MM = 1.0
"""Between the QR's quiet zone and the text."""
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"


class LayoutError(ValueError):
    """A layout file is broken; the message names the file and the field."""


@dataclass(frozen=True)
class Layout:
    """One label stock: a grid of labels on a page."""

    key: str
    name: str
    page: tuple[float, float]
    columns: int
    rows: int
    label_width_mm: float
    label_height_mm: float
    margin_left_mm: float
    margin_top_mm: float
    gap_x_mm: float
    gap_y_mm: float
    padding_mm: float
    font_pt: dict[str, float]

    @property
    def per_page(self) -> int:
        """Labels on one sheet."""
        return self.columns * self.rows

    @property
    def qr_mm(self) -> float:
        """The side of the QR with its quiet zone."""
        return self.label_height_mm - 2 * self.padding_mm

    @property
    def text_mm(self) -> tuple[float, float]:
        """Width and height of the text block beside the QR."""
        return self.label_width_mm - self.qr_mm - 2 * self.padding_mm - TEXT_GAP_MM, self.qr_mm

    def origin(self, position: int) -> tuple[float, float]:
        """Top-left corner (mm from the page's top-left) of the label at ``position`` (0-based, row by row)."""
        row, column = divmod(position % self.per_page, self.columns)
        return (
            self.margin_left_mm + column * (self.label_width_mm + self.gap_x_mm),
            self.margin_top_mm + row * (self.label_height_mm + self.gap_y_mm),
        )


_NUMBERS = ("label_width_mm", "label_height_mm", "margin_left_mm", "margin_top_mm", "gap_x_mm", "gap_y_mm", "padding_mm")


def load_layout(path: Path) -> Layout:
    """Read and check one layout file."""
    where = path.name
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LayoutError(f"{where}: cannot be read: {exc}") from None

    def field(name: str, kind: type, source: dict[str, Any] = raw) -> Any:
        if name not in source:
            raise LayoutError(f"{where}: {name} is missing")
        value = source[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise LayoutError(f"{where}: {name} must be a {kind.__name__}, got {value!r}")
        return value

    page_name = field("page", str)
    if page_name not in PAGES:
        raise LayoutError(f"{where}: page must be one of {', '.join(PAGES)}, got {page_name!r}")
    fonts = field("font_pt", dict)
    layout = Layout(
        key=path.stem,
        name=field("name", str),
        page=PAGES[page_name],
        columns=field("columns", int),
        rows=field("rows", int),
        **{name: field(name, float) for name in _NUMBERS},
        font_pt={name: field(name, float, fonts) for name in ("code", "kind", "line")},
    )
    _check(layout, where)
    return layout


def _check(layout: Layout, where: str) -> None:
    for name in ("columns", "rows"):
        if getattr(layout, name) < 1:
            raise LayoutError(f"{where}: {name} must be at least 1")
    for name in _NUMBERS:
        if getattr(layout, name) < 0:
            raise LayoutError(f"{where}: {name} cannot be negative")
    width = layout.margin_left_mm + layout.columns * layout.label_width_mm + (layout.columns - 1) * layout.gap_x_mm
    height = layout.margin_top_mm + layout.rows * layout.label_height_mm + (layout.rows - 1) * layout.gap_y_mm
    if width > layout.page[0] + 0.01:
        raise LayoutError(f"{where}: label_width_mm: the grid is {width:.1f} mm wide, the page {layout.page[0]} mm")
    if height > layout.page[1] + 0.01:
        raise LayoutError(f"{where}: label_height_mm: the grid is {height:.1f} mm high, the page {layout.page[1]} mm")
    modules = len(qr_modules(REFERENCE_URL)) + 2 * QUIET_MODULES
    if layout.qr_mm / modules < MIN_MODULE_MM:
        raise LayoutError(
            f"{where}: label_height_mm/padding_mm: the QR has {layout.qr_mm:.1f} mm for {modules} modules with its quiet zone, "
            f"under {MIN_MODULE_MM} mm a module"
        )
    _check_text(layout, where)


def _check_text(layout: Layout, where: str) -> None:
    """The whole code fits beside the QR at :data:`MIN_CODE_PT` at least, with a line of text under it."""
    register_fonts()
    width, height = layout.text_mm
    needed = pdfmetrics.stringWidth(REFERENCE_CODE, BOLD, MIN_CODE_PT) / mm
    if width < needed:
        raise LayoutError(
            f"{where}: label_width_mm: the code needs {needed:.1f} mm beside the QR at {MIN_CODE_PT:g} pt, the label leaves {width:.1f} mm"
        )
    if height * mm < (MIN_CODE_PT + MIN_TEXT_PT) * LEADING:
        raise LayoutError(f"{where}: label_height_mm: no room for the code and a line of text at {MIN_TEXT_PT:g} pt")


@cache
def layouts() -> dict[str, Layout]:
    """Every layout shipped in ``labels/``, by file name without ``.toml``."""
    return {path.stem: load_layout(path) for path in sorted(resource_path("labels").glob("*.toml"))}


@cache
def register_fonts() -> None:
    """Make the vendored DejaVu fonts (Latin and Cyrillic) known to ReportLab, once."""
    folder = resource_path("static") / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))


@lru_cache(maxsize=8192)
def _qr_path(modules: Matrix) -> str:
    """PDF path operators filling the dark modules of ``modules``, in module units, one rectangle per horizontal run.

    In module units the path depends on the matrix alone, so it is made once per
    code and placed anywhere with a transformation (PDF 32000-1 §8.3.4, ``cm``).
    """
    rects = []
    for y, row in enumerate(modules):
        x = 0
        while x < len(row):
            if row[x]:
                end = x
                while end < len(row) and row[end]:
                    end += 1
                rects.append(f"{x} {y} {end - x} 1 re")
                x = end
            else:
                x += 1
    return "\n".join(rects)


def draw_qr(canvas: Canvas, modules: Matrix, left: float, top: float, module: float) -> None:
    """Fill ``modules`` with their top-left corner at (``left``, ``top``) points, ``module`` points a module."""
    canvas.setFillColorRGB(0, 0, 0)
    canvas.addLiteral(f"q {module:.4f} 0 0 {-module:.4f} {left:.3f} {top:.3f} cm\n{_qr_path(modules)}\nf Q")


def _measure(text: str, bold: bool, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, BOLD if bold else FONT, size))


def sheet_pdf(layout: Layout, labels: Sequence[LabelContent], *, start: int = 1, offset_mm: tuple[float, float] = (0.0, 0.0)) -> bytes:
    """A PDF of ``labels`` on sheets of ``layout``, from position ``start`` (1-based) of a partly used first sheet.

    ``offset_mm`` moves everything right and down by the printer's calibration.
    """
    if not 1 <= start <= layout.per_page:
        raise LayoutError(f"start position {start}: the sheet has positions 1 to {layout.per_page}")
    register_fonts()
    out = io.BytesIO()
    page_w, page_h = layout.page
    canvas = Canvas(out, pagesize=A4 if page_w == PAGES["A4"][0] else LETTER, pageCompression=1)
    canvas.setTitle(f"Caliber labels ({layout.name})")
    for n, content in enumerate(labels):
        position = start - 1 + n
        if position and position % layout.per_page == 0:
            canvas.showPage()
        left, top = layout.origin(position)
        _draw(canvas, layout, content, left + offset_mm[0], page_h - top - offset_mm[1])
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw(canvas: Canvas, layout: Layout, content: LabelContent, left_mm: float, top_mm_from_bottom: float) -> None:
    modules = content.qr()
    module = layout.qr_mm / (len(modules) + 2 * QUIET_MODULES)
    x0 = (left_mm + layout.padding_mm + QUIET_MODULES * module) * mm
    y0 = (top_mm_from_bottom - layout.padding_mm - QUIET_MODULES * module) * mm
    draw_qr(canvas, modules, x0, y0, module * mm)
    text_x = (left_mm + layout.padding_mm + layout.qr_mm + TEXT_GAP_MM) * mm
    width, height = layout.text_mm
    rows = [
        Row(content.kind, True, layout.font_pt["kind"]),
        *content.rows(layout.font_pt["line"]),
    ]
    top = (top_mm_from_bottom - layout.padding_mm) * mm
    code = format_code(content.code)
    for line in lay_out(code, layout.font_pt["code"], rows, width=width * mm, height=height * mm, measure=_measure):
        canvas.setFont(BOLD if line.bold else FONT, line.size)
        canvas.drawString(text_x, top - ASCENT * line.size, line.text)
        top -= line.size * LEADING
