"""The custody events of transfers between depots: a sealed manifest dispatched by one depot, received by the other.

Each struct is the ``data`` of one event type; ``docs/events.md`` is written from them.
"""

from __future__ import annotations

from uuid import UUID

from caliber.ledger.events import Event

__all__ = ["TransferDispatched", "TransferReceived"]


class TransferDispatched(Event, frozen=True, kw_only=True):
    """A depot sealed a manifest and sent it to another depot: every record on it is in transit, off its shelf."""

    type = "transfer.dispatched"
    id: UUID
    """The transfer's id."""
    from_depot_id: UUID
    """The depot that sent it."""
    to_depot_id: UUID
    """The depot it goes to."""
    items: list[str]
    """The label codes of the weapons and components on the manifest."""
    lots: list[str]
    """The label codes of the ammunition lots on the manifest (a part of a lot is split off first, as a new lot)."""
    seals: list[str]
    """The numbers of the seals put on the load."""
    notes: str


class TransferReceived(Event, frozen=True, kw_only=True):
    """The receiving depot scanned the load at the door: what arrived joins it, what did not is missing."""

    type = "transfer.received"
    id: UUID
    """The transfer's id."""
    received: list[str]
    """The codes on the manifest that were scanned: they join the receiving depot in the status they left with."""
    missing: list[str]
    """The codes on the manifest that were not scanned: they become ``missing``, for investigation."""
    extra: list[str]
    """Codes scanned that were not on the manifest: recorded as discrepancies, not moved."""
    location_id: UUID | None
    """Where the received records were put in the receiving depot, or null when no location was given."""
