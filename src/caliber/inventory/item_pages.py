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
from caliber.accounts.guards import requires
from caliber.errors import CORRECTABLE, CaliberError, FieldError, InvalidInput
from caliber.forms import refusal
from caliber.inventory.fields import ITEM, LOT, RecordFields
from caliber.inventory.item_api import item_filters, lot_filters, page_url
from caliber.inventory.items import DEPOT_STAFF, MANAGERS, ItemService, Page, RecordKind
from caliber.inventory.lifecycle import COUNTABLE, TRANSITIONS, Status
from caliber.inventory.records import kilograms
from caliber.inventory.schemas import Correction, DuplicateReview, NewItem, NewLot, SplitRequest, StatusChange
from caliber.inventory.service import InventoryService
from caliber.ledger.routes import subject_timeline
from caliber.ledger.sentences import read_timeline
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.schemas import convert
from caliber.web import form_data, form_uuid, page

__all__ = ["VOCABULARY", "ItemPages", "LabelLinks", "LotPages"]

staff = [requires(*DEPOT_STAFF)]
managers = [requires(*MANAGERS)]
CARRIED_OVER = ("serial", "other_marks", "notes", "parent_code")
"""Fields the scan-as-you-go form clears after each record; everything else carries over."""
FIELDS: dict[RecordKind, RecordFields] = {"item": ITEM, "lot": LOT}
CHOICES = {kind: record.asked for kind, record in FIELDS.items()}
"""The choices the intake forms leave to the person (none is made for them), and what to ask when one is not made."""
VOCABULARY = {
    "un_types": ITEM["un_type"].options,
    "kinds": ITEM["kind"].options,
    "component_types": ITEM["component_type"].options,
    "conditions": ITEM["condition"].options,
    "eu_categories": ITEM["eu_category"].options,
    "intake_sources": ITEM["intake_source"].options,
    "statuses": [(status.value, status.label) for status in Status],
    "hazard_divisions": LOT["hazard_division"].options,
    "compatibility_groups": LOT["compatibility_group"].options,
    "kilograms": kilograms,
}


async def _places(actor: Actor, inventory: InventoryService) -> dict[str, Any]:
    """The depots the actor works in, and their active locations, for the forms."""
    depots = [d for d in await inventory.depots(actor) if d.active]
    locations = await inventory.active_locations(depots)
    return {"depots": depots, "locations": locations, "depot_options": [(str(d.id), f"{d.code} · {d.name}") for d in depots]}


def _record_values(kind: RecordKind, values: dict[str, Any]) -> dict[str, Any]:
    """A submitted intake form as the intake struct reads it: blanks left out, country codes in capitals."""
    cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    for name in (f.name for f in FIELDS[kind] if f.case == "upper"):
        if isinstance(cleaned.get(name), str):
            cleaned[name] = cleaned[name].upper()
    return {k: v for k, v in cleaned.items() if v not in ("", None) and k != "taken"}


def _intake(kind: RecordKind, values: dict[str, Any]) -> Any:
    """The intake form as its struct, or one refusal naming every choice left unmade and every field refused."""
    schema = NewItem if kind == "item" else NewLot
    unmade = [FieldError(name, ask) for name, ask in CHOICES[kind].items() if not str(values.get(name) or "").strip()]
    try:
        record = convert(_record_values(kind, values), schema)
    except InvalidInput as exc:
        asked = {e.field for e in unmade}
        raise refusal([*unmade, *(e for e in exc.errors if e.field not in asked)], schema) from None
    if unmade:
        raise refusal(unmade)
    return record


def _form_context(kind: RecordKind, error: CaliberError | None = None) -> dict[str, Any]:
    """What every intake form shows besides its values: the choices to make, and what is wrong beside its field."""
    return {"form_groups": FIELDS[kind].groups, "choices": CHOICES[kind], "error": error, "error_field": getattr(error, "field", None)}


def _allowed_actions(status: str, actor: Actor) -> list[tuple[str, str]]:
    return [
        (action.value, action.label)
        for action, rule in TRANSITIONS.items()
        if rule.manual and Status(status) in rule.sources and actor.role in rule.roles
    ]


async def _record_page(
    request: Request[Any, Any, Any],
    kind: RecordKind,
    code: str,
    services: tuple[ItemService, InventoryService, Ledger, LogSigner],
    *,
    notice: str | None = None,
    error: CaliberError | None = None,
    sent: str = "",
    values: dict[str, Any] | None = None,
    taken_in: bool = False,
) -> Template:
    items, inventory, ledger, signer = services
    actor: Actor = request.scope["user"]
    record = await items.get(actor, kind, code)
    depot = await inventory.depot(actor, record.depot_id)
    shelves = [loc for loc in await inventory.locations(actor, depot.id) if loc.active]
    location = next((loc for loc in shelves if loc.id == record.location_id), None)
    can_work = actor.role in DEPOT_STAFF and depot.active
    timeline = await subject_timeline(ledger, signer, code)
    context: dict[str, Any] = {
        kind: record,
        "depot": depot,
        "location": location,
        "shelves": shelves if can_work and Status(record.status) in COUNTABLE else [],
        "actions": _allowed_actions(record.status, actor),
        "can_work": can_work,
        "can_manage": actor.role in MANAGERS,
        "correctable": [(name, name.replace("_", " ")) for name in FIELDS[kind].correctable],
        "timeline": timeline,
        "story": await read_timeline(ledger.db, actor, timeline, request.app.state.settings.zone),
        "notice": notice,
        "error": error,
        "sent": sent,
        "values": values or {},
        "kilograms": kilograms,
    }
    if kind == "item":
        context["photos"] = await items.photos(record)
        context["duplicates"] = await items.duplicates_of(actor, record)
        if taken_in and (duplicate := (await items.possible_duplicates(actor, [record]))[0]):
            context |= {"notice": None, "duplicate": duplicate}
    return page(request, f"inventory/{kind}.html", status_code=422 if error else 200, **context)


