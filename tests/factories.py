"""Test data built through the domain services, as the application would build it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.accounts.schemas import NewUser
from caliber.accounts.service import AccountService, UserView
from caliber.depots.models import Depot, DepotKind, Location, LocationKind
from caliber.depots.schemas import NewDepot, NewLocation
from caliber.depots.service import DepotService
from caliber.items.lifecycle import IntakeSource
from caliber.items.models import AmmunitionLot, CompatibilityGroup, HazardDivision, Item, UnType
from caliber.items.schemas import NewItem, NewLot
from caliber.items.service import ItemService

OPERATOR = Actor.operator("tests")
PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@dataclass
class Factory:
    """Makes records with sensible defaults; every field can be overridden."""

    accounts: AccountService
    inventory: DepotService
    items: ItemService

    async def depot(self, **overrides: Any) -> Depot:
        """A depot (default: an army depot in Serbia with a unique code)."""
        n = next(_counter)
        values: dict[str, Any] = {"code": f"T-{n:04d}", "name": f"Test depot {n}", "kind": DepotKind.ARMY_DEPOT, "jurisdiction": "RS"}
        values.update(overrides)
        return await self.inventory.create_depot(OPERATOR, NewDepot(**values))

    async def location(
        self, depot: Depot, name: str | None = None, parent: Location | None = None, kind: LocationKind = LocationKind.ROOM
    ) -> Location:
        """A location in ``depot`` (under ``parent`` if given)."""
        name = name or f"Room {next(_counter)}"
        return await self.inventory.create_location(OPERATOR, depot.id, NewLocation(kind, name, parent.id if parent else None))

    async def user(self, role: Role = Role.DEPOT_CLERK, depots: list[Depot] | None = None, **overrides: Any) -> UserView:
        """A user with ``role`` assigned to ``depots`` (depot staff get a new depot when none is given)."""
        if depots is None:
            depots = [await self.depot()] if role.is_depot_staff else []
        n = next(_counter)
        values: dict[str, Any] = {
            "username": f"{role.value.replace('_', '')}{n}",
            "display_name": f"Test {role.label} {n}",
            "role": role,
            "password": PASSWORD,
            "depots": [depot.code for depot in depots],
        }
        values.update(overrides)
        return await self.accounts.create_user(OPERATOR, NewUser(**values))

    def new_item(self, depot: Depot, **overrides: Any) -> NewItem:
        """What a clerk types for a weapon (default: a Zastava M70 assault rifle surrendered in ``depot``)."""
        n = next(_counter)
        values: dict[str, Any] = {
            "depot_id": depot.id,
            "manufacturer": "Zastava",
            "model": "M70",
            "calibre": "7.62x39mm",
            "serial": f"Z{n:07d}",
            "un_type": UnType.ASSAULT_RIFLE,
            "intake_source": IntakeSource.SURRENDERED,
        }
        values.update(overrides)
        return NewItem(**values)

    async def item(self, depot: Depot, **overrides: Any) -> Item:
        """A weapon taken into custody in ``depot``."""
        (item,) = await self.items.register_items(OPERATOR, [self.new_item(depot, **overrides)])
        return item

    def new_lot(self, depot: Depot, **overrides: Any) -> NewLot:
        """An ammunition lot (default: 10,000 rounds of 7.62x39mm, 1.4S)."""
        n = next(_counter)
        values: dict[str, Any] = {
            "depot_id": depot.id,
            "lot_number": f"PPU-{n:05d}",
            "manufacturer": "Prvi Partizan",
            "calibre": "7.62x39mm",
            "nature": "ball",
            "quantity": 10_000,
            "gross_mass_kg": "180",
            "net_explosive_mass_kg": "16.5",
            "hazard_division": HazardDivision.D1_4,
            "compatibility_group": CompatibilityGroup.S,
            "intake_source": IntakeSource.SURPLUS,
        }
        values.update(overrides)
        return NewLot(**values)

    async def lot(self, depot: Depot, **overrides: Any) -> AmmunitionLot:
        """An ammunition lot taken into custody in ``depot``."""
        return await self.items.register_lot(OPERATOR, self.new_lot(depot, **overrides))

    async def actor(self, role: Role = Role.DEPOT_CLERK, depots: list[Depot] | None = None) -> Actor:
        """A new user of ``role`` (assigned to ``depots``) as the services see them."""
        view = await self.user(role, depots)
        ids = frozenset(d.id for d in depots or [])
        return Actor(id=view.user.id, username=view.user.username, display_name=view.user.display_name, role=role, depot_ids=ids)

    async def token(self, view: UserView) -> str:
        """An API token secret for the user."""
        actor, _session = await self.accounts.login(view.user.username, PASSWORD, "127.0.0.1")
        _token, secret = await self.accounts.create_token(actor, "tests")
        return secret


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> Any:
    """Log ``client`` in through the login form (with its CSRF token)."""
    await client.get("/login")
    csrf = client.cookies.get("caliber_csrf")
    return await client.post("/login", data={"username": username, "password": password, "_csrf_token": csrf or ""})


def csrf_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """The CSRF header a page's JavaScript would send."""
    return {"x-csrftoken": client.cookies.get("caliber_csrf") or ""}
