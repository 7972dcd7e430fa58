"""Label codes: the Damm check digit catches every single-digit error and every neighbour swap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caliber.labels.codes import (
    CODE_DIGITS,
    KINDS,
    MAX_SERIAL,
    CodeError,
    check_digit,
    find_code,
    format_code,
    is_valid,
    kind_of,
    make_code,
    number_of,
    read_code,
)
from tests.labels.layouts import LAYOUTS, typed

serials = st.integers(1, MAX_SERIAL)
kinds = st.sampled_from(sorted(KINDS))


def test_known_check_digits() -> None:
    # Worked examples of the Damm algorithm (Damm 2004; the usual reference example 572 -> 4).
    assert check_digit("572") == "4"
    assert make_code("weapon", 572) == "100000572" + check_digit("100000572")
    assert not is_valid("0000005724")  # a valid Damm number, but no kind starts with 0


@given(kinds, serials)
def test_codes_round_trip_and_say_their_kind(kind: str, serial: int) -> None:
    code = make_code(kind, serial)
    assert len(code) == CODE_DIGITS
    assert is_valid(code)
    assert kind_of(code) == kind
    assert number_of(code) == KINDS[kind] * 10**8 + serial
    assert format_code(code).replace(" ", "") == code


@given(kinds, serials, st.integers(0, CODE_DIGITS - 1), st.integers(1, 9))
def test_every_single_digit_error_is_caught(kind: str, serial: int, position: int, shift: int) -> None:
    code = make_code(kind, serial)
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert not is_valid(wrong)


@given(kinds, serials, st.integers(0, CODE_DIGITS - 2))
def test_every_neighbour_swap_is_caught(kind: str, serial: int, position: int) -> None:
    code = make_code(kind, serial)
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert swapped == code or not is_valid(swapped)


@pytest.mark.parametrize("serial", [0, MAX_SERIAL + 1, -5])
def test_serials_out_of_range_are_refused(serial: int) -> None:
    with pytest.raises(CodeError, match="outside"):
        make_code("lot", serial)


@given(kinds, serials, st.sampled_from(["{}", "https://caliber.example/s/{}", "http:??caliber.example?s?{}\n", "  {} ", "s/{}#"]))
def test_a_code_is_found_in_urls_and_garbled_scans(kind: str, serial: int, template: str) -> None:
    code = make_code(kind, serial)
    assert find_code(template.format(code)) == code
    assert find_code(template.format(format_code(code))) == code


def test_a_misread_code_is_named_and_text_without_one_is_refused() -> None:
    code = make_code("location", 4711)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(CodeError, match="check digit wrong: re-scan or type the code"):
        read_code(f"https://x/s/{wrong}")
    assert find_code(f"https://x/s/{wrong}") is None
    with pytest.raises(CodeError, match="no label code"):
        read_code("AK-47 serial 123")
    assert find_code("AK-47 serial 123") is None


@given(st.text())
def test_any_text_gives_a_valid_code_or_none(text: str) -> None:
    code = find_code(text)
    if code is not None:
        assert is_valid(code)
        assert code in text.replace(" ", "")


noise = st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=8)
urls = st.sampled_from(["https://caliber.example.org/s/{}", "http://127.0.0.1:8000/s/{}", "https://arms.gov.rs/caliber/s/{}", "{}"])


@given(kinds, serials, st.sampled_from(sorted(LAYOUTS)), urls, noise, noise, st.sampled_from(["", "]Q1", "]Q3", "\x02"]))
def test_a_scan_through_any_regional_layout_gives_the_code(
    kind: str, serial: int, layout: str, url: str, before: str, after: str, prefix: str
) -> None:
    """Scanner prefix, noise, any layout: the code comes back; letters and separators may change, digits do not."""
    code = make_code(kind, serial)
    scanned = prefix + before + " " + typed(url.format(code), layout) + " " + after + "\r\n"
    assert find_code(scanned) == code
    if layout != "us" and "/" in url:
        assert typed(url, layout) != url  # the layout really garbles the address


@given(kinds, serials, st.integers(0, CODE_DIGITS - 1), st.integers(1, 9), st.sampled_from(sorted(LAYOUTS)))
def test_a_scan_never_yields_a_code_with_a_wrong_check_digit(kind: str, serial: int, position: int, shift: int, layout: str) -> None:
    code = make_code(kind, serial)
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert find_code(typed(f"https://caliber.example.org/s/{wrong}", layout)) is None
