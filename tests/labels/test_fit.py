"""Label text fitting: the code is always whole on its line; other text shrinks and wraps, and is cut only past the floor."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliber.labels.fit import LEADING, MIN_CODE_PT, MIN_TEXT_PT, FitError, Row, code_size, lay_out

CODE = "1000 0004 27"


def measure(text: str, bold: bool, size: float) -> float:
    """A stand-in face: every character 0.6 em wide, bold 0.7 em."""
    return len(text) * size * (0.7 if bold else 0.6)


words = st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=30)
texts = st.lists(words, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(texts, min_size=1, max_size=5), width=st.floats(52, 200), height=st.floats(20, 120))
def test_the_code_is_whole_every_line_fits_and_only_overflow_is_cut(rows: list[str], width: float, height: float) -> None:
    lines = lay_out(CODE, 11, [Row(text, False, 8) for text in rows], width=width, height=height, measure=measure)
    assert lines[0].text == CODE
    assert lines[0].size >= MIN_CODE_PT
    assert all(measure(line.text, line.bold, line.size) <= width + 1e-6 for line in lines)
    assert all(line.size >= MIN_TEXT_PT for line in lines[1:])
    assert sum(line.size * LEADING for line in lines) <= height + 1e-6 or len(lines) == 1
    if not any("…" in line.text for line in lines):
        assert "".join(line.text for line in lines[1:]).replace(" ", "") == "".join(rows).replace(" ", "")


def test_text_shrinks_before_it_is_cut_and_the_longest_row_is_cut_first() -> None:
    serial, maker = "S/N 1234567", "Zavodi Crvena Zastava Kragujevac " * 6
    lines = lay_out(CODE, 11, [Row(maker, False, 8), Row(serial, False, 8)], width=60, height=60, measure=measure)
    assert lines[-1].text == serial
    assert lines[-2].text.endswith("…")
    assert {line.size for line in lines[1:]} == {MIN_TEXT_PT}


def test_a_code_that_cannot_fit_at_the_smallest_size_is_refused() -> None:
    assert code_size(CODE, 11, 60, measure) == pytest.approx(60 / (12 * 0.7))
    with pytest.raises(FitError, match="the code needs"):
        code_size(CODE, 11, 12 * 0.7 * MIN_CODE_PT - 1, measure)


def test_the_identity_row_is_shortened_last() -> None:
    serial, maker = "S/N " + "Ш" * 40, "Zastava " * 20
    rows = [Row(maker, False, 8), Row(serial, False, 8, keep=True), Row("7.62x39mm", False, 8)]
    lines = lay_out(CODE, 11, rows, width=60, height=40, measure=measure)
    assert "".join(line.text for line in lines).count("Ш") == 40
    assert not any(line.text.endswith("…") for line in lines if "Ш" in line.text)  # not marked as cut: it is whole
    assert any(line.text.endswith("…") for line in lines)


def test_a_word_wider_than_a_line_is_broken_where_it_starts() -> None:
    lines = lay_out(CODE, 11, [Row("S/N " + "7" * 30, False, 8)], width=60, height=200, measure=measure)
    assert lines[1].text.startswith("S/N 7")
    assert "".join(line.text for line in lines[1:]) == "S/N " + "7" * 30


def test_a_block_with_no_room_under_the_code_shows_the_code_alone() -> None:
    lines = lay_out(CODE, 11, [Row("Zastava M70", False, 8)], width=60, height=5, measure=measure)
    assert [line.text for line in lines] == [CODE]