async def _act(
    request: Request[Any, Any, Any],
    kind: RecordKind,
    code: str,
    services: tuple[ItemService, InventoryService, Ledger, LogSigner],
    *,
    work: Any,
    done: str,
) -> Response[Any]:
    """Run a change from a record page's form; back to the page with what happened or what is wrong."""
    values = await form_data(request)
    try:
        await work(values)
    except CORRECTABLE as exc:  # the page again, the form sent showing what was typed and what to fix
        return await _record_page(request, kind, code, services, error=exc, sent=done, values=values)
    return Redirect(f"/{'items' if kind == 'item' else 'lots'}/{code}?done={done}")


_DONE = {
    "status": "Status recorded.",
    "correct": "Correction recorded.",
    "move": "Moved.",
    "photo": "Photo added.",
    "review": "Review recorded.",
    "split": "Split recorded: the new lot is below.",
    "new": "Taken in. Write the label code on the tag or print its label.",
}


class _RecordPages(Controller):
    """What the pages of items and of lots share: the record page and the changes made from it."""

    kind: RecordKind = "item"

    @get("/new", guards=staff)
    async def new_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[InventoryService]
    ) -> Template:
        """The intake form for one record."""
        context = {**VOCABULARY, **await _places(actor, inventory), **_form_context(self.kind)}
        return page(request, f"inventory/{self.kind}_form.html", values={}, **context)

    @post("/new", guards=staff)
    async def create(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[InventoryService],
    ) -> Response[Any]:
        """Take the record in and go to its page, or show the form again with what is wrong."""
        values = await form_data(request)
        try:
            if self.kind == "item":
                (record,) = await items.register_items(actor, [_intake("item", values)])
            else:
                record = await items.register_lot(actor, _intake("lot", values))
        except CORRECTABLE as exc:
            context = {**VOCABULARY, **await _places(actor, inventory), **_form_context(self.kind, exc)}
            return page(request, f"inventory/{self.kind}_form.html", status_code=exc.status_code, values=values, **context)
        return Redirect(f"{self.path}/{record.code}?done=new")

    @get("/{code:str}")
    async def show(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[InventoryService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Template:
        """Everything about one record: fields, status, location, actions the role allows, custody timeline."""
        done = request.query_params.get("done", "")
        services = (items, inventory, ledger, signer)
        return await _record_page(request, self.kind, code, services, notice=_DONE.get(done), taken_in=done == "new")

    @post("/{code:str}/status")
    async def change_status(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[InventoryService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """A lifecycle action from the record page."""

        async def work(values: dict[str, Any]) -> None:
            await items.change_status(actor, self.kind, code, convert(values, StatusChange))

        return await _act(request, self.kind, code, (items, inventory, ledger, signer), work=work, done="status")

    @post("/{code:str}/correct", guards=staff)
    async def correct(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[InventoryService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """Correct one field from the record page."""

        async def work(values: dict[str, Any]) -> None:
            await items.correct(actor, self.kind, code, convert(_correction(values), Correction))

        return await _act(request, self.kind, code, (items, inventory, ledger, signer), work=work, done="correct")

    @post("/{code:str}/move", guards=staff)
    async def move(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[InventoryService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """Move the record from its page."""

        async def work(values: dict[str, Any]) -> None:
            await items.move(actor, [code], location_id=form_uuid(values.get("location_id"), "location_id"))

        return await _act(request, self.kind, code, (items, inventory, ledger, signer), work=work, done="move")


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
        inventory: NamedDependency[InventoryService],
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
        return page(request, "inventory/items.html", status_code=422 if context["error"] else 200, **context)

    @get("/intake", guards=staff)
    async def intake_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[InventoryService]
    ) -> Template:
        """Scan as you go: the form stays, Enter saves, the next record starts from this one."""
        context = {**VOCABULARY, **await _places(actor, inventory), **_form_context("item")}
        return page(request, "inventory/intake.html", values={}, taken=[], **context)

    @post("/intake", guards=staff)
    async def intake(
        self,
        *,
        request: HTMXRequest,
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[InventoryService],
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
        context = {**VOCABULARY, **await _places(actor, inventory), **_form_context("item", error)}
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
        inventory: NamedDependency[InventoryService],
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
        inventory: NamedDependency[InventoryService],
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
        inventory: NamedDependency[InventoryService],
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
        inventory: NamedDependency[InventoryService],
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


def _correction(values: dict[str, Any]) -> dict[str, Any]:
    value = str(values.get("value", "")).strip()
    return {"field": values.get("field", ""), "value": value or None, "reason": values.get("reason", "")}
