"""The custody events of stock checks: a count opened, scanned, finished by its counter and closed by a second person.

Each struct is the ``data`` of one event type; ``docs/events.md`` is written from them.
"""

from __future__ import annotations

from uuid import UUID

from caliber.ledger.events import Event

__all__ = ["StockCheckClosed", "StockCheckCounted", "StockCheckOpened", "StockCheckScanned"]


class StockCheckOpened(Event, frozen=True, kw_only=True):
    """A count of a depot (or of one part of its storage tree) was opened, and what the records expect was fixed.

    Where each expected record should be and how many pieces each lot should hold are
    taken from the records at this moment.
    """

    type = "stockcheck.opened"
    id: UUID
    """The stock check's id."""
    depot_id: UUID
    """The depot counted."""
    location_id: UUID | None
    """The part of the storage tree counted (that location and everything inside it), or null for the whole depot."""
    items: list[str]
    """The label codes of the weapons and components expected, sorted."""
    lots: list[str]
    """The label codes of the ammunition lots expected, sorted."""


class StockCheckScanned(Event, frozen=True, kw_only=True):
    """One label was scanned (or typed) during a count."""

    type = "stockcheck.scanned"
    id: UUID
    """The stock check's id."""
    code: str
    """The label code read."""
    location_id: UUID | None
    """Where it was found, or null when the counter did not say."""
    quantity: int | None
    """For an ammunition lot, the pieces counted; null when not counted (and for weapons)."""


class StockCheckCounted(Event, frozen=True, kw_only=True):
    """The counter finished counting; a different person now confirms and closes the check."""

    type = "stockcheck.counted"
    id: UUID
    """The stock check's id."""


class StockCheckClosed(Event, frozen=True, kw_only=True):
    """A manager who did not count confirmed the count: its summary; the records not found become ``missing``."""

    type = "stockcheck.closed"
    id: UUID
    """The stock check's id."""
    found: int
    """How many expected records were scanned."""
    missing: list[str]
    """The codes expected and not scanned that were still in the depot at closing: they become ``missing``."""
    gone_since: list[str]
    """The codes expected and not scanned that had left the depot (or its countable statuses) since the check was opened."""
    wrong_location: list[str]
    """The codes found somewhere other than where the records put them."""
    unknown: list[str]
    """Codes scanned that were not expected."""
    lot_differences: list[str]
    """The lots whose count differs from the records, each as ``code:expected:counted`` (pieces)."""
