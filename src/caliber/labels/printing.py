"""Printing labels: sheets (PDF) and thermal jobs (ZPL) for any set of records, each print a custody event.

Events:

- ``label.printed``: codes, output (``pdf:<layout>`` or ``zpl:<size>@<dpi>``),
  start, reason, printer (where the job was sent: ``host:port``, empty when
  downloaded; free text in older events), and printer_id (the registered
  printer, since printers are registered). A code printed before is a reprint
  and needs a reason.
- ``label.calibrated``: layout, dx_mm, dy_mm (decimal strings): where a sheet
  layout's printer puts things, set by an admin from the test print.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import anyio.to_thread
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.destruction.queries import OPEN
from caliber.destruction.service import DestructionService
from caliber.errors import InvalidInput
from caliber.items.access import DEPOT_STAFF
from caliber.items.service import ItemService
from caliber.labels.codes import kind_of
from caliber.labels.events import LabelCalibrated, LabelPrinted
from caliber.labels.models import Label, LabelCalibration, Printer
from caliber.labels.printers import PrinterRegister, address_of, deliver, stock_of
from caliber.labels.qrstore import QrStore
from caliber.labels.render import LabelContent, LabelError, label_url
from caliber.labels.sheets import Layout, LayoutError, layouts, sheet_pdf
from caliber.labels.zpl import ZplLabel, zpl
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger

__all__ = ["MAX_JOB", "LabelPrinting", "appliers", "content_of"]

appliers = Appliers("labels", tables=["label_calibration", "label"])
"""The events of printing labels (each print counted in ``label``) and of calibrating sheet layouts, and what applies them."""

MAX_JOB = 10_000
MAX_OFFSET_MM = Decimal(10)


def content_of(kind: str, record: Any, depot_code: str, base_url: str) -> LabelContent:
    """What the label of a record shows: the identity that matters on the shelf."""
    url = label_url(base_url, record.code)
    if kind == "item":
        title = (record.component_type or record.un_type).replace("_", " ").capitalize()
        lines = (f"{record.manufacturer} {record.model}", f"S/N {record.serial}", record.calibre)
        return LabelContent(record.code, url, title, lines, identity=1)
    if kind == "lot":
        lines = (f"Lot {record.lot_number}", f"{record.calibre} {record.nature}", f"{record.quantity:,} pcs")
        return LabelContent(record.code, url, "Ammunition lot", lines, identity=0)
    return LabelContent(record.code, url, "Location", (depot_code, record.path))


class LabelPrinting:
    """Print jobs and layout calibration."""

    def __init__(self, ledger: Ledger, items: ItemService, destructions: DestructionService, base_url: str) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.items = items
        self.destructions = destructions
        self.base_url = base_url
        self.qr = QrStore(ledger.db)
        self.printers = PrinterRegister(ledger)

    async def prepare(self, codes: Sequence[str]) -> int:
        """Make ahead and keep the QR matrices of these codes' labels (for background work); how many were made."""
        return await self.qr.prepare(label_url(self.base_url, code) for code in codes)

    async def contents(self, actor: Actor, codes: Sequence[str]) -> list[LabelContent]:
        """The labels of these codes, in order, for records in ``actor``'s depots (and destruction events they may see)."""
        events = {code for code in codes if kind_of(code) == "destruction"}
        found = {
            record.code: content_of(kind, record, depot.code, self.base_url)
            for kind, record, depot in await self.items.labelled(actor, [c for c in codes if c not in events])
        }
        for code in events:
            event = (await self.destructions.by_code(actor, code)).event
            lines = (event.site_name, f"planned {event.planned_date}", event.authority_number)
            found[code] = LabelContent(code, label_url(self.base_url, code), "Destruction event", lines)
        return [found[code] for code in dict.fromkeys(codes)]

    async def manifest_codes(self, actor: Actor, event_id: UUID) -> list[str]:
        """A destruction's own label (for its crates), then every record still on its manifest."""
        view = await self.destructions.get(actor, event_id)
        lines: list[str] = []
        after = ""
        while batch := await self.destructions.lines(actor, event_id, after=after, limit=5000):
            lines += [line.code for line in batch if line.status in OPEN]
            after = batch[-1].code
        return [view.event.code, *lines]

    async def sheet(self, actor: Actor, codes: Sequence[str], layout_key: str, *, start: int = 1, reason: str = "") -> bytes:
        """A PDF of the labels on sheets of ``layout_key`` (calibrated), recorded as printed."""
        layout = _layout(layout_key)
        labels = await self._job(actor, codes)
        offsets = await self.calibration(layout.key)
        matrices = await self.qr.matrices(label.url for label in labels)
        labels = [dataclasses.replace(label, modules=matrices[label.url]) for label in labels]
        draw = functools.partial(sheet_pdf, layout, labels, start=start, offset_mm=(float(offsets[0]), float(offsets[1])))
        try:
            pdf = await anyio.to_thread.run_sync(draw)
        except LayoutError as exc:
            raise InvalidInput(str(exc), field="start") from None
        await self._record(actor, labels, f"pdf:{layout.key}", start=start, reason=reason)
        return pdf

    async def thermal(
        self, actor: Actor, codes: Sequence[str], stock: ZplLabel, *, reason: str = "", printer_id: UUID | None = None
    ) -> str:
        """A ZPL job of the labels, recorded as printed; with ``printer_id`` sent to that registered printer, on its stock.

        Nothing is sent before the job is known to be allowed: the printer in the actor's depots and in service,
        a reason given for a reprint.
        """
        labels = await self._job(actor, codes)
        printer = await self.printers.usable(actor, printer_id) if printer_id is not None else None
        if printer is not None:
            stock = stock_of(printer)
        try:
            job = zpl(labels, stock)
        except LabelError as exc:
            raise InvalidInput(str(exc), field="size") from None
        if printer is not None:
            async with self.db.read() as session:
                await _require_reason(session, [label.code for label in labels], reason)
            await deliver(printer, job)
        await self._record(actor, labels, f"zpl:{stock.size}@{stock.dpi}", start=1, reason=reason, printer=printer)
        return job

    async def _job(self, actor: Actor, codes: Sequence[str]) -> list[LabelContent]:
        actor.require_role(*DEPOT_STAFF)
        if not codes:
            raise InvalidInput("no labels to print: give codes, a location or a search", field="codes")
        if len(codes) > MAX_JOB:
            raise InvalidInput(f"a print job holds at most {MAX_JOB:,} labels", field="codes")
        return await self.contents(actor, codes)

    async def _record(
        self, actor: Actor, labels: list[LabelContent], output: str, *, start: int, reason: str, printer: Printer | None = None
    ) -> None:
        codes = [label.code for label in labels]
        event = LabelPrinted(
            codes=codes,
            output=output,
            start=start,
            reason=reason.strip(),
            printer=address_of(printer) if printer is not None else "",
            printer_id=printer.id if printer is not None else None,
        )
        async with self.ledger.write(actor) as tx:
            await _require_reason(tx.session, codes, reason)
            await tx.record(event, codes)

    async def calibration(self, layout_key: str) -> tuple[Decimal, Decimal]:
        """How far (mm) a layout's printer is set to move everything right and down."""
        async with self.db.read() as session:
            row = await session.get(LabelCalibration, layout_key)
        return (Decimal(row.dx_mm), Decimal(row.dy_mm)) if row else (Decimal(0), Decimal(0))

    async def calibrate(self, actor: Actor, layout_key: str, dx_mm: str, dy_mm: str) -> tuple[Decimal, Decimal]:
        """Set a layout's calibration from the test print (admins)."""
        actor.require_role(Role.ADMIN)
        _layout(layout_key)
        values = []
        for name, text in (("dx_mm", dx_mm), ("dy_mm", dy_mm)):
            try:
                value = Decimal(str(text).strip().replace(",", "."))
            except InvalidOperation:
                raise InvalidInput(f"{name}: a number of millimetres, e.g. 1.5 or -0.5", field=name) from None
            if not value.is_finite() or abs(value) > MAX_OFFSET_MM:
                raise InvalidInput(f"{name}: at most {MAX_OFFSET_MM} mm either way", field=name)
            values.append(value.quantize(Decimal("0.1")))
        async with self.ledger.write(actor) as tx:
            event = LabelCalibrated(layout=layout_key, dx_mm=str(values[0]), dy_mm=str(values[1]))
            await tx.record(event, [f"layout:{layout_key}"])
        return values[0], values[1]

    async def test_print(self, layout_key: str) -> bytes:
        """A page with a millimetre ruler and a crosshair at each label's corners, calibration applied."""
        layout = _layout(layout_key)
        dx, dy = (float(v) for v in await self.calibration(layout.key))
        return _test_page(layout, dx, dy)


