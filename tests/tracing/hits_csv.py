"""CSV files of iARMS hits for the tests: one row per dict, the columns of the file's definition."""

from __future__ import annotations

import csv
import io
from typing import Any

from caliber.tracing.hits_file import HIT_COLUMNS

COLUMNS = [c.name for c in HIT_COLUMNS]


def hit(reference: str, serial: str, make: str = "Zastava", **overrides: Any) -> dict[str, str]:
    """A hit row: stolen, reported by DE in 2019, queried in 2026 (every column can be overridden)."""
    values = {
        "hit_reference": reference,
        "serial_number": serial,
        "make": make,
        "model": "M70",
        "calibre": "7.62x39mm",
        "reporting_country": "DE",
        "reported_as": "stolen",
        "reported_on": "2019-03-08",
        "queried_on": "2026-11-30",
        "record_reference": "",
    }
    values.update({key: str(value) for key, value in overrides.items()})
    return values


def hits_csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    """The CSV text of ``rows`` under the header ``columns`` (default: every column)."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = columns or COLUMNS
    writer.writerow(names)
    writer.writerows([row.get(name, "") for name in names] for row in rows)
    return out.getvalue()
