"""The hits file: every column checked, every bad cell named by row and column, the file refused whole."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caliber.errors import InvalidInput
from caliber.items.iarms import markdown
from caliber.labels.codes import make_code
from caliber.tracing.events import ReportedAs
from caliber.tracing.hits import bare_serial, finding_of
from caliber.tracing.hits_file import HIT_COLUMNS, HitFileRefused, read_hits, read_hits_bytes
from tests.tracing.hits_csv import hit, hits_csv

TODAY = dt.date(2026, 12, 4)


def _read(text: str) -> list[object]:
    return list(read_hits(text.splitlines(keepends=True), TODAY))


def test_a_good_file_is_read_with_its_values_normalised() -> None:
    code = make_code("weapon", 42)
    text = hits_csv([hit("IA-1", "M70-1234", reporting_country="de", reported_as="Stolen", record_reference=f" {code[:4]} {code[4:]} ")])
    (one,) = read_hits_bytes(("\ufeff" + text).encode(), TODAY)
    found = one.hit
    assert (one.row, found.reference, found.serial, found.reporting_country, found.reported_as) == (
        2,
        "IA-1",
        "M70-1234",
        "DE",
        ReportedAs.STOLEN,
    )
    assert (found.reported_on, found.queried_on, one.code) == (dt.date(2019, 3, 8), dt.date(2026, 11, 30), code)
    assert finding_of(found) == "hit: reported stolen by DE on 2019-03-08"


def test_optional_columns_may_be_left_out_and_rows_blank() -> None:
    required = [c.name for c in HIT_COLUMNS if c.required]
    (one,) = read_hits(hits_csv([hit("IA-1", "X1"), {}], columns=required).splitlines(keepends=True), TODAY)
    assert (one.hit.model, one.hit.calibre, one.code) == ("", "", None)


def test_every_bad_column_is_named_with_its_row_and_nothing_is_read() -> None:
    component = make_code("component", 7)
    bad_code = make_code("weapon", 7)[:-1] + str((int(make_code("weapon", 7)[-1]) + 1) % 10)
    rows = [
        hit("IA-0", "GOOD1"),
        hit("x" * 121, "S2"),
        hit("IA-3", "illegible"),
        hit("IA-4", "S4", make=""),
        hit("IA-5", "S5", model="m" * 121),
        hit("IA-6", "S6", calibre="c" * 41),
        hit("IA-7", "S7", reporting_country="ZZ"),
        hit("IA-8", "S8", reported_as="borrowed"),
        hit("IA-9", "S9", reported_on="08.03.2019"),
        hit("IA-10", "S10", queried_on="2026-12-05"),
        hit("IA-11", "S11", record_reference=bad_code),
        hit("IA-12", "S12", record_reference=component),
        hit("IA-13", "S13", reported_on="2026-12-01", queried_on="2026-11-30"),
        hit("IA-0", "S14"),
        hit("IA-15", "S\u202e15"),
        hit("IA-16", "S16", reporting_country="YU"),
    ]
    with pytest.raises(HitFileRefused) as refused:
        _read(hits_csv(rows))
    named = [(e.row, e.column) for e in refused.value.rows]
    assert named == [
        (3, "hit_reference"),
        (4, "serial_number"),
        (5, "make"),
        (6, "model"),
        (7, "calibre"),
        (8, "reporting_country"),
        (9, "reported_as"),
        (10, "reported_on"),
        (11, "queried_on"),
        (12, "record_reference"),
        (13, "record_reference"),
        (14, "reported_on"),
        (15, "hit_reference"),
        (16, "serial_number"),
        (17, "reporting_country"),
    ]
    assert refused.value.error_count == 15
    assert refused.value.status_code == 422
    assert "row 3, column hit_reference" in refused.value.message
    assert "nothing was recorded" in refused.value.message
    reasons = {e.column: e.reason for e in refused.value.rows}
    assert "given already at row 2" in next(e.reason for e in refused.value.rows if e.row == 15)
    assert "not one of lost, stolen, trafficked, smuggled" in reasons["reported_as"]
    assert "labels a component" in next(e.reason for e in refused.value.rows if e.row == 13)
    assert refused.value.errors[0].message.startswith("row 3, hit_reference:")


def test_a_row_with_more_cells_than_columns_is_named() -> None:
    text = hits_csv([hit("IA-1", "S1")]) + "IA-2,S2,Zastava,M70,7.62,DE,lost,2019-01-01,2026-01-01,,extra\n"
    with pytest.raises(HitFileRefused) as refused:
        _read(text)
    assert [(e.row, e.column) for e in refused.value.rows] == [(3, "")]


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("hit_reference,serial_number,make,reporting_country,reported_as,reported_on,queried_on,colour", "unknown column(s) colour"),
        ("hit_reference,serial_number,make,reporting_country,reported_as,reported_on", "missing column(s) queried_on"),
        ("hit_reference,serial_number,make,make,reporting_country,reported_as,reported_on,queried_on", "make given twice"),
    ],
)
def test_a_wrong_header_is_refused_naming_the_columns(header: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _read(header + "\n")
    assert said in refused.value.message
    assert refused.value.message.startswith("row 1:")


def test_an_empty_file_and_one_not_in_utf8_are_refused() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        read_hits_bytes(b"", TODAY)
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_hits_bytes(hits_csv([hit("IA-1", "Š1")]).encode("cp1250"), TODAY)


def test_the_errors_kept_are_capped_but_all_are_counted() -> None:
    rows = [hit(f"IA-{n}", "S", reported_as="borrowed") for n in range(1500)]
    with pytest.raises(HitFileRefused) as refused:
        _read(hits_csv(rows))
    assert (len(refused.value.rows), refused.value.error_count) == (1000, 1500)


def test_the_docs_list_every_column_of_the_hits_file() -> None:
    assert all(f"| `{c.name}` |" in markdown() for c in HIT_COLUMNS)  # docs/iarms.md is markdown() (tests/items/test_iarms.py)


@given(st.text(alphabet="AB12cd", min_size=1, max_size=12), st.lists(st.sampled_from([" ", "-"]), max_size=4), st.randoms())
def test_spaces_dashes_and_case_do_not_change_a_bare_serial(serial: str, noise: list[str], chooser: object) -> None:
    typed = list(serial.swapcase())
    for mark in noise:
        typed.insert(chooser.randint(0, len(typed)), mark)  # type: ignore[attr-defined]
    assert bare_serial("".join(typed)) == bare_serial(serial) == serial.upper()


def test_a_quoted_cell_over_two_lines_is_one_cell_refused_by_its_column() -> None:
    text = hits_csv([hit("IA-1", "S1", model="M70\nAB2"), hit("IA-2", "S2")])
    with pytest.raises(HitFileRefused) as refused:
        read_hits_bytes(text.encode(), TODAY)
    assert [(e.row, e.column) for e in refused.value.rows] == [(2, "model")]
