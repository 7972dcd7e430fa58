"""The reports' custody event: a Roadmap target set (or withdrawn) for a jurisdiction, a KPI and a year.

Its struct is the ``data`` of the event type; ``docs/events.md`` is written from it.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from caliber.ledger.events import Event

__all__ = ["ReportTargetSet"]


class ReportTargetSet(Event, frozen=True, kw_only=True):
    """An admin set a target for a jurisdiction, a KPI and a year, or withdrew it; every earlier setting stays as its history."""

    type = "report.target_set"
    id: UUID
    """The id of this setting."""
    jurisdiction: str
    """The jurisdiction's code (``RS``, ``AL``, ``XK``...)."""
    kpi: str
    """The Roadmap KPI's key (``6.1``)."""
    year: int
    """The calendar year of the target: the year counted (annual targets) or the year by whose end the surplus is gone."""
    amount: str
    """An annual target's number, in the KPI's unit, as a decimal written as text (``300``); empty for a clearance target."""
    declared_before: dt.date | None
    """A clearance target's baseline: the surplus declared before this day is to be gone; null for an annual target."""
    withdrawn: bool
    """Whether this setting withdraws the target."""
    reason: str
    """Why it was set (a plan, a commitment), as the admin wrote it."""
