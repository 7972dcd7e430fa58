"""The CSV of iARMS hits Caliber reads back: its columns, and each row checked, cell by cell, before anything is written.

:data:`HIT_COLUMNS` is the one definition of the file: :func:`read_hits` checks a file against it, and the
section of ``docs/iarms.md`` on hits is written from it (``python -m caliber.items.iarms > docs/iarms.md``).
A file with any bad cell is refused whole (:class:`HitFileRefused` lists every row, column and reason).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from caliber.depots.countries import COUNTRY_CODES, FORMER_CODES
from caliber.errors import FieldError, InvalidInput
from caliber.imports.importer import RowError
from caliber.items.records import UNREADABLE_SERIALS, serial_key
from caliber.labels.codes import is_valid, kind_of
from caliber.schemas import clean_text
from caliber.tracing.events import Hit, ReportedAs

__all__ = ["HIT_COLUMNS", "MAX_ERRORS_KEPT", "HitColumn", "HitFileRefused", "HitRow", "hits_markdown", "read_hits", "read_hits_bytes"]

MAX_ERRORS_KEPT = 1000
REPORTING_COUNTRIES = COUNTRY_CODES - FORMER_CODES.keys()
"""Member states report today: the current ISO 3166-1 codes and XK, not those of states that no longer exist."""
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class HitFileRefused(InvalidInput):
    """The file has bad cells; nothing was written. ``rows`` names each (row, column, reason), up to
    :data:`MAX_ERRORS_KEPT`; ``error_count`` counts the rows that have one."""

    def __init__(self, rows: list[RowError], error_count: int) -> None:
        first = rows[0]
        where = f"row {first.row}, column {first.column}" if first.column else f"row {first.row}"
        super().__init__(
            f"{error_count} row(s) with bad cells, the first at {where}: {first.reason}; nothing was recorded",
            field="file",
            errors=[FieldError(e.column or "file", f"row {e.row}, {e.column or 'the row'}: {e.reason}") for e in rows],
        )
        self.rows = rows
        self.error_count = error_count


@dataclass(frozen=True)
class HitRow:
    """One hit of the file, checked: its row, what iARMS answered, and the label code the query carried (or None)."""

    row: int
    hit: Hit
    code: str | None


def _text(longest: int) -> Callable[[str, str], Any]:
    def check(value: str, column: str) -> str:
        if len(value) > longest:
            raise ValueError(f"at most {longest} characters, this has {len(value)}")
        try:
            return clean_text(value, column)
        except InvalidInput:
            raise ValueError("holds a hidden control or direction character: type it again without it") from None

    return check


def _serial(value: str, column: str) -> str:
    text = _text(80)(value, column)
    if serial_key(text) in UNREADABLE_SERIALS:
        raise ValueError(f"{text!r} identifies no weapon: a hit needs the serial that was queried")
    return str(text)


def _country(value: str, column: str) -> str:
    code = value.upper()
    if code not in REPORTING_COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (two letters, such as DE or RS; XK for Kosovo*)")
    return code


def _reported_as(value: str, column: str) -> ReportedAs:
    try:
        return ReportedAs(value.lower())
    except ValueError:
        raise ValueError(f"{value!r} is not one of {', '.join(r.value for r in ReportedAs)}") from None


def _date(value: str, column: str) -> dt.date:
    try:
        if _DATE.match(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date written YYYY-MM-DD")


def _code(value: str, column: str) -> str:
    code = "".join(value.split())
    if not is_valid(code):
        raise ValueError(f"{value!r} is not a Caliber label code (ten digits whose last is the check digit)")
    if kind_of(code) != "weapon":
        raise ValueError(f"{code} labels a {kind_of(code).replace('_', ' ')}, not a weapon")
    return code


@dataclass(frozen=True)
class HitColumn:
    """One column of the hits file: its header name, what iARMS calls it, what it holds and how it is checked."""

    name: str
    iarms: str
    meaning: str
    check: Callable[[str, str], Any]
    required: bool = False
    example: str = ""


HIT_COLUMNS = (
    HitColumn("hit_reference", "Reference of the hit (the iARMS record that answered the query)",
              "Unique: a hit whose reference Caliber holds already is counted as already known and not recorded again."
              " At most 120 characters.", _text(120), required=True, example="IARMS-2026-004417"),
    HitColumn("serial_number", "Serial number queried",
              "As queried; compared with the weapons' serials without case, spaces or dashes (`ab-12 34` finds `AB1234`)."
              " Not `illegible`, `removed`, `none` or `unknown`.", _serial, required=True, example="M70-481516"),
    HitColumn("make", "Make (manufacturer)",
              "As iARMS holds it; compared through the makers list (`caliber items makers`), so `ZASTAVA ARMS` finds"
              " weapons recorded as `Zastava`. At most 120 characters.", _text(120), required=True, example="Zastava Arms"),
    HitColumn("model", "Model", "As iARMS holds it, kept with the hit (not compared). At most 120 characters.", _text(120),
              example="M70AB2"),
    HitColumn("calibre", "Calibre", "As iARMS holds it, kept with the hit (not compared). At most 40 characters.", _text(40),
              example="7.62x39mm"),
    HitColumn("reporting_country", "Reporting country (member state that recorded the weapon)",
              "ISO 3166-1 alpha-2 code, such as `DE`; `XK` for Kosovo*.", _country, required=True, example="DE"),
    HitColumn("reported_as", "Type of record",
              "What the member state reported: `lost`, `stolen`, `trafficked` or `smuggled`.", _reported_as, required=True,
              example="stolen"),
    HitColumn("reported_on", "Date of the report", "The day the member state recorded it, `YYYY-MM-DD`; not after the query.",
              _date, required=True, example="2019-03-08"),
    HitColumn("queried_on", "Date of the query", "The day iARMS was queried, `YYYY-MM-DD`; not after today.", _date,
              required=True, example="2026-11-30"),
    HitColumn("record_reference", "Reference of the record queried (national reference number)",
              "The Caliber label code, when the query was made from Caliber's iARMS export (its `record_reference`):"
              " the hit is then linked to that weapon, whose serial must be the one queried. Left blank otherwise.",
              _code, example="1000000018"),
)  # fmt: skip
"""The columns of the hits file, in the order of the template; the header may give them in any order."""
_BY_NAME = {c.name: c for c in HIT_COLUMNS}
_REQUIRED = [c.name for c in HIT_COLUMNS if c.required]


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower().replace(" ", "_") for cell in cells]
    if unknown := [n for n in names if n and n not in _BY_NAME]:
        raise InvalidInput(f"row 1: unknown column(s) {', '.join(unknown)}; a hits file has {', '.join(_BY_NAME)}", field="file")
    if twice := sorted({n for n in names if n and names.count(n) > 1}):
        raise InvalidInput(f"row 1: column(s) {', '.join(twice)} given twice", field="file")
    if missing := [n for n in _REQUIRED if n not in names]:
        raise InvalidInput(f"row 1: missing column(s) {', '.join(missing)} of a hits file", field="file")
    return names


def _row(number: int, names: list[str], cells: list[str], today: dt.date) -> tuple[HitRow | None, list[RowError]]:
    if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
        return None, [RowError(number, "", f"{len(cells)} cells but {len(names)} columns")]
    given = {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name}
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for column in HIT_COLUMNS:
        text = given.get(column.name, "")
        if not text:
            if column.required:
                errors.append(RowError(number, column.name, "required, but blank"))
            continue
        try:
            values[column.name] = column.check(text, column.name)
        except ValueError as exc:
            errors.append(RowError(number, column.name, str(exc)))
    queried, reported = values.get("queried_on"), values.get("reported_on")
    if queried is not None and queried > today:
        errors.append(RowError(number, "queried_on", f"{queried:%Y-%m-%d} is after today ({today:%Y-%m-%d})"))
    if reported is not None and queried is not None and reported > queried:
        errors.append(RowError(number, "reported_on", f"{reported:%Y-%m-%d} is after the query ({queried:%Y-%m-%d})"))
    if errors:
        return None, errors
    hit = Hit(
        reference=values["hit_reference"],
        serial=values["serial_number"],
        make=values["make"],
        model=values.get("model", ""),
        calibre=values.get("calibre", ""),
        reporting_country=values["reporting_country"],
        reported_as=values["reported_as"],
        reported_on=values["reported_on"],
        queried_on=values["queried_on"],
    )
    return HitRow(number, hit, values.get("record_reference")), []


def _csv_rows(lines: Iterable[str]) -> Iterator[list[str]]:
    try:
        yield from csv.reader(lines)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read: {exc}", field="file") from None
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text: save the CSV as UTF-8", field="file") from None


def read_hits(lines: Iterable[str], today: dt.date, progress: Callable[[int], None] | None = None) -> list[HitRow]:
    """Every hit of a CSV (its lines, header first), checked; :class:`HitFileRefused` naming every bad cell, or
    :class:`InvalidInput` for a file that is no hits file. A reference given twice is refused at its second row."""
    rows = _csv_rows(lines)
    header = next(rows, None)
    if header is None:
        raise InvalidInput("the file is empty: it needs the header row and one row per hit", field="file")
    names = _header(header)
    hits: list[HitRow] = []
    errors: list[RowError] = []
    count = 0
    first_row: dict[str, int] = {}
    for number, cells in enumerate(rows, start=2):
        if progress:
            progress(1)
        if not any(cell.strip() for cell in cells):
            continue
        hit, refused = _row(number, names, cells, today)
        if hit is not None and (earlier := first_row.setdefault(hit.hit.reference, number)) != number:
            refused = [RowError(number, "hit_reference", f"{hit.hit.reference!r} is given already at row {earlier}")]
        elif hit is not None:
            hits.append(hit)
        count += bool(refused)
        errors += refused[: max(MAX_ERRORS_KEPT - len(errors), 0)]
    if errors:
        raise HitFileRefused(errors, count)
    return hits


def read_hits_bytes(body: bytes, today: dt.date) -> list[HitRow]:
    """:func:`read_hits` of a file's bytes (UTF-8, with or without a byte order mark)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text: save the CSV as UTF-8", field="file") from None
    return read_hits(io.StringIO(text, newline=""), today)