async def _require_reason(session: AsyncSession, codes: list[str], reason: str) -> None:
    """A reprint (a code printed before) needs a reason."""
    printed = list(await session.scalars(select(Label.code).where(Label.code.in_(codes), Label.prints > 0).limit(5)))
    if printed and not reason.strip():
        raise InvalidInput(
            f"{', '.join(printed)} {'was' if len(printed) == 1 else 'were'} printed before: say why they are printed again",
            field="reason",
        )


def _layout(key: str) -> Layout:
    try:
        return layouts()[key]
    except KeyError:
        raise InvalidInput(f"no label layout {key!r}; layouts: {', '.join(layouts())}", field="layout") from None


def _test_page(layout: Layout, dx: float, dy: float) -> bytes:
    out = io.BytesIO()
    width, height = layout.page
    canvas = Canvas(out, pagesize=(width * mm, height * mm))
    canvas.setTitle(f"Caliber test print: {layout.name}")
    canvas.setLineWidth(0.2)
    for tick in range(0, int(width) + 1):  # a ruler along the top, in millimetres
        length = 6 if tick % 10 == 0 else 3 if tick % 5 == 0 else 1.5
        canvas.line(tick * mm, height * mm, tick * mm, (height - length) * mm)
        if tick % 10 == 0 and tick:
            canvas.setFont("Helvetica", 5)
            canvas.drawString((tick - 1) * mm, (height - 9) * mm, str(tick))
    for position in range(layout.per_page):
        left, top = layout.origin(position)
        for x, y in ((left, top), (left + layout.label_width_mm, top + layout.label_height_mm)):
            px, py = (x + dx) * mm, (height - y - dy) * mm
            canvas.line(px - 2 * mm, py, px + 2 * mm, py)
            canvas.line(px, py - 2 * mm, px, py + 2 * mm)
        canvas.rect(
            (left + dx) * mm, (height - top - dy - layout.label_height_mm) * mm, layout.label_width_mm * mm, layout.label_height_mm * mm
        )
    canvas.setFont("Helvetica", 8)
    canvas.drawString(
        15 * mm, 5 * mm, f"{layout.name}: the crosshairs should sit on the labels' corners; offset now {dx:+.1f} / {dy:+.1f} mm"
    )
    canvas.showPage()
    canvas.save()
    return out.getvalue()


@appliers.on(LabelPrinted, batch=True)
async def _printed(session: AsyncSession, events: list[Recorded[LabelPrinted]]) -> None:
    for event in events:
        codes = event.data.codes
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            await session.execute(update(Label).where(Label.code.in_(chunk)).values(prints=Label.prints + 1))


@appliers.on(LabelCalibrated)
async def _calibrated(session: AsyncSession, event: Recorded[LabelCalibrated]) -> None:
    data = event.data
    row = await session.get(LabelCalibration, data.layout)
    if row is None:
        session.add(LabelCalibration(layout=data.layout, dx_mm=data.dx_mm, dy_mm=data.dy_mm))
    else:
        row.dx_mm, row.dy_mm = data.dx_mm, data.dy_mm
    await session.flush()
