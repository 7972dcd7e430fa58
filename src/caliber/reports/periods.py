"""Report periods: half-years and calendar years in the deployment's local time zone, as UTC instants.

The Roadmap's narrative reports cover 1 January to 30 June and 1 July to
31 December; its KPI reports the calendar year. A period is the half-open
interval ``[start, end)`` of local midnights, so an event at 23:59:59 UTC on
30 June counts in the second half-year in Belgrade (01:59:59 on 1 July).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from caliber.errors import InvalidInput

__all__ = ["Period", "first_day_from", "local_midnight", "parse_period"]

_FORM = re.compile(r"^(?P<year>\d{4})(?:-H(?P<half>[12]))?$")


@dataclass(frozen=True)
class Period:
    """A report period: ``key`` is ``2026`` (a year) or ``2026-H1`` / ``2026-H2`` (a half-year)."""

    key: str
    start: dt.datetime
    end: dt.datetime
    zone: dt.tzinfo = dt.UTC
    """The time zone whose local days it spans (days given as dates, such as a trace request's, are read in it)."""

    def days(self) -> tuple[dt.date, dt.date]:
        """The local days it spans as ``[first, after)``: a day counts in it when the day begins within it."""
        return first_day_from(self.start, self.zone), first_day_from(self.end, self.zone)

    @property
    def label(self) -> str:
        """As reports print it."""
        year, _, half = self.key.partition("-")
        return {"H1": f"1 January – 30 June {year}", "H2": f"1 July – 31 December {year}"}.get(half, f"1 January – 31 December {year}")


def parse_period(key: str, zone: ZoneInfo) -> Period:
    """``2026``, ``2026-H1`` or ``2026-H2`` in ``zone``, or :class:`InvalidInput` saying how to write one."""
    found = _FORM.match(key.strip().upper())
    if found is None or not 2000 <= int(found["year"]) <= 2100:
        raise InvalidInput(f"a period is a year (2026) or a half-year (2026-H1, 2026-H2); got {key!r}", field="period")
    year, half = int(found["year"]), found["half"]
    first, last = {None: (1, 13), "1": (1, 7), "2": (7, 13)}[half]

    def first_of(month: int) -> dt.datetime:
        return local_midnight(dt.date(year + 1, 1, 1) if month == 13 else dt.date(year, month, 1), zone)

    return Period(f"{year}-H{half}" if half else str(year), first_of(first), first_of(last), zone)


def first_day_from(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The first local day in ``zone`` that begins at or after ``moment``."""
    local = moment.astimezone(zone)
    return local.date() if local.time() == dt.time() else local.date() + dt.timedelta(days=1)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
