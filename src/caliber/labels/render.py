"""One label as SVG (screens, browsers' print) or PNG (small label printers through the operating system).

A label holds the QR of ``BASE_URL/s/CODE`` with its quiet zone, the code in
groups for people, the kind, and the identity that matters on the shelf, each
line shortened to fit. QR matrices are cached by content: choosing the mask
is the slow part of making a QR.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont

from caliber.labels.codes import format_code
from caliber.labels.qr import Matrix, matrix
from caliber.schemas import visible

__all__ = ["MIN_MODULE_MM", "QUIET_MODULES", "LabelContent", "LabelError", "label_url", "png", "qr_modules", "qr_size", "svg"]

QUIET_MODULES = 4
"""The quiet zone around a QR, in modules (ISO/IEC 18004)."""
MIN_MODULE_MM = 0.5
"""The smallest module a phone camera and a handheld scanner read at arm's length."""
WIDTH_MM, HEIGHT_MM, MARGIN_MM = 50.0, 25.0, 1.5


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

    def __post_init__(self) -> None:
        # Stored text is printed with its hidden and direction characters written out, as pages show it.
        object.__setattr__(self, "lines", tuple(visible(line) for line in self.lines))

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
    return 17 + 4 * qr.best_fit()


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


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


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
    text_x = height_mm + 0.5
    room = int((width_mm - text_x - MARGIN_MM) / 1.55)  # characters of 2.6 mm type that fit
    lines = [
        f'<text x="{text_x:.2f}" y="{MARGIN_MM + 4.2:.2f}" font-size="4" font-weight="700" font-family="monospace">'
        f"{escape(format_code(content.code))}</text>",
        f'<text x="{text_x:.2f}" y="{MARGIN_MM + 8.6:.2f}" font-size="2.8" font-weight="700">{escape(_fit(content.kind, room))}</text>',
    ]
    for n, line in enumerate(content.lines[:4]):
        y = MARGIN_MM + 12.4 + n * 3.2
        lines.append(f'<text x="{text_x:.2f}" y="{y:.2f}" font-size="2.6">{escape(_fit(line, room))}</text>')
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
                left, top = origin + x * module, origin + y * module
                draw.rectangle([left, top, left + module - 1, top + module - 1], fill=0)
    text_x = origin + (len(modules) + QUIET_MODULES) * module + round(0.5 * px_per_mm)
    room = width - text_x - round(MARGIN_MM * px_per_mm)
    top = round(MARGIN_MM * px_per_mm)
    for full, size_mm in [(format_code(content.code), 4.0), (content.kind, 2.8), *((line, 2.6) for line in content.lines[:4])]:
        font = ImageFont.load_default(size=round(size_mm * px_per_mm))
        text = full
        while len(text) > 1 and draw.textlength(text, font=font) > room:
            text = text[:-2] + "…"
        draw.text((text_x, top), text, fill=0, font=font)
        top += round((size_mm + 0.7) * px_per_mm)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
