"""Moving items and lots from one status to another in the state tables: the one code that does it.

Every applier that changes a record's status (a lifecycle action, a transfer's
dispatch and receipt, a stock check's close, each step of a destruction) calls
:func:`apply_transition`. It checks the move against the transition table
(:func:`caliber.items.lifecycle.leads_to`), remembers the status left where
the new one returns to it, and clears or sets the record's place the same way
for all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from caliber.items.lifecycle import TRANSITIONS, Action, Status, leads_to

__all__ = ["OFF_SHELVES", "REMEMBERING", "Arrival", "apply_transition"]

REMEMBERING = frozenset({Status.IN_TRANSIT, Status.MISSING})
"""Statuses that remember the one a record left (``prior_status``), to return to it when it arrives or is found."""
OFF_SHELVES = frozenset(
    {Status.IN_TRANSIT, Status.MISSING, Status.TRANSFERRED_OUT, Status.RETURNED_TO_OWNER, Status.VOID, Status.DESTROYED}
)
"""Statuses of records no longer on a shelf: reaching one clears the record's location."""


@dataclass(frozen=True)
class Arrival:
    """Where a record arrives (a transfer received): its new depot and location (None: no location given)."""

    depot_id: UUID
    location_id: UUID | None


def apply_transition(
    record: Any, action: Action, moment: dt.datetime, *, court_order: str | None = None, arrival: Arrival | None = None
) -> Status:
    """Give an item or lot (its table row) the status ``action`` leads to; the new status.

    Raises :class:`~caliber.errors.Conflict` when the transition table does not
    allow ``action`` from the record's status: the service checked it when the
    event was recorded, so on replay this means the ledger and the rules disagree.
    A record going in transit or missing remembers the status it left (from in
    transit to missing, the one it had before it travelled); a record reaching
    a status off the shelves loses its location; an ``arrival`` puts it in its
    new depot and location.
    """
    status = Status(record.status)
    prior = Status(record.prior_status) if record.prior_status else None
    target = leads_to(action, status, prior, code=record.code, work_flow=True)
    if target in REMEMBERING:
        record.prior_status = (prior if status in REMEMBERING and prior is not None else status).value
    else:
        record.prior_status = None
    record.status = target.value
    record.status_changed_at = moment
    if arrival is not None:
        record.depot_id = arrival.depot_id
        record.location_id = arrival.location_id
    elif target in OFF_SHELVES:
        record.location_id = None
    if court_order is not None and TRANSITIONS[action].needs_court_order:
        record.court_order = court_order
    return target
