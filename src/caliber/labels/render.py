"""One label as SVG (screens, browsers' print) or PNG (small label printers through the operating system).

A label holds the QR of ``BASE_URL/s/CODE`` with its quiet zone, the code in
groups for people, the kind, and the identity that matters on the shelf, set
in the vendored DejaVu Sans (Latin, Cyrillic) and fitted by
:mod:`caliber.labels.fit`: shrunk and wrapped, the code never cut. QR matrices
are cached by content: choosing the mask is the slow part of making a QR.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont

from caliber.config import resource_path
from caliber.labels.codes import format_code
from caliber.labels.fit import ASCENT, LEADING, FitError, Line, Row, lay_out
from caliber.labels.qr import Matrix, matrix
from caliber.schemas import visible

__all__ = ["MIN_MODULE_MM", "QUIET_MODULES", "LabelContent", "LabelError", "label_url", "png", "qr_modules", "qr_size", "svg"]

QUIET_MODULES = 4
"""The quiet zone around a QR, in modules (ISO/IEC 18004)."""
MIN_MODULE_MM = 0.5
"""The smallest module a phone camera and a handheld scanner read at arm's length."""
WIDTH_MM, HEIGHT_MM, MARGIN_MM = 50.0, 25.0, 1.5
TEXT_GAP_MM = 0.5
"""Between the QR's quiet zone and the text."""
CODE_PT, KIND_PT, LINE_PT = 11.5, 8.0, 7.5
"""The type sizes a label would like; :func:`caliber.labels.fit.lay_out` makes them smaller where it must."""
PT_PER_MM = 72 / 25.4
_MEASURE_PX = 1000.0
_HINTING = 0.97
"""A PNG's text block is measured this much narrower: hinting at a printer's few pixels a point widens some lines."""


class LabelError(ValueError):
    """A label cannot be drawn as asked (the QR would be too small to scan)."""


@dataclass(frozen=True)
class LabelContent:
    """What one label shows."""

    code: str
    url: str
    kind: str
    lines: tuple[str, ...]
    modules: Matrix | None = None
    """The QR matrix of ``url`` when it was read ahead (from ``caliber.labels.qrstore``)."""
    identity: int | None = None
    """Which of ``lines`` names the record (an item's serial, a lot's number): shortened last when text cannot fit."""

    def __post_init__(self) -> None:
        # Stored text is printed with its hidden and direction characters written out, as pages show it.
        object.__setattr__(self, "lines", tuple(visible(line) for line in self.lines))

    def rows(self, size: float) -> list[Row]:
        """The lines to fit at ``size``, the identity kept whole longest."""
        return [Row(line, False, size, keep=n == self.identity) for n, line in enumerate(self.lines)]

    def qr(self) -> Matrix:
        """The QR matrix of the label's address."""
        return self.modules or qr_modules(self.url)


def label_url(base_url: str, code: str) -> str:
    """The address a label's QR holds."""
    return f"{base_url.rstrip('/')}/s/{code}"


@lru_cache(maxsize=8192)
def qr_modules(data: str) -> Matrix:
    """The QR matrix of ``data`` (error correction M, no border), cached by content."""
    return matrix(data)


@lru_cache(maxsize=8192)
def qr_size(data: str) -> int:
    """Modules per side of the QR of ``data``, without drawing it (the version alone is quick to find)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    version: int = qr.best_fit()
    return 17 + 4 * version


def _geometry(content: LabelContent, width_mm: float, height_mm: float) -> tuple[Matrix, float]:
    modules = content.qr()
    side = height_mm - 2 * MARGIN_MM
    module = side / (len(modules) + 2 * QUIET_MODULES)
    if module < MIN_MODULE_MM:
        raise LabelError(
            f"the QR of {content.url} needs {len(modules)} modules: at {height_mm} mm high each would be {module:.2f} mm, "
            f"under the {MIN_MODULE_MM} mm a scanner reads; use a taller label or a shorter base URL"
        )
    if width_mm < height_mm * 1.6:
        raise LabelError(f"a label of {width_mm}x{height_mm} mm leaves no room for the code beside the QR")
    return modules, module


@lru_cache(maxsize=64)
def _font(bold: bool, size_px: float) -> ImageFont.FreeTypeFont:
    """The vendored DejaVu Sans (bold or not) at ``size_px``: the face the PDF sheets embed, with Cyrillic."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(resource_path("static") / "fonts" / name), size_px)


