"""Text in PDFs that wraps and is never cut: lines within their width, grids across pages, every character kept."""

from __future__ import annotations

import functools
import io

import pypdfium2
from hypothesis import given
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate

from caliber.labels.sheets import FONT, register_fonts
from caliber.pdf import MONO, Cell, Grid, NumberedCanvas, wrap

register_fonts()
TEXT = st.text(st.characters(categories=["L", "N", "P", "S", "Zs"], include_characters="\n\t-/", exclude_characters="\x85"), max_size=300)


def letters(text: str) -> str:
    return "".join(text.split())


@given(TEXT, st.floats(min_value=1, max_value=500), st.sampled_from([FONT, MONO]))
def test_wrapped_text_keeps_every_character_and_each_line_fits(text: str, width: float, font: str) -> None:
    if font == MONO:
        text = text.encode("latin-1", "replace").decode("latin-1")
    lines = wrap(text, font, 9, width)
    assert letters("".join(lines)) == letters(text)
    assert len(lines) >= text.count("\n") + 1  # its own line breaks are kept
    assert all(pdfmetrics.stringWidth(line, font, 9) <= width or len(line) == 1 for line in lines)


def test_a_word_wider_than_its_column_breaks_where_the_line_is_full() -> None:
    assert wrap("a" * 64, MONO, 7, 100) == ["a" * 23, "a" * 23, "a" * 18]  # Courier: 0.6 em a character
    serial = "ЗАСТАВА-М70АБ2-1987-0004567891234"
    first, *rest = wrap(f"S/N {serial}", FONT, 7, 107)[1:]
    assert first + "".join(rest) == serial
    assert pdfmetrics.stringWidth(serial[: len(first) + 1], FONT, 7) > 107  # full: one character more would not fit


def pages_of(grid: Grid) -> list[str]:
    out = io.BytesIO()

    def footer(canvas: Canvas, page: int, pages: int) -> None:
        canvas.setFont(FONT, 7)
        canvas.drawString(40, 20, f"page {page} of {pages}")

    SimpleDocTemplate(out, pagesize=A4).build([grid], canvasmaker=functools.partial(NumberedCanvas, footer=footer))
    return [page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(out.getvalue())]


def test_a_long_grid_goes_on_over_pages_repeating_its_header_and_a_tall_row_breaks_between_its_lines() -> None:
    notes = "\n".join(f"line {n} of the notes" for n in range(150))
    rows = [(f"serial {n:04d}", Cell(f"{n:064x}", MONO)) for n in range(300)] + [("notes", notes)]
    pages = pages_of(Grid.of([100, 300], rows, header=["Serial", "Hash"], title="Weapons"))
    assert len(pages) > 3
    assert all("Serial Hash" in " ".join(page.split()) for page in pages)
    assert [n for n, page in enumerate(pages, 1) if f"page {n} of {len(pages)}" not in page] == []
    text = "\n".join(pages)
    assert all(f"serial {n:04d}" in text and f"{n:064x}" in letters(text) for n in range(300))
    assert all(f"line {n} of the notes" in text for n in range(150))
    assert "…" not in text
