"""Depots and locations as the API shows them, here and in other domains' answers."""

from __future__ import annotations

from caliber.depots.models import Depot, DepotKind, Location, LocationKind
from caliber.depots.schemas import DepotOut, LocationOut
from caliber.depots.service import PATH_SEPARATOR


def depot_out(depot: Depot) -> DepotOut:
    """A depot as the API shows it."""
    return DepotOut(
        depot.id, depot.code, depot.name, DepotKind(depot.kind), depot.jurisdiction_code, depot.address, depot.active, depot.created_at
    )


def location_out(location: Location) -> LocationOut:
    """A location as the API shows it."""
    depth = location.path.count(PATH_SEPARATOR)
    return LocationOut(
        location.id,
        location.depot_id,
        location.parent_id,
        LocationKind(location.kind),
        location.name,
        location.path,
        depth,
        location.active,
        location.code,
    )