def _measure(text: str, bold: bool, size: float) -> float:
    """Width in points of ``text`` at ``size`` points, from the font's outlines (no hinting at this size)."""
    return float(_font(bold, _MEASURE_PX).getlength(text)) * size / _MEASURE_PX


def _text(content: LabelContent, width_mm: float, height_mm: float) -> list[Line]:
    """The label's lines fitted to the block of ``width_mm`` x ``height_mm`` beside the QR."""
    rows = [Row(content.kind, True, KIND_PT), *content.rows(LINE_PT)]
    code = format_code(content.code)
    try:
        return lay_out(code, CODE_PT, rows, width=width_mm * PT_PER_MM, height=height_mm * PT_PER_MM, measure=_measure)
    except FitError as exc:
        raise LabelError(f"no room beside the QR for the code: {exc}") from None


def svg(content: LabelContent, width_mm: float = WIDTH_MM, height_mm: float = HEIGHT_MM) -> str:
    """The label as an SVG document sized in millimetres."""
    modules, module = _geometry(content, width_mm, height_mm)
    origin = MARGIN_MM + QUIET_MODULES * module
    path = "".join(
        f"M{origin + x * module:.3f},{origin + y * module:.3f}h{module:.3f}v{module:.3f}h-{module:.3f}z"
        for y, row in enumerate(modules)
        for x, dark in enumerate(row)
        if dark
    )
    text_x = MARGIN_MM + (len(modules) + 2 * QUIET_MODULES) * module + TEXT_GAP_MM
    top = MARGIN_MM
    lines = []
    for line in _text(content, width_mm - text_x - MARGIN_MM, height_mm - 2 * MARGIN_MM):
        size = line.size / PT_PER_MM
        # textLength holds each line to its measured width should a browser set it in a wider face than DejaVu Sans
        weight = ' font-weight="700"' if line.bold else ""
        lines.append(
            f'<text x="{text_x:.2f}" y="{top + ASCENT * size:.2f}" font-size="{size:.3f}"{weight} '
            f'textLength="{_measure(line.text, line.bold, line.size) / PT_PER_MM:.3f}" lengthAdjust="spacingAndGlyphs">'
            f"{escape(line.text)}</text>"
        )
        top += size * LEADING
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm" '
        f'viewBox="0 0 {width_mm} {height_mm}" font-family="DejaVu Sans, Arial, sans-serif">'
        f'<rect width="{width_mm}" height="{height_mm}" fill="#fff"/><path d="{path}" fill="#000"/>{"".join(lines)}</svg>'
    )


def png(content: LabelContent, width_mm: float = WIDTH_MM, height_mm: float = HEIGHT_MM, dpi: int = 300) -> bytes:
    """The label as a PNG at ``dpi`` (whole pixels per module, so the QR stays sharp)."""
    modules, module_mm = _geometry(content, width_mm, height_mm)
    px_per_mm = dpi / 25.4
    module = max(int(module_mm * px_per_mm), 1)
    width, height = round(width_mm * px_per_mm), round(height_mm * px_per_mm)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    origin = round(MARGIN_MM * px_per_mm) + QUIET_MODULES * module
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                left, upper = origin + x * module, origin + y * module
                draw.rectangle([left, upper, left + module - 1, upper + module - 1], fill=0)
    text_x = origin + (len(modules) + QUIET_MODULES) * module + round(TEXT_GAP_MM * px_per_mm)
    margin = round(MARGIN_MM * px_per_mm)
    px_per_pt = dpi / 72
    top = float(margin)
    for line in _text(content, (width - text_x - margin) / px_per_mm * _HINTING, (height - 2 * margin) / px_per_mm):
        draw.text((text_x, round(top)), line.text, fill=0, font=_font(line.bold, line.size * px_per_pt))
        top += line.size * LEADING * px_per_pt
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
