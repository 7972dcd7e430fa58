"""JSON API for items (weapons and components), ammunition lots, moves and scanned codes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import File, Stream
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import requires
from caliber.depots.schemas import LocationOut
from caliber.depots.views import location_out
from caliber.errors import InvalidInput, NotFound
from caliber.items.access import DEPOT_STAFF, MANAGERS
from caliber.items.exports import EXPORT_COLUMNS, LOT_EXPORT_COLUMNS, export_rows
from caliber.items.iarms import READERS, iarms_csv, iarms_xml
from caliber.items.identity import missing_identifiers
from caliber.items.lifecycle import IntakeSource, Status
from caliber.items.makers import MakerList
from caliber.items.models import AmmunitionLot, Condition, Item, ItemKind, UnType
from caliber.items.queries import item_filters, lot_filters, page_url
from caliber.items.records import kilograms
from caliber.items.schemas import Correction, DuplicateReview, ItemOut, LotOut, MoveRequest, NewItem, NewLot, SplitRequest, StatusChange
from caliber.items.service import ItemService
from caliber.ledger.routes import subject_timeline
from caliber.ledger.schemas import Timeline
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.web import csv_stream

__all__ = ["ItemApi", "LotApi", "MoveApi", "ScanApi", "item_out", "lot_out"]

staff = [requires(*DEPOT_STAFF)]
managers = [requires(*MANAGERS)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
MAX_BATCH = 1000


def item_out(item: Item, makers: MakerList, photos: list[str] | None = None) -> ItemOut:
    """An item as the API shows it; ``maker_known`` says whether its maker is in the reference list ``makers``."""
    return ItemOut(
        id=item.id,
        code=item.code,
        kind=ItemKind(item.kind),
        component_type=item.component_type,  # type: ignore[arg-type]
        parent_code=item.parent_code,
        manufacturer=item.manufacturer,
        model=item.model,
        calibre=item.calibre,
        serial=item.serial,
        un_type=UnType(item.un_type),
        country_of_manufacture=item.country_of_manufacture,
        year_of_manufacture=item.year_of_manufacture,
        import_country=item.import_country,
        import_year=item.import_year,
        marking_location=item.marking_location,
        other_marks=item.other_marks,
        eu_category=item.eu_category,
        intake_source=IntakeSource(item.intake_source),
        case_reference=item.case_reference,
        court_order=item.court_order,
        condition=Condition(item.condition),
        notes=item.notes,
        depot_id=item.depot_id,
        location_id=item.location_id,
        status=Status(item.status),
        duplicate_review=item.duplicate_review,
        registered_at=item.registered_at,
        photos=photos or [],
        missing_identifiers=missing_identifiers(item),
        maker_known=makers.known(item.manufacturer),
    )


def lot_out(lot: AmmunitionLot) -> LotOut:
    """An ammunition lot as the API shows it."""
    return LotOut(
        id=lot.id,
        code=lot.code,
        lot_number=lot.lot_number,
        parent_code=lot.parent_code,
        manufacturer=lot.manufacturer,
        year=lot.year,
        calibre=lot.calibre,
        nature=lot.nature,
        quantity=lot.quantity,
        gross_mass_kg=kilograms(lot.gross_mass_g),
        net_explosive_mass_kg=kilograms(lot.net_explosive_mass_g),
        hazard_division=lot.hazard_division,
        compatibility_group=lot.compatibility_group,
        intake_source=IntakeSource(lot.intake_source),
        case_reference=lot.case_reference,
        court_order=lot.court_order,
        condition=Condition(lot.condition),
        notes=lot.notes,
        depot_id=lot.depot_id,
        location_id=lot.location_id,
        status=Status(lot.status),
        registered_at=lot.registered_at,
    )


class ItemPage(msgspec.Struct):
    """One page of items; pass ``next_after`` as ``after`` for the next."""

    items: list[ItemOut]
    next_after: UUID | None


class LotPage(msgspec.Struct):
    """One page of ammunition lots; pass ``next_after`` as ``after`` for the next."""

    lots: list[LotOut]
    next_after: UUID | None


async def _taken_in(actor: Actor, items: ItemService, data: list[NewItem]) -> list[ItemOut]:
    """Register ``data``; each record as the API shows it, with the warning of a possible duplicate where it is one."""
    taken = await items.register_items(actor, data)
    warned = await items.possible_duplicates(actor, taken)
    return [
        msgspec.structs.replace(item_out(item, items.makers), warnings=[w.written] if w else [])
        for item, w in zip(taken, warned, strict=True)
    ]


class ItemApi(Controller):
    """Weapons and components: intake, search, look-up, lifecycle actions, corrections, photos."""

    path = "/api/items"
    tags = ["items"]

    @post("/", guards=staff, status_code=HTTP_201_CREATED)
    async def register(self, data: JSONBody[NewItem], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> ItemOut:
        """Take one weapon or component into custody; it gets its label code. ``warnings`` says whether its identity
        matches a record already held (it is then flagged for review as a possible duplicate)."""
        return (await _taken_in(actor, items, [data]))[0]

    @post("/batch", guards=staff, status_code=HTTP_201_CREATED)
    async def register_batch(
        self, data: JSONBody[list[NewItem]], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> list[ItemOut]:
        """Take up to 1,000 records into custody in one transaction: all or none."""
        if not 1 <= len(data) <= MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} records; use the import for more")
        return await _taken_in(actor, items, data)

    @get("/")
    async def search(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        after: FromQuery[UUID | None] = None,
        limit: Limit = 50,
    ) -> ItemPage:
        """Search by serial (partial) or label code (``q``) and filters; newest first, keyset pages."""
        found = await items.search(actor, item_filters(dict(request.query_params)), after=after, limit=limit)
        return ItemPage([item_out(i, items.makers) for i in found.records], found.next_after)

    @get("/export.csv", media_type="text/csv")
    async def export(self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> Stream:
        """Every item a search finds, as CSV."""
        filters = item_filters(dict(request.query_params))
        return csv_stream(export_rows(items.search, actor, filters, EXPORT_COLUMNS, db=items.db), "items.csv")

    @get("/iarms.csv", guards=[requires(*READERS)], media_type="text/csv")
    async def iarms_export_csv(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> Stream:
        """Weapons lost from stock, seized, found or surrendered, as CSV for iARMS (docs/iarms.md); search filters narrow it."""
        rows = iarms_csv(items.db, actor, item_filters(dict(request.query_params)), request.app.state.settings.zone, items.makers)
        return csv_stream(rows, "iarms.csv")

    @get("/iarms.xml", guards=[requires(*READERS)], media_type="application/xml")
    async def iarms_export_xml(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> Stream:
        """The same records as ``iarms.csv`` as XML, valid against ``iarms.xsd`` (docs/iarms.md)."""
        now = dt.datetime.now(dt.UTC)
        rows = iarms_xml(
            items.db, actor, item_filters(dict(request.query_params)), request.app.state.settings.zone, now, makers=items.makers
        )
        disposition = {"Content-Disposition": 'attachment; filename="iarms.xml"'}
        return Stream(rows, media_type="application/xml; charset=utf-8", headers=disposition)

    @get("/{code:str}")
    async def get_item(self, code: FromPath[str], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> ItemOut:
        """One item by label code, with the SHA-256 of each photo."""
        item = await items.look_up(actor, "item", code)
        return item_out(item, items.makers, await items.photo_hashes(item.id))

    @get("/{code:str}/timeline")
    async def timeline(
        self,
        code: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
    ) -> Timeline:
        """The item's custody timeline, each event with its inclusion proof against the latest checkpoint."""
        await items.get(actor, "item", code)
        return await subject_timeline(ledger, signer, code)

    @post("/{code:str}/status", status_code=200)
    async def change_status(
        self, code: FromPath[str], data: JSONBody[StatusChange], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> ItemOut:
        """A lifecycle action (declare surplus, release a hold with its court order, ...) with its reason."""
        return item_out(await items.change_status(actor, "item", code, data), items.makers)

    @post("/{code:str}/corrections", guards=staff, status_code=200)
    async def correct(
        self, code: FromPath[str], data: JSONBody[Correction], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> ItemOut:
        """Correct one field, with the reason; the old value stays in the ledger."""
        return item_out(await items.correct(actor, "item", code, data), items.makers)

    @post("/{code:str}/duplicate-review", guards=managers, status_code=200)
    async def review_duplicate(
        self, code: FromPath[str], data: JSONBody[DuplicateReview], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> ItemOut:
        """A manager's decision on a possible duplicate."""
        return item_out(await items.review_duplicate(actor, code, data.decision, data.reason), items.makers)

    @post("/{code:str}/photos", guards=staff, status_code=HTTP_201_CREATED)
    async def add_photo(
        self, code: FromPath[str], request: Request[Any, Any, Any], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> dict[str, str]:
        """Add a photograph (the request body, ``image/jpeg``, ``image/png`` or ``image/webp``)."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        digest = await items.add_photo(actor, code, await request.body(), content_type)
        return {"sha256": digest}

    @get("/{code:str}/photos/{sha256:str}", media_type="application/octet-stream")
    async def photo(
        self, code: FromPath[str], sha256: FromPath[str], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> File:
        """One photograph of the item."""
        item = await items.get(actor, "item", code)
        photo = next((p for p in await items.photos(item) if p.sha256 == sha256), None)
        if photo is None:
            raise NotFound(f"item {code} has no photo {sha256}")
        path = items.photo_path(sha256)
        if not path.is_file():
            raise NotFound(f"the file of photo {sha256} is missing from the data dir: restore it from a backup")
        return File(path, media_type=photo.content_type, content_disposition_type="inline")


class LotApi(Controller):
    """Ammunition lots: intake, search, look-up, lifecycle actions, corrections, splits."""

    path = "/api/lots"
    tags = ["ammunition"]

    @post("/", guards=staff, status_code=HTTP_201_CREATED)
    async def register(self, data: JSONBody[NewLot], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> LotOut:
        """Take an ammunition lot into custody; it gets its label code."""
        return lot_out(await items.register_lot(actor, data))

    @get("/")
    async def search(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        after: FromQuery[UUID | None] = None,
        limit: Limit = 50,
    ) -> LotPage:
        """Lots by lot number or label code (``q``) and filters; newest first, keyset pages."""
        found = await items.search_lots(actor, lot_filters(dict(request.query_params)), after=after, limit=limit)
        return LotPage([lot_out(lot) for lot in found.records], found.next_after)

    @get("/export.csv", media_type="text/csv")
    async def export(self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> Stream:
        """Every lot a search finds, as CSV (masses in kilograms)."""
        filters = lot_filters(dict(request.query_params))
        return csv_stream(export_rows(items.search_lots, actor, filters, LOT_EXPORT_COLUMNS, lot_out, db=items.db), "lots.csv")

    @get("/{code:str}")
    async def get_lot(self, code: FromPath[str], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> LotOut:
        """One lot by label code."""
        return lot_out(await items.look_up(actor, "lot", code))

    @post("/{code:str}/status", status_code=200)
    async def change_status(
        self, code: FromPath[str], data: JSONBody[StatusChange], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> LotOut:
        """A lifecycle action on the lot, with its reason."""
        return lot_out(await items.change_status(actor, "lot", code, data))

    @post("/{code:str}/corrections", guards=staff, status_code=200)
    async def correct(
        self, code: FromPath[str], data: JSONBody[Correction], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> LotOut:
        """Correct one field of the lot, with the reason."""
        return lot_out(await items.correct(actor, "lot", code, data))

    @post("/{code:str}/split", guards=staff, status_code=HTTP_201_CREATED)
    async def split(
        self, code: FromPath[str], data: JSONBody[SplitRequest], actor: NamedDependency[Actor], items: NamedDependency[ItemService]
    ) -> LotOut:
        """Take part of the lot off as a new lot with the same lot number (one event)."""
        return lot_out(await items.split_lot(actor, code, data.quantity, data.reason, data.location_id))


class MoveResult(msgspec.Struct):
    """Where records were put: ``codes`` as asked, ``moved`` those that changed place (one custody event each)."""

    location: LocationOut
    codes: list[str]
    moved: list[str]


class MoveApi(Controller):
    """Putting records into a storage location."""

    path = "/api/moves"
    tags = ["items"]

    @post("/", guards=staff, status_code=200)
    async def move(self, data: JSONBody[MoveRequest], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> MoveResult:
        """Move items and lots (by label code) into a location (by id or label code): one event per record moved."""
        done = await items.move(actor, data.codes, data.location_id, data.location_code)
        return MoveResult(location_out(done.location), data.codes, done.codes)


class Scanned(msgspec.Struct):
    """What a scanned code is."""

    kind: str
    code: str
    url: str


class ScanApi(Controller):
    """Resolving a scanned label: a URL, a bare code, or a code typed through the wrong keyboard layout."""

    path = "/api/scan"
    tags = ["items"]

    @get("/")
    async def scan(self, code: FromQuery[str], actor: NamedDependency[Actor], items: NamedDependency[ItemService]) -> Scanned:
        """The record behind a scan and the page that shows it."""
        found = await items.locate(actor, code)
        return Scanned(found.kind, found.code, page_url(found.kind, found))