_SECTION = """
## Hits: the answers of iARMS, read back

When the focal point queries iARMS and a weapon is found there (a *hit*: a member state reported it lost,
stolen, trafficked or smuggled), the hits come back to Caliber as a CSV file: `caliber tracing iarms-hits FILE`,
`POST /api/tracing/iarms-hits` (the CSV as the body, or a multipart form with a `file`), or the page
*iARMS hits* (`/tracing/iarms-hits`). Depot staff (clerks, managers) and admins import them; each hit is
linked to a weapon of the importer's depots (an admin's: every depot):

- by the label code in `record_reference` when the query was made from Caliber's export (the weapon's serial
  must be the one queried);
- otherwise by serial (case, spaces and dashes ignored) and maker (through the makers list).

A hit that matches no weapon, or more than one, is reported back with its row and not linked; a weapon of
another depot is not matched. A hit whose `hit_reference` Caliber holds already is counted as already known:
importing a file again records nothing twice. Each linked hit is one custody event, `trace.iarms_hit`, on the
weapon's timeline and in its trace (`GET /api/tracing/weapons/{code}`, the `hits` list). A weapon whose trace
is at the domestic check has its `iarms_query` step recorded with its first hit, in the same transaction
(finding: "hit: reported stolen by DE on 2019-03-08"); a hit never concludes a trace, and a weapon whose trace
is not started (or is past the query) gets the hit alone: its trace does not move.

Written from `caliber.tracing.hits_file.HIT_COLUMNS`: the header names the columns (in any order; small
letters, spaces read as `_`); **required** columns must be there and filled in every row. Every row is
checked first: a bad cell is reported with its row and column, and then nothing at all is recorded.

"""


def hits_markdown() -> str:
    """The section of ``docs/iarms.md`` on the hits file: what happens to it, and each column."""
    lines = [_SECTION.strip() + "\n", "| column | iARMS field | what it holds | required | example |", "|---|---|---|---|---|"]
    for c in HIT_COLUMNS:
        lines.append(f"| `{c.name}` | {c.iarms} | {c.meaning} | {'yes' if c.required else ''} | `{c.example}` |")
    return "\n".join(lines) + "\n"
