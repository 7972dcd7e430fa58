"""Charts as SVG drawn on the server: they work without JavaScript, print well, and carry their numbers as text.

Each chart is an ``<svg role="img">`` with a title and a description that
says what it shows; pages put the same numbers in a table beside it for
screen readers and for copying into reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from xml.sax.saxutils import escape

__all__ = ["bar_chart", "line_chart", "progress_bar"]

WIDTH, BAR, GAP, LABEL = 560, 22, 8, 150
COLOURS = ("#1f3b63", "#b5522b", "#5b7f2a", "#7a4e9b", "#2a7f7a", "#8a6d1f")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2")
"""Each series also has its own dash pattern, so the chart reads in black and white."""


def bar_chart(
    title: str, rows: Sequence[tuple[str, Sequence[float]]], series: list[str], *, peak: float | None = None, unit: str = ""
) -> str:
    """Horizontal bars, one group per row, one bar per series, each with its number (and ``unit``) at its end; the bars
    are drawn against ``peak`` (default: the largest value), such as 100 for shares in %."""
    peak = peak or max((value for _, values in rows for value in values), default=0) or 1
    group = len(series) * BAR + GAP
    height = 30 + len(rows) * (group + GAP) + (20 if len(series) > 1 else 0)
    room = WIDTH - LABEL - 70
    parts = _opening(title, _description(rows, series, unit), height)
    y = 30
    for label, values in rows:
        parts.append(f'<text x="0" y="{y + group / 2:.0f}" font-size="12" dominant-baseline="middle">{escape(label)}</text>')
        for n, value in enumerate(values):
            length = room * value / peak
            top = y + n * BAR
            parts.append(f'<rect x="{LABEL}" y="{top}" width="{length:.1f}" height="{BAR - 4}" fill="{COLOURS[n % len(COLOURS)]}"/>')
            middle = top + (BAR - 4) / 2
            parts.append(
                f'<text x="{LABEL + length + 4:.1f}" y="{middle:.0f}" font-size="11" dominant-baseline="middle">{value:,}{unit}</text>'
            )
        y += group + GAP
    if len(series) > 1:
        for n, name in enumerate(series):
            x = LABEL + n * 130
            parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{COLOURS[n % len(COLOURS)]}"/>')
            parts.append(f'<text x="{x + 16}" y="{y + 10}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


STATE_COLOURS = {"met": "#5b7f2a", "on track": "#5b7f2a", "behind": "#b5522b", "missed": "#9b1c1c", "not started": "#888888"}


def progress_bar(share: float, state: str, expected: float | None = None) -> str:
    """A bar filled to ``share`` (0 to 1) in the colour of ``state``, with a tick where the pace says it should be by now."""
    width = 160
    filled = width * max(0.0, min(share, 1.0))
    at = width * min(expected or 0.0, 1.0)
    tick = "" if expected is None else f'<line x1="{at:.1f}" y1="0" x2="{at:.1f}" y2="14" stroke="#222" stroke-width="2"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 14" width="{width}" height="14" class="progress" aria-hidden="true">'
        f'<rect width="{width}" height="14" fill="#e6e6e6"/>'
        f'<rect width="{filled:.1f}" height="14" fill="{STATE_COLOURS.get(state, "#1f3b63")}"/>'
        f"{tick}</svg>"
    )


def _opening(title: str, description: str, height: int) -> list[str]:
    """The ``<svg>`` element with its title and description (ids unique to the chart, so a page can hold several)."""
    ident = "c" + hashlib.sha256(title.encode()).hexdigest()[:8]
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" class="chart" '
        f'aria-labelledby="{ident}t {ident}d">',
        f'<title id="{ident}t">{escape(title)}</title>',
        f'<desc id="{ident}d">{escape(description)}</desc>',
        f'<text x="0" y="16" font-size="14" font-weight="700">{escape(title)}</text>',
    ]


def _description(rows: Sequence[tuple[str, Sequence[float]]], series: list[str], unit: str = "") -> str:
    return "; ".join(
        f"{label}: " + ", ".join(f"{name} {value:,}{unit}" for name, value in zip(series, values, strict=True)) for label, values in rows
    )


def line_chart(
    title: str,
    points: list[str],
    series: list[tuple[str, list[float]]],
    *,
    target: tuple[str, list[float]] | None = None,
    ticks: list[str] | None = None,
) -> str:
    """Lines over time, one per series (colour and dash), with an optional target line drawn thin and grey.

    ``ticks`` label the axis where ``points`` (which the description reads out) would crowd it.
    """
    height, left, right, top, bottom = 260, 56, 180, 30, 36
    room_x, room_y = WIDTH - left - right, height - top - bottom
    every = [v for _, values in series for v in values] + (target[1] if target else [])
    peak = max(every, default=0) or 1
    step = room_x / max(len(points) - 1, 1)

    def xy(n: int, value: float) -> str:
        return f"{left + n * step:.1f},{top + room_y * (1 - value / peak):.1f}"

    described = [*series, *([target] if target else [])]
    parts = [
        *_opening(title, _series_description(points, described), height),
        f'<line x1="{left}" y1="{top + room_y}" x2="{left + room_x}" y2="{top + room_y}" stroke="#888"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end">{peak:,.0f}</text>',
        f'<text x="{left - 6}" y="{top + room_y}" font-size="10" text-anchor="end">0</text>',
    ]
    for n, point in enumerate(ticks or points):
        if point and (ticks or len(points) <= 13 or n % 2 == 0):
            parts.append(
                f'<text x="{left + n * step:.1f}" y="{height - bottom + 16}" font-size="10" text-anchor="middle">{escape(point)}</text>'
            )
    drawn = [(name, values, COLOURS[k % len(COLOURS)], DASHES[k % len(DASHES)], 2.2) for k, (name, values) in enumerate(series)]
    if target:
        drawn.append((target[0], target[1], "#999999", "3 3", 1.5))
    for k, (name, values, colour, dash, stroke) in enumerate(drawn):
        line = " ".join(xy(n, v) for n, v in enumerate(values))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="{stroke}"{style}/>')
        y, key = top + 10 + k * 16, left + room_x + 10
        parts.append(f'<line x1="{key}" y1="{y}" x2="{key + 24}" y2="{y}" stroke="{colour}" stroke-width="{stroke}"{style}/>')
        parts.append(f'<text x="{key + 28}" y="{y + 4}" font-size="10">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _series_description(points: list[str], series: list[tuple[str, list[float]]]) -> str:
    return "; ".join(f"{name}: " + ", ".join(f"{p} {v:,.0f}" for p, v in zip(points, values, strict=True)) for name, values in series)
