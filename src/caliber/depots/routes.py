"""Depots and storage locations: pages and JSON API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.accounts.models import Role
from caliber.depots.models import Depot, DepotKind, LocationKind
from caliber.depots.schemas import DepotOut, DepotUpdate, JurisdictionOut, LocationOut, LocationUpdate, NewDepot, NewLocation
from caliber.depots.service import DepotService
from caliber.depots.views import depot_out, location_out
from caliber.errors import CORRECTABLE, CaliberError
from caliber.schemas import convert
from caliber.web import form_data, page

__all__ = ["DepotApi", "DepotPages", "JurisdictionApi", "LocationApi"]

admin_only = [requires(Role.ADMIN)]
location_editors = [requires(Role.ADMIN, Role.DEPOT_MANAGER)]


class DepotPages(Controller):
    """Pages for depots and their storage trees."""

    path = "/depots"
    include_in_schema = False

    @get("/")
    async def list_depots(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Template:
        """The depots in the actor's scope."""
        jurisdictions = {j.code: j for j in await inventory.jurisdictions()}
        return page(request, "inventory/depots.html", depots=await inventory.depots(actor), jurisdictions=jurisdictions)

    @get("/new", guards=admin_only)
    async def new_depot_form(self, request: Request[Any, Any, Any], inventory: NamedDependency[DepotService]) -> Template:
        """The form for a new depot."""
        return await _depot_form(request, inventory, depot=None, values={}, error=None)

    @post("/new", guards=admin_only)
    async def create_depot(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Response[Any]:
        """Create the depot, or show the form again with what is wrong."""
        values = await form_data(request)
        values["code"] = values.get("code", "").strip().upper()
        try:
            depot = await inventory.create_depot(actor, convert(values, NewDepot))
        except CORRECTABLE as exc:
            return await _depot_form(request, inventory, depot=None, values=values, error=exc)
        return Redirect(f"/depots/{depot.id}")

    @get("/{depot_id:uuid}")
    async def show_depot(
        self,
        request: Request[Any, Any, Any],
        depot_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """A depot with its storage tree."""
        depot = await inventory.depot(actor, depot_id)
        return page(request, "inventory/depot.html", **await _tree_context(actor, inventory, depot, error=None))

    @get("/{depot_id:uuid}/edit", guards=admin_only)
    async def edit_depot_form(
        self,
        request: Request[Any, Any, Any],
        depot_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """The form to rename, re-describe or deactivate a depot."""
        depot = await inventory.depot(actor, depot_id)
        return await _depot_form(request, inventory, depot=depot, values={}, error=None)

    @post("/{depot_id:uuid}/edit", guards=admin_only)
    async def update_depot(
        self,
        request: Request[Any, Any, Any],
        depot_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Save changes to a depot."""
        values = await form_data(request)
        values["active"] = values.get("active") == "on"
        try:
            await inventory.update_depot(actor, depot_id, convert(values, DepotUpdate))
        except CORRECTABLE as exc:
            depot = await inventory.depot(actor, depot_id)
            return await _depot_form(request, inventory, depot=depot, values=values, error=exc)
        return Redirect(f"/depots/{depot_id}")

    @post("/{depot_id:uuid}/locations", guards=location_editors)
    async def add_location(
        self, request: HTMXRequest, depot_id: FromPath[UUID], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Response[Any]:
        """Add a location; answers HTMX with the new tree, a plain form with a redirect."""
        values = await form_data(request)
        values["parent_id"] = values.get("parent_id") or None
        error = None
        try:
            await inventory.create_location(actor, depot_id, convert(values, NewLocation))
        except CORRECTABLE as exc:
            error = exc
        if request.htmx:
            depot = await inventory.depot(actor, depot_id)
            context = await _tree_context(
                actor, inventory, depot, error=error, sent="new" if error else "", typed=values if error else None
            )
            return page(request, "inventory/_locations.html", status_code=422 if error else 200, **context)
        if error:
            depot = await inventory.depot(actor, depot_id)
            context = await _tree_context(actor, inventory, depot, error=error, sent="new", typed=values)
            return page(request, "inventory/depot.html", status_code=422, **context)
        return Redirect(f"/depots/{depot_id}")

    @post("/{depot_id:uuid}/locations/{location_id:uuid}", guards=location_editors)
    async def update_location(
        self,
        request: Request[Any, Any, Any],
        depot_id: FromPath[UUID],
        location_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Rename, deactivate or reactivate a location."""
        values = await form_data(request)
        if "active" in values:
            values["active"] = values["active"] == "true"
        try:
            await inventory.update_location(actor, location_id, convert(values, LocationUpdate))
        except CORRECTABLE as exc:
            depot = await inventory.depot(actor, depot_id)
            return page(
                request,
                "inventory/depot.html",
                status_code=exc.status_code,
                **await _tree_context(actor, inventory, depot, error=exc, sent=str(location_id), typed=values),
            )
        return Redirect(f"/depots/{depot_id}")


async def _depot_form(
    request: Request[Any, Any, Any],
    inventory: DepotService,
    *,
    depot: Depot | None,
    values: dict[str, Any],
    error: CaliberError | str | None,
) -> Template:
    return page(
        request,
        "inventory/depot_form.html",
        status_code=422 if error else 200,
        depot=depot,
        values=values,
        error=error,
        kinds=list(DepotKind),
        jurisdictions=await inventory.jurisdictions(),
    )


async def _tree_context(
    actor: Actor,
    inventory: DepotService,
    depot: Depot,
    *,
    error: CaliberError | str | None,
    sent: str = "",
    typed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The depot page's storage tree; ``sent`` (``new`` or a location's id) names the form refused, ``typed`` what it held."""
    locations = await inventory.locations(actor, depot.id)
    jurisdiction = next(j for j in await inventory.jurisdictions() if j.code == depot.jurisdiction_code)
    return {
        "depot": depot,
        "jurisdiction": jurisdiction,
        "locations": [location_out(location) for location in locations],
        "location_kinds": list(LocationKind),
        "can_edit_locations": actor.role in (Role.ADMIN, Role.DEPOT_MANAGER),
        "error": error,
        "sent": sent,
        "typed": typed or {},
    }


class JurisdictionApi(Controller):
    """The six Roadmap jurisdictions."""

    path = "/api/jurisdictions"
    tags = ["inventory"]

    @get("/")
    async def list_jurisdictions(self, inventory: NamedDependency[DepotService]) -> list[JurisdictionOut]:
        """Albania, Bosnia and Herzegovina, Kosovo*, Montenegro, North Macedonia, Serbia."""
        return [JurisdictionOut(j.code, j.name, j.capital, j.footnote) for j in await inventory.jurisdictions()]


class DepotApi(Controller):
    """JSON API for depots and their locations."""

    path = "/api/depots"
    tags = ["inventory"]

    @get("/")
    async def list_depots(self, actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]) -> list[DepotOut]:
        """The depots in the caller's scope."""
        return [depot_out(depot) for depot in await inventory.depots(actor)]

    @post("/", guards=admin_only, status_code=HTTP_201_CREATED)
    async def create_depot(
        self, data: JSONBody[NewDepot], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> DepotOut:
        """Register a depot (admins only)."""
        return depot_out(await inventory.create_depot(actor, data))

    @get("/{depot_id:uuid}")
    async def get_depot(
        self, depot_id: FromPath[UUID], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> DepotOut:
        """One depot in the caller's scope."""
        return depot_out(await inventory.depot(actor, depot_id))

    @patch("/{depot_id:uuid}", guards=admin_only)
    async def update_depot(
        self,
        depot_id: FromPath[UUID],
        data: JSONBody[DepotUpdate],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
    ) -> DepotOut:
        """Rename, re-describe, deactivate or reactivate a depot (admins only)."""
        return depot_out(await inventory.update_depot(actor, depot_id, data))

    @get("/{depot_id:uuid}/locations")
    async def list_locations(
        self, depot_id: FromPath[UUID], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> list[LocationOut]:
        """The depot's storage tree, parents before children."""
        return [location_out(location) for location in await inventory.locations(actor, depot_id)]

    @post("/{depot_id:uuid}/locations", guards=location_editors, status_code=HTTP_201_CREATED)
    async def create_location(
        self,
        depot_id: FromPath[UUID],
        data: JSONBody[NewLocation],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
    ) -> LocationOut:
        """Add a location (admins, and managers of the depot)."""
        return location_out(await inventory.create_location(actor, depot_id, data))


class LocationApi(Controller):
    """JSON API for changing one location."""

    path = "/api/locations"
    tags = ["inventory"]

    @patch("/{location_id:uuid}", guards=location_editors)
    async def update_location(
        self,
        location_id: FromPath[UUID],
        data: JSONBody[LocationUpdate],
        actor: NamedDependency[Actor],
        inventory: NamedDependency[DepotService],
    ) -> LocationOut:
        """Rename or (de)activate a location (admins, and managers of its depot)."""
        return location_out(await inventory.update_location(actor, location_id, data))
