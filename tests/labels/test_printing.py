"""Print jobs: any set of records as sheets or ZPL, each print a custody event; reprints need a reason."""

from __future__ import annotations

import asyncio
import html
import re
from decimal import Decimal
from pathlib import Path

import httpx
import pypdfium2
import pytest
import zxingcpp
from litestar import Litestar

from caliber.accounts.models import Role
from caliber.errors import InvalidInput, PermissionDenied
from caliber.imports.importer import Importer
from caliber.labels.printing import LabelPrinting
from caliber.labels.schemas import NewPrinter
from caliber.labels.zpl import ZplLabel
from caliber.ledger.store import Ledger
from tests.factories import OPERATOR, Factory, csrf_headers, login

pytestmark = pytest.mark.usefixtures("ledger_checked")


def urls_in(pdf: bytes) -> set[str]:
    found: set[str] = set()
    for page in pypdfium2.PdfDocument(pdf):
        found |= {r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())}
    return found


@pytest.fixture
def printing(app: Litestar) -> LabelPrinting:
    return app.state["printing"]  # type: ignore[no-any-return]


async def test_a_sheet_prints_items_lots_and_a_shelf_and_a_reprint_needs_a_reason(
    factory: Factory, printing: LabelPrinting, ledger: Ledger
) -> None:
    depot = await factory.depot()
    shelf = await factory.location(depot, "Rack 9")
    item, lot = await factory.item(depot, location_id=shelf.id), await factory.lot(depot, location_id=shelf.id)
    codes = await factory.items.location_codes(OPERATOR, shelf.id)
    assert set(codes) == {shelf.code, item.code, lot.code}
    before = await ledger.size()
    pdf = await printing.sheet(OPERATOR, codes, "a4-4x10-48.5x25.4", start=7)
    assert urls_in(pdf) == {f"http://testserver.local/s/{c}" for c in codes}
    assert await ledger.size() == before + 1
    with pytest.raises(InvalidInput, match="printed before: say why"):
        await printing.sheet(OPERATOR, [item.code], "a4-3x7-63.5x38.1")
    await printing.sheet(OPERATOR, [item.code], "a4-3x7-63.5x38.1", reason="label torn")
    with pytest.raises(InvalidInput, match="no label layout"):
        await printing.sheet(OPERATOR, [item.code], "a5-nothing", reason="x")
    outsider = await factory.actor(Role.DEPOT_CLERK, depots=[await factory.depot()])
    with pytest.raises(PermissionDenied):
        await printing.sheet(outsider, [item.code], "a4-3x7-63.5x38.1", reason="x")


async def test_thermal_jobs_go_to_the_printer_and_calibration_is_an_admins_event(factory: Factory, printing: LabelPrinting) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    received: list[bytes] = []

    async def zebra(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read())
        writer.close()

    server = await asyncio.start_server(zebra, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    printer = await printing.printers.register(OPERATOR, NewPrinter(depot.id, "Desk", "127.0.0.1", "Zebra ZT411", 300, "4x2", port))
    async with server:
        job = await printing.thermal(OPERATOR, [item.code], ZplLabel("2x1", 203), printer_id=printer.id)
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.02)
    assert received == [job.encode()]
    assert "^PW1200^LL600" in job  # the printer's registered stock, 4 x 2 in at 300 dpi
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    with pytest.raises(PermissionDenied):
        await printing.calibrate(clerk, "a4-3x7-63.5x38.1", "1", "0")
    with pytest.raises(InvalidInput, match="at most 10 mm"):
        await printing.calibrate(OPERATOR, "a4-3x7-63.5x38.1", "12", "0")
    assert await printing.calibrate(OPERATOR, "a4-3x7-63.5x38.1", "1,25", "-0.5") == (Decimal("1.2"), Decimal("-0.5"))
    assert (await printing.test_print("a4-3x7-63.5x38.1")).startswith(b"%PDF")


async def test_the_print_form_and_the_api_answer_with_the_job(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    form = {"codes": f"https://caliber.example.org/s/{item.code}\n", "output": "pdf", "layout": "a4-2x7-99.1x38.1", "start": "3"}
    response = await client.post("/print/", data=form, headers=csrf_headers(client))
    assert response.headers["content-type"] == "application/pdf"
    assert urls_in(response.content) == {f"http://testserver.local/s/{item.code}"}
    again = await client.post("/print/", data=form, headers=csrf_headers(client))
    assert again.status_code == 422
    assert "printed before" in again.text
    zpl = await client.post(
        "/api/labels/print", json={"codes": [item.code], "output": "zpl", "reason": "second copy"}, headers=csrf_headers(client)
    )
    assert f"^FDMA,http://testserver.local/s/{item.code}^FS" in zpl.text


async def test_an_import_or_a_search_prints_in_one_job(client: httpx.AsyncClient, factory: Factory, tmp_path: Path) -> None:
    depot = await factory.depot()
    path = tmp_path / "w.csv"
    path.write_text(
        "serial,manufacturer,model,calibre,un_type,intake_source\nIMP-1,Zastava,M70,7.62,rifle,found\nIMP-2,CZ,58,7.62,rifle,found\n"
    )
    report = await Importer(factory.items).run(OPERATOR, path, depot.code)
    other = await factory.item(depot, serial="NOT-IMPORTED")
    await login(client, (await factory.user(Role.DEPOT_MANAGER, depots=[depot])).user.username)
    by_import = await client.post("/api/labels/print", json={"import_sha256": report.sha256}, headers=csrf_headers(client))
    imported = {f"http://testserver.local/s/{c}" for c in await factory.items.import_codes(report.sha256)}
    assert len(imported) == 2
    assert urls_in(by_import.content) == imported
    by_search = await client.post("/api/labels/print", json={"search": "q=not-imp", "reason": "again"}, headers=csrf_headers(client))
    assert urls_in(by_search.content) == {f"http://testserver.local/s/{other.code}"}


async def test_a_scan_as_you_go_run_prints_its_labels_in_one_job(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    form = {"depot_id": str(depot.id), "manufacturer": "Zastava", "model": "M70", "calibre": "7.62", "un_type": "rifle"}
    form |= {"intake_source": "found", "kind": "weapon", "condition": "serviceable", "serial": "RUN-1"}
    headers = {**csrf_headers(client), "HX-Request": "true"}
    first = await client.post("/items/intake", data=form, headers=headers)
    taken = re.findall(r'name="taken" value="([^"]+)"', first.text)
    second = await client.post("/items/intake", data={**form, "serial": "RUN-2", "taken": taken}, headers=headers)
    (link,) = re.findall(r'href="(/print/\?codes=[^"]+)"', second.text)
    print_form = await client.get(html.unescape(link))
    codes = re.findall(r"\b\d{10}\b", print_form.text.split("<textarea", 1)[1].split("</textarea>", 1)[0])
    assert len(codes) == 2
    pdf = await client.post("/print/", data={"codes": "\n".join(codes)}, headers=csrf_headers(client))
    assert urls_in(pdf.content) == {f"http://testserver.local/s/{c}" for c in codes}
