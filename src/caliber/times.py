"""Times as people read them: in the deployment's time zone (``CALIBER_TIME_ZONE``), the zone named.

The ledger and the tables keep UTC; pages, refusals and certificates show local time through these.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["MONTHS", "local_time", "written_date", "written_time"]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def local_time(moment: dt.datetime | str, zone: dt.tzinfo, *, seconds: bool = False) -> str:
    """An instant (or its RFC 3339 text) in ``zone``, to the minute, the zone named: 2026-06-10 08:10 Europe/Belgrade."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M{':%S' if seconds else ''}} {zone}"


def written_date(day: dt.date) -> str:
    """A date as people write it: 7 July 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def written_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """An instant in ``zone`` as a document writes it: 7 July 2026, 14:05 CEST (Europe/Belgrade)."""
    local = moment.astimezone(zone)
    named = f" ({zone})" if str(zone) != local.tzname() else ""
    return f"{written_date(local.date())}, {local:%H:%M} {local.tzname()}{named}"
