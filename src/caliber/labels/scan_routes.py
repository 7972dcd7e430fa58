"""The scan page: one big input for phones and handheld scanners, in one of several contexts (modes).

Modes: ``lookup`` (what is this?), ``move`` (scan a location, then records
into it), ``count`` (scan records for an open stock check, where found, pieces
for lots), ``verify`` (check records at a destruction site against its
manifest, with the serial read where typed). Each scan answers without a
page load (HTMX; plain posts work too), with an outcome the page shows in
colour and sound: found, done, not found, wrong check digit, refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from caliber.accounts.actor import Actor
from caliber.destruction.queries import EventView
from caliber.destruction.schemas import Verification
from caliber.destruction.service import DestructionService
from caliber.errors import CaliberError, Conflict, InvalidInput, NotFound, PermissionDenied
from caliber.items.queries import page_url
from caliber.items.service import ItemService
from caliber.labels.codes import CodeError, format_code, read_code
from caliber.schemas import convert
from caliber.stockchecks.schemas import Scan
from caliber.stockchecks.service import StockCheckService
from caliber.web import form_data, form_uuid, page

__all__ = ["MODES", "ScanPage"]

MODES = {"lookup": "Look up", "move": "Move into a location", "count": "Count for a stock check", "verify": "Verify for destruction"}
RECENT = 20


@dataclass(frozen=True)
class Outcome:
    """What one scan did: ``found``, ``done``, ``place`` (a location chosen), ``not_found``, ``wrong_check``, ``refused``."""

    kind: str
    code: str
    text: str
    href: str = ""

    def encoded(self) -> str:
        """For the page's hidden list of recent scans."""
        return "\t".join((self.kind, self.code, self.text, self.href))

    @classmethod
    def decoded(cls, raw: str) -> Outcome | None:
        """Back from the hidden list; None for anything malformed."""
        parts = raw.split("\t")
        return cls(*parts) if len(parts) == 4 else None


def _describe(kind: str, record: Any) -> str:
    if kind == "destruction":
        return "Destruction event"
    if kind == "item":
        return f"{record.manufacturer} {record.model} · S/N {record.serial} · {record.status.replace('_', ' ')}"
    if kind == "lot":
        return f"Lot {record.lot_number} · {record.calibre} {record.nature} · {record.quantity:,} pcs · {record.status.replace('_', ' ')}"
    return f"Location {record.path}"


def _href(kind: str, record: Any) -> str:
    return page_url(kind, record)


class ScanPage(Controller):
    """``/scan?mode=lookup|move|count|verify[&check=ID][&event=ID]``."""

    path = "/scan"
    include_in_schema = False

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        stockchecks: NamedDependency[StockCheckService],
        destructions: NamedDependency[DestructionService],
    ) -> Template:
        """The scan page in the mode asked for."""
        values = dict(request.query_params.items())
        work = _Work(stockchecks, destructions)
        return page(request, "labels/scan.html", **await _context(request.scope["user"], work, values, [], None))

    @post("/", status_code=200)
    async def scan(
        self,
        *,
        request: HTMXRequest,
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        stockchecks: NamedDependency[StockCheckService],
        destructions: NamedDependency[DestructionService],
    ) -> Template:
        """One scan in the page's mode; answers with the updated scanner."""
        values = await form_data(request, "recent")
        recent = [o for o in (Outcome.decoded(raw) for raw in values.pop("recent", [])) if o]
        work = _Work(stockchecks, destructions)
        outcome = await _handle(actor, items, work, values)
        if outcome.kind == "place":
            values["place"] = outcome.code
        recent = [outcome, *recent][:RECENT]
        context = await _context(actor, work, values, recent, outcome)
        return page(request, "labels/_scan.html" if request.htmx else "labels/scan.html", **context)


@dataclass(frozen=True)
class _Work:
    """The work flows a scan may feed."""

    stockchecks: StockCheckService
    destructions: DestructionService


async def _destruction(actor: Actor, work: _Work, values: dict[str, Any]) -> EventView | None:
    if values.get("mode") != "verify" or not values.get("event"):
        return None
    try:
        return await work.destructions.get(actor, UUID(str(values["event"])))
    except (ValueError, CaliberError):
        return None


async def _context(actor: Actor, work: _Work, values: dict[str, Any], recent: list[Outcome], last: Outcome | None) -> dict[str, Any]:
    mode = values.get("mode") if values.get("mode") in MODES else "lookup"
    check = None
    if mode == "count" and values.get("check"):
        try:
            check = await work.stockchecks.get(actor, UUID(str(values["check"])))
        except (ValueError, CaliberError):
            check = None
    return {
        "destruction": await _destruction(actor, work, values),
        "modes": MODES,
        "mode": mode,
        "place": values.get("place", ""),
        "check": check,
        "recent": recent,
        "last": last,
        "format_code": format_code,
    }


