"""The depots' custody events: depots registered and changed, storage locations created, renamed and changed."""

from __future__ import annotations

from uuid import UUID

from caliber.depots.models import (
    DepotKind,
    LocationKind,
)
from caliber.ledger.events import Change, Event

# -- depots and locations ------------------------------------------------------


class DepotRegistered(Event, frozen=True, kw_only=True):
    """A depot was registered (by an admin)."""

    type = "depot.registered"
    id: UUID
    """The depot's id."""
    code: str
    """Its short code, unique across Caliber (``BG-01``)."""
    name: str
    kind: DepotKind
    jurisdiction: str
    """The code of the jurisdiction it belongs to (``RS``, ``AL``, ``XK``...)."""
    address: str


class DepotChanged(Event, frozen=True, kw_only=True):
    """A depot was renamed, re-described, deactivated or reactivated."""

    type = "depot.changed"
    id: UUID
    """The depot's id."""
    changes: dict[str, Change]
    """The changed fields (``name``, ``kind``, ``address``, ``active``), each with its old and new value."""


class LocationCreated(Event, frozen=True, kw_only=True):
    """A node was added to a depot's storage tree (building, room, rack, shelf, bin or area)."""

    type = "location.created"
    id: UUID
    """The location's id."""
    code: str
    """The label code printed on its shelf label."""
    depot_id: UUID
    parent_id: UUID | None
    """The location it sits in, or null at the top of the tree."""
    kind: LocationKind
    name: str
    path: str
    """Its full path from the top of the tree, names joined by ``/``."""


class LocationRenamed(Event, frozen=True, kw_only=True):
    """A location was renamed; the paths of every location inside it change with it."""

    type = "location.renamed"
    id: UUID
    depot_id: UUID
    old_name: str
    new_name: str
    old_path: str
    new_path: str


class LocationChanged(Event, frozen=True, kw_only=True):
    """A location was deactivated or reactivated."""

    type = "location.changed"
    id: UUID
    changes: dict[str, Change]
    """``active``, with its old and new value."""
