"""What the item and lot pages share: the form's vocabulary, the record page, the actions a person may take."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, CaliberError, FieldError, InvalidInput
from caliber.forms import refusal
from caliber.items.access import DEPOT_STAFF, MANAGERS, RecordKind
from caliber.items.fields import ITEM, LOT, RecordFields
from caliber.items.identity import missing_labels
from caliber.items.lifecycle import COUNTABLE, TRANSITIONS, Status
from caliber.items.makers import MakerList
from caliber.items.records import kilograms
from caliber.items.schemas import Correction, NewItem, NewLot, StatusChange
from caliber.items.service import ItemService
from caliber.ledger.routes import subject_timeline
from caliber.ledger.sentences import read_timeline
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.schemas import convert
from caliber.web import form_data, form_uuid, page

__all__ = ["VOCABULARY"]

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


async def _places(actor: Actor, inventory: DepotService) -> dict[str, Any]:
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


Suggested = tuple[MakerList, dict[str, Any]]
"""The reference list of makers and the form's values, whose maker chooses the models suggested."""


def _form_context(kind: RecordKind, error: CaliberError | None = None, suggested: Suggested | None = None) -> dict[str, Any]:
    """What every intake form shows besides its values: the choices to make, what is wrong beside its field, and for
    weapons the makers, models and calibres of the reference list to suggest (``suggested``: the list and the values)."""
    context = {"form_groups": FIELDS[kind].groups, "choices": CHOICES[kind], "error": error, "error_field": getattr(error, "field", None)}
    if kind == "item" and suggested is not None:
        context |= _suggestions(*suggested)
    return context


def _suggestions(makers: MakerList, values: dict[str, Any]) -> dict[str, Any]:
    """The weapon form's <datalist>s: every maker, the models of the maker typed (of every maker before one is), calibres."""
    models = makers.models_of(str(values.get("manufacturer") or "") or None)
    model_options: dict[str, list[str]] = {model.name: [] for _, model in models}  # a model several makers make is offered once
    for maker, model in models:
        model_options[model.name].append(f"{maker} · {', '.join(model.calibres)}")
    lists = {
        "manufacturer": [(name, "") for name in makers.suggest()],
        "model": [(name, "; ".join(words)) for name, words in model_options.items()],
        "calibre": [(calibre, "") for calibre in makers.calibres()],
    }
    return {"suggestions": {name: f"{name}-list" for name in lists}, "datalists": [(f"{name}-list", o) for name, o in lists.items()]}


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
    services: tuple[ItemService, DepotService, Ledger, LogSigner],
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
        context["missing_identifiers"] = missing_labels(record)
        context["maker_known"] = items.makers.known(record.manufacturer)
        if taken_in and (duplicate := (await items.possible_duplicates(actor, [record]))[0]):
            context |= {"notice": None, "duplicate": duplicate}
    return page(request, f"inventory/{kind}.html", status_code=422 if error else 200, **context)


async def _act(
    request: Request[Any, Any, Any],
    kind: RecordKind,
    code: str,
    services: tuple[ItemService, DepotService, Ledger, LogSigner],
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
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """The intake form for one record."""
        context = {**VOCABULARY, **await _places(actor, inventory), **_form_context(self.kind, None, (items.makers, {}))}
        return page(request, f"inventory/{self.kind}_form.html", values={}, **context)

    @post("/new", guards=staff)
    async def create(
        self,
        *,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Take the record in and go to its page, or show the form again with what is wrong."""
        values = await form_data(request)
        try:
            if self.kind == "item":
                (record,) = await items.register_items(actor, [_intake("item", values)])
            else:
                record = await items.register_lot(actor, _intake("lot", values))
        except CORRECTABLE as exc:
            context = {**VOCABULARY, **await _places(actor, inventory), **_form_context(self.kind, exc, (items.makers, values))}
            return page(request, f"inventory/{self.kind}_form.html", status_code=exc.status_code, values=values, **context)
        return Redirect(f"{self.path}/{record.code}?done=new")

    @get("/{code:str}")
    async def show(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[DepotService],
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
        inventory: NamedDependency[DepotService],
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
        inventory: NamedDependency[DepotService],
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
        inventory: NamedDependency[DepotService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Response[Any]:
        """Move the record from its page."""

        async def work(values: dict[str, Any]) -> None:
            await items.move(actor, [code], location_id=form_uuid(values.get("location_id"), "location_id"))

        return await _act(request, self.kind, code, (items, inventory, ledger, signer), work=work, done="move")


def _correction(values: dict[str, Any]) -> dict[str, Any]:
    value = str(values.get("value", "")).strip()
    return {"field": values.get("field", ""), "value": value or None, "reason": values.get("reason", "")}
