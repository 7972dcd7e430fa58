"""Pages for depot staff: intake (one, or scan as you go), search, the item and lot pages, moves, label links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from caliber.accounts.actor import Actor
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, CaliberError, InvalidInput
from caliber.items.access import DEPOT_STAFF, Page, RecordKind
from caliber.items.iarms import READERS
from caliber.items.identity import traceable_counts
from caliber.items.queries import item_filters, lot_filters, page_url
from caliber.items.record_pages import (
    CARRIED_OVER,
    VOCABULARY,
    _act,
    _form_context,
    _intake,
    _places,
    _record_page,
    _RecordPages,
    managers,
    staff,
)
from caliber.items.schemas import DuplicateReview, SplitRequest
from caliber.items.service import ItemService
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.schemas import convert
from caliber.web import form_data, page

__all__ = ["ItemPages", "LabelLinks", "LotPages"]


class ItemPages(_RecordPages):
    """Weapons and components."""

    path = "/items"
    kind: RecordKind = "item"
    include_in_schema = False

    @get("/")
    async def search(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """Search by serial or label code and filters."""
        values = {k: v for k, v in request.query_params.items() if k != "after"}
        after = request.query_params.get("after")
        depots = await inventory.depots(actor)
        context: dict[str, Any] = {
            **VOCABULARY,
            "values": values,
            "depot_options": [(str(d.id), f"{d.code} · {d.name}") for d in depots],
            "depot_codes": {d.id: d.code for d in depots},
            "can_work": actor.role in DEPOT_STAFF,
            "can_report": actor.role in READERS,
            "query": urlencode(values),
            "records": [],
            "next_after": None,
            "error": None,
        }
        try:
            found = await items.search(actor, item_filters(values), after=UUID(after) if after else None)
        except (CaliberError, ValueError) as exc:
            context["error"] = getattr(exc, "message", f"bad page cursor: {exc}")
        else:
            context |= {"records": found.records, "next_after": found.next_after}
        if values.get("depot_id") and not context["error"]:
            depot_id = UUID(values["depot_id"])
            context["traceable"] = (await traceable_counts(items.db, actor, [depot_id])).get(depot_id)
        return page(request, "inventory/items.html", status_code=422 if context["error"] else 200, **context)

    @get("/intake", guards=staff)
    async def intake_form(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """Scan as you go: the form stays, Enter saves, the next record starts from this one."""
        context = {**VOCABULARY, **await _places(actor, inventory), **_form_context("item", None, (items.makers, {}))}
        return page(request, "inventory/intake.html", values={}, taken=[], **context)

    @post("/intake", guards=staff)
    async def intake(
        self,
        *,
        request: HTMXRequest,
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """Save one record and answer with the form for the next (defaults carried over)."""
        values = await form_data(request, "taken")
        taken = [tuple(entry.split(" ", 1)) for entry in values.pop("taken", []) if " " in entry]
        error, duplicate = None, None
        try:
            (item,) = await items.register_items(actor, [_intake("item", values)])
        except CORRECTABLE as exc:
            error = exc
        else:
            taken.insert(0, (item.code, item.serial))
            values = {k: v for k, v in values.items() if k not in CARRIED_OVER}
            (duplicate,) = await items.possible_duplicates(actor, [item])
        context = {**VOCABULARY, **await _places(actor, inventory), **_form_context("item", error, (items.makers, values))}
        context |= {"values": values, "taken": taken, "duplicate": duplicate}
        template = "inventory/_intake.html" if request.htmx else "inventory/intake.html"
        return page(request, template, status_code=422 if error else 200, **context)

    @post("/{code:str}/duplicate-review", guards=managers)
    async def review_duplicate(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """A manager's decision on a possible duplicate."""

        async def work(values: dict[str, Any]) -> None:
            review = convert(values, DuplicateReview)
            await items.review_duplicate(actor, code, review.decision, review.reason)

        return await _act(request, "item", code, (items, inventory, ledger, signer), work=work, done="review")

    @post("/{code:str}/photos", guards=staff)
    async def add_photo(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """Upload a photo from the item page (a phone opens its camera)."""
        form = await request.form()
        upload = form.get("photo")
        try:
            if not isinstance(upload, UploadFile):
                raise InvalidInput("choose a photo to upload", field="photo")
            await items.add_photo(actor, code, await upload.read(), upload.content_type)
        except CORRECTABLE as exc:
            return await _record_page(request, "item", code, (items, inventory, ledger, signer), error=exc, sent="photo")
        return Redirect(f"/items/{code}?done=photo")


class LotPages(_RecordPages):
    """Ammunition lots."""

    path = "/lots"
    kind: RecordKind = "lot"
    include_in_schema = False

    @get("/")
    async def search(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """Lots by lot number or label code and filters."""
        values = {k: v for k, v in request.query_params.items() if k != "after" and v}
        after = request.query_params.get("after")
        depots = await inventory.depots(actor)
        try:
            cursor = UUID(after) if after else None
        except ValueError:
            cursor = None
        try:
            found, error = await items.search_lots(actor, lot_filters(values), after=cursor), None
        except CaliberError as exc:
            found, error = Page([], None), exc.message
        return page(
            request,
            "inventory/lots.html",
            status_code=422 if error else 200,
            **VOCABULARY,
            values=values,
            depot_options=[(str(d.id), f"{d.code} · {d.name}") for d in depots],
            can_work=actor.role in DEPOT_STAFF,
            query=urlencode(values),
            records=found.records,
            next_after=found.next_after,
            error=error,
        )

    @post("/{code:str}/split", guards=staff)
    async def split(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """Split part of the lot off; go to the new lot."""
        values = await form_data(request)
        try:
            wanted = convert({k: v for k, v in values.items() if v}, SplitRequest)
            new = await items.split_lot(actor, code, wanted.quantity, wanted.reason, wanted.location_id)
        except CORRECTABLE as exc:
            return await _record_page(request, "lot", code, (items, inventory, ledger, signer), error=exc, sent="split", values=values)
        return Redirect(f"/lots/{new.code}?done=split")


class LabelLinks(Controller):
    """The URL in every QR label: ``/s/CODE`` opens the record's page."""

    path = "/s"
    include_in_schema = False

    @get("/{code:str}")
    async def open_label(self, code: FromPath[str], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> Redirect:
        """Go to the page of whatever carries this label."""
        kind, record = await items.find(actor, code)
        return Redirect(page_url(kind, record))
