"""One label of any record: ``/labels/CODE.svg``, ``/labels/CODE.png`` and ``/labels/CODE.zpl``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from caliber.accounts.actor import Actor
from caliber.config import Settings
from caliber.errors import InvalidInput, NotFound
from caliber.inventory.items import ItemService
from caliber.inventory.service import InventoryService
from caliber.labels.render import LabelContent, LabelError, label_url, png, svg
from caliber.labels.zpl import ZplLabel, zpl

__all__ = ["LabelFiles", "label_content"]


async def label_content(kind: str, record: Any, base_url: str, inventory: InventoryService, actor: Actor) -> LabelContent:
    """What the label of a record shows: the identity that matters on the shelf."""
    url = label_url(base_url, record.code)
    if kind == "item":
        what = record.component_type or record.un_type
        title = what.replace("_", " ").capitalize()
        return LabelContent(record.code, url, title, (f"{record.manufacturer} {record.model}", f"S/N {record.serial}", record.calibre))
    if kind == "lot":
        lines = (f"Lot {record.lot_number}", f"{record.calibre} {record.nature}", f"{record.quantity:,} pcs")
        return LabelContent(record.code, url, "Ammunition lot", lines)
    depot = await inventory.depot(actor, record.depot_id)
    return LabelContent(record.code, url, "Location", (depot.code, record.path))


class LabelFiles(Controller):
    """Single labels for screens and small label printers."""

    path = "/labels"
    include_in_schema = False

    @get("/{filename:str}")
    async def label(
        self,
        *,
        filename: FromPath[str],
        actor: NamedDependency[Actor],
        items: NamedDependency[ItemService],
        inventory: NamedDependency[InventoryService],
        settings: NamedDependency[Settings],
        size: FromQuery[str] = "2x1",
        dpi: FromQuery[int] = 203,
    ) -> Response[bytes]:
        """The label of the record with this code: ``CODE.svg``, ``CODE.png`` (300 dpi, 50 x 25 mm) or ``CODE.zpl``
        for a Zebra printer (``?size=2x1|4x2&dpi=203|300``)."""
        code, _, extension = filename.partition(".")
        if extension not in ("svg", "png", "zpl"):
            raise NotFound("labels are CODE.svg, CODE.png or CODE.zpl")
        kind, record = await items.find(actor, code)
        content = await label_content(kind, record, settings.base_url, inventory, actor)
        if extension == "svg":
            return Response(svg(content).encode(), media_type="image/svg+xml")
        if extension == "zpl":
            try:
                job = zpl([content], ZplLabel(size, dpi))
            except LabelError as exc:
                raise InvalidInput(str(exc)) from None
            headers = {"Content-Disposition": f'attachment; filename="{code}.zpl"'}
            return Response(job.encode(), media_type="application/x-zpl", headers=headers)
        headers = {"Content-Disposition": f'inline; filename="{code}.png"'}
        return Response(png(content), media_type="image/png", headers=headers)
