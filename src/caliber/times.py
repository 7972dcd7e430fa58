"""Times as people read them: in the deployment's time zone (``CALIBER_TIME_ZONE``), the zone named.

The ledger and the tables keep UTC; pages, refusals and certificates show local time through these.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["MONTHS", "local_clock", "local_day", "local_time", "written_date", "written_time"]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def local_time(moment: dt.datetime | str, zone: dt.tzinfo, *, seconds: bool = False) -> str:
    """An instant (or its RFC 3339 text) in ``zone``, to the minute, the zone named: 2026-06-10 08:10 Europe/Belgrade."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return f"{_aware(moment).astimezone(zone):%Y-%m-%d %H:%M{':%S' if seconds else ''}} {zone}"


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)  # the tables keep UTC


def local_day(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """The day of an instant in ``zone``: 2026-06-10 (the day people there lived it, not UTC's)."""
    return f"{_aware(moment).astimezone(zone):%Y-%m-%d}"


def local_clock(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """The time of day of an instant in ``zone``, for a table whose page names the zone: 08:10."""
    return f"{_aware(moment).astimezone(zone):%H:%M}"


def written_date(day: dt.date) -> str:
    """A date as people write it: 7 July 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def written_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """An instant in ``zone`` as a document writes it: 7 July 2026, 14:05 CEST (Europe/Belgrade)."""
    local = moment.astimezone(zone)
    named = f" ({zone})" if str(zone) != local.tzname() else ""
    return f"{written_date(local.date())}, {local:%H:%M} {local.tzname()}{named}"
