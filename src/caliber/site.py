"""Home page, health and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Response, Template
from sqlalchemy import text

from caliber.accounts.actor import Actor
from caliber.db import Database
from caliber.depots.service import DepotService
from caliber.migrate import current_revision, head_revision
from caliber.tracing.service import TracingService
from caliber.web import page

__all__ = ["health", "home", "ready"]


@get("/", name="home")
async def home(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    inventory: NamedDependency[DepotService],
    tracing: NamedDependency[TracingService],
) -> Template:
    """The start page: what this role works with, depots in scope grouped by jurisdiction; for depot staff, the
    trace requests of their depots overdue or due this week."""
    depots = await inventory.depots(actor)
    jurisdictions = await inventory.jurisdictions()
    by_jurisdiction = {j.code: [d for d in depots if d.jurisdiction_code == j.code] for j in jurisdictions}
    due = await tracing.due(actor) if actor.role.is_depot_staff else None
    return page(request, "site/home.html", jurisdictions=jurisdictions, by_jurisdiction=by_jurisdiction, depots=depots, due=due)


@get("/health", opt={"public": True}, include_in_schema=True, tags=["health"])
async def health() -> dict[str, str]:
    """The process is up (for load balancers; touches nothing else)."""
    return {"status": "ok"}


@get("/ready", opt={"public": True}, tags=["health"])
async def ready(db: NamedDependency[Database]) -> Response[dict[str, str | None]]:
    """The database answers and is at the schema this version expects."""
    head = head_revision()
    try:
        async with db.read() as session:
            await session.execute(text("SELECT 1"))
        current = await current_revision(db.engine)
    except Exception as exc:  # noqa: BLE001 (any failure means not ready)
        return Response({"status": "unavailable", "detail": type(exc).__name__}, status_code=503)
    if current != head:
        detail = f"database at revision {current}, this version needs {head}: run `caliber db upgrade`"
        return Response({"status": "migration needed", "detail": detail}, status_code=503)
    return Response({"status": "ready", "revision": current})
