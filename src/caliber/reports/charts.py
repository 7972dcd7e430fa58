"""Charts as SVG drawn on the server: they work without JavaScript, print well, and carry their numbers as text.

Each chart is an ``<svg role="img">`` with a title and a description that
says what it shows; pages put the same numbers in a table beside it for
screen readers and for copying into reports.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

__all__ = ["bar_chart", "progress_bar"]

WIDTH, BAR, GAP, LABEL = 560, 22, 8, 150
COLOURS = ("#1f3b63", "#b5522b", "#5b7f2a", "#7a4e9b")


def bar_chart(title: str, rows: list[tuple[str, list[int]]], series: list[str]) -> str:
    """Horizontal bars, one group per row, one bar per series, each with its number at its end."""
    peak = max((value for _, values in rows for value in values), default=0) or 1
    group = len(series) * BAR + GAP
    height = 30 + len(rows) * (group + GAP) + (20 if len(series) > 1 else 0)
    room = WIDTH - LABEL - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" class="chart" '
        'aria-labelledby="t d">',
        f'<title id="t">{escape(title)}</title>',
        f'<desc id="d">{escape(_description(rows, series))}</desc>',
        f'<text x="0" y="16" font-size="14" font-weight="700">{escape(title)}</text>',
    ]
    y = 30
    for label, values in rows:
        parts.append(f'<text x="0" y="{y + group / 2:.0f}" font-size="12" dominant-baseline="middle">{escape(label)}</text>')
        for n, value in enumerate(values):
            length = room * value / peak
            top = y + n * BAR
            parts.append(f'<rect x="{LABEL}" y="{top}" width="{length:.1f}" height="{BAR - 4}" fill="{COLOURS[n % len(COLOURS)]}"/>')
            middle = top + (BAR - 4) / 2
            parts.append(f'<text x="{LABEL + length + 4:.1f}" y="{middle:.0f}" font-size="11" dominant-baseline="middle">{value:,}</text>')
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


def _description(rows: list[tuple[str, list[int]]], series: list[str]) -> str:
    return "; ".join(
        f"{label}: " + ", ".join(f"{name} {value:,}" for name, value in zip(series, values, strict=True)) for label, values in rows
    )
