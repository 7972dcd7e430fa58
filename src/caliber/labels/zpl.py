"""Zebra ZPL II for thermal label printers: the printer's own QR command (``^BQ``) and fonts, not an image.

Sizes: 2 x 1 in and 4 x 2 in, at 203 and 300 dpi. The QR magnification is the
smallest whole number of dots that keeps a module at 0.5 mm or more; the
label is refused when the QR with its quiet zone would not fit. The text is
fitted beside it as on every label (:mod:`caliber.labels.fit`), measured by the
widest characters of the printer's font 0. Jobs go to a
registered printer on the network over raw TCP (port 9100), or are downloaded.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from caliber.labels.codes import format_code
from caliber.labels.fit import LEADING, FitError, Line, Row, lay_out
from caliber.labels.render import MIN_MODULE_MM, QUIET_MODULES, LabelContent, LabelError, qr_size

__all__ = ["SIZES", "ZplLabel", "send_to_printer", "zpl"]

SIZES = {"2x1": (2.0, 1.0), "4x2": (4.0, 2.0)}
"""Label width and height in inches."""
DPIS = (203, 300)
MARGIN_IN = 0.06
FONT_0_WIDTH = 0.6


@dataclass(frozen=True)
class ZplLabel:
    """A thermal label stock."""

    size: str
    dpi: int

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise LabelError(f"ZPL labels are {', '.join(SIZES)} inches; got {self.size!r}")
        if self.dpi not in DPIS:
            raise LabelError(f"ZPL printers here print at {' or '.join(map(str, DPIS))} dpi; got {self.dpi}")

    @property
    def dots(self) -> tuple[int, int]:
        """Width and height in printer dots."""
        width, height = SIZES[self.size]
        return round(width * self.dpi), round(height * self.dpi)

    @property
    def magnification(self) -> int:
        """Dots per QR module: the fewest that keep a module at 0.5 mm or more."""
        return math.ceil(MIN_MODULE_MM / 25.4 * self.dpi - 1e-9)


def _field(text: str) -> str:
    """Text for a ``^FD`` field under ``^FH``: the characters ZPL treats as commands written as hex escapes."""
    return "".join(f"_{ord(ch):02X}" if ch in "^~_" else ch for ch in text)


def zpl(labels: Sequence[LabelContent], stock: ZplLabel) -> str:
    """One ZPL job printing each label once."""
    width, height = stock.dots
    margin = round(MARGIN_IN * stock.dpi)
    magnification = stock.magnification
    jobs = []
    for content in labels:
        modules = qr_size(content.url)  # the printer draws the QR: only its size matters here
        qr_dots = (modules + 2 * QUIET_MODULES) * magnification
        if qr_dots > height - 2 * margin:
            raise LabelError(
                f"the QR of {content.url} ({modules} modules at {magnification} dots) needs {qr_dots} dots; "
                f"a {stock.size} in label at {stock.dpi} dpi has {height - 2 * margin}: use the 4x2 stock or a shorter base URL"
            )
        text_x = margin + qr_dots + margin
        lines = _text(content, stock, width - text_x - margin, height - 2 * margin)
        fields, top = [], 0.0
        for line in lines:
            size = round(line.size / 72 * stock.dpi)
            fields.append(f"^FO{text_x},{margin + round(top)}^A0N,{size},{size}^FH^FD{_field(line.text)}^FS")
            top += line.size * LEADING / 72 * stock.dpi
        quiet = QUIET_MODULES * magnification
        jobs.append(
            "^XA^CI28"
            f"^PW{width}^LL{height}"
            # ^BQ draws its own 10-dot top offset; the quiet zone is left around it by position
            f"^FO{margin + quiet},{margin + quiet - 10}^BQN,2,{magnification}^FH^FDMA,{_field(content.url)}^FS" + "".join(fields) + "^XZ"
        )
    return "\n".join(jobs) + "\n"


def _measure(text: str, bold: bool, size: float) -> float:
    """Width of ``text`` in the printer's font 0 at ``size``: its characters are at most 0.6 of its height wide."""
    return len(text) * size * FONT_0_WIDTH


def _text(content: LabelContent, stock: ZplLabel, width_dots: int, height_dots: int) -> list[Line]:
    """The label's lines (sizes in points) fitted beside the QR: the code whole, the rest shrunk and wrapped."""
    _, height = stock.dots
    points = 72 / stock.dpi
    big, small = max(height // 7, 18) * points, max(height // 11, 14) * points
    rows = [Row(content.kind, True, small), *content.rows(small)]
    try:
        return lay_out(format_code(content.code), big, rows, width=width_dots * points, height=height_dots * points, measure=_measure)
    except FitError as exc:
        raise LabelError(f"a {stock.size} in label at {stock.dpi} dpi has no room beside the QR for the code: {exc}") from None


async def send_to_printer(host: str, data: str, port: int = 9100, seconds: float = 10.0) -> None:
    """Send a ZPL job to a network printer (raw TCP, as Zebra printers take it), giving up after ``seconds``.

    Callers pass only a registered printer's address (:mod:`caliber.labels.printers`). The
    :class:`LabelError` says why the job was not taken without repeating any address.
    """
    try:
        async with asyncio.timeout(seconds):
            _reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(data.encode("utf-8"))
                await writer.drain()
            finally:
                writer.close()
                await writer.wait_closed()
    except (OSError, ValueError, OverflowError) as exc:  # ValueError: a name no resolver takes (too long, NUL)
        raise LabelError(_refusal(exc, seconds)) from None


def _refusal(exc: BaseException, seconds: float) -> str:
    """Why a job was not taken, in words that name no address (the exception's own text may)."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {seconds:g} s"
    if isinstance(exc, socket.gaierror):
        return "its host name does not resolve"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return "it cannot be reached"