async def _handle(actor: Actor, items: ItemService, work: _Work, values: dict[str, Any]) -> Outcome:
    scanned = str(values.get("scan", ""))
    try:
        code = read_code(scanned)
    except CodeError as exc:
        kind = "wrong_check" if "check digit" in str(exc) else "not_found"
        return Outcome(kind, "", str(exc))
    mode = values.get("mode")
    counts_unknown = mode in ("count", "verify")  # an unknown label is itself a finding there
    try:
        kind, record = await items.find(actor, code)
    except NotFound:
        kind, record = "", None
        if not counts_unknown:
            return Outcome("not_found", code, f"{format_code(code)}: no record has this label")
    except PermissionDenied as exc:
        kind, record = "", None
        if not counts_unknown:
            return Outcome("refused", code, exc.message)
    try:
        if kind == "location" and mode in ("move", "count"):
            return Outcome("place", code, f"now in {record.path}", _href(kind, record))
        if mode == "move":
            return await _move(actor, items, values, _Scanned(code, kind, record))
        if mode == "count":
            return await _count(actor, items, work.stockchecks, values, _Scanned(code, kind, record))
        if mode == "verify":
            return await _verify(actor, work.destructions, values, _Scanned(code, kind, record))
    except CaliberError as exc:
        return Outcome("refused", code, exc.message)
    return Outcome("found", code, _describe(kind, record), _href(kind, record))


@dataclass(frozen=True)
class _Scanned:
    code: str
    kind: str
    record: Any


async def _move(actor: Actor, items: ItemService, values: dict[str, Any], scanned: _Scanned) -> Outcome:
    code, kind, record = scanned.code, scanned.kind, scanned.record
    place = str(values.get("place", ""))
    if not place:
        return Outcome("refused", code, "scan the location's label first, then the records to put there")
    location = (await items.move(actor, [code], location_code=_place_code(place))).location
    return Outcome("done", code, f"moved to {location.path}: {_describe(kind, record)}", _href(kind, record))


def _place_code(place: str) -> str:
    """The label code of the location scanned first (a form may send anything)."""
    try:
        return read_code(place)
    except CodeError as exc:
        raise InvalidInput(f"the place scanned is no location label: {exc}", field="place") from None


async def _count(actor: Actor, items: ItemService, stockchecks: StockCheckService, values: dict[str, Any], scanned: _Scanned) -> Outcome:
    code, kind, record = scanned.code, scanned.kind, scanned.record
    if not values.get("check"):
        return Outcome("refused", code, "open a stock check first; its page leads here")
    place_id = None
    if values.get("place"):
        _, location = await items.find(actor, str(values["place"]))
        place_id = location.id
    quantity = str(values.get("quantity") or "").strip()
    scan = convert({"code": code, "location_id": place_id, "quantity": quantity or None}, Scan)
    await stockchecks.scan(actor, form_uuid(values["check"], "check"), [scan])
    if record is None:
        return Outcome("refused", code, f"{format_code(code)}: counted as an unknown label (no record of this depot)")
    return Outcome("done", code, f"counted: {_describe(kind, record)}", _href(kind, record))


async def _verify(actor: Actor, destructions: DestructionService, values: dict[str, Any], scanned: _Scanned) -> Outcome:
    code, kind, record = scanned.code, scanned.kind, scanned.record
    if not values.get("event"):
        return Outcome("refused", code, "open the destruction event first; its page leads here")
    event_id = form_uuid(values["event"], "event")
    serial = str(values.get("serial") or "").strip()
    if record is None or kind not in ("item", "lot"):
        await destructions.unexpected(actor, event_id, code)
        return Outcome("refused", code, f"{format_code(code)}: not on the manifest. Set it apart (counted as unexpected)")
    try:
        fresh = await destructions.verify(actor, event_id, Verification(codes=[code], serial_read=serial))
    except Conflict as exc:
        if "not on the manifest" not in exc.message:
            raise
        await destructions.unexpected(actor, event_id, code)
        return Outcome("refused", code, f"not on the manifest. Set it apart (counted as unexpected): {_describe(kind, record)}")
    said = "verified" if fresh else "verified already"
    return Outcome(
        "done", code, f"{said}{', serial confirmed' if serial and fresh else ''}: {_describe(kind, record)}", _href(kind, record)
    )
