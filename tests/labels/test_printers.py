"""Registered printers: the server sends print jobs only to printers an admin registered, for their depots' staff.

Every printer here is a listener the test starts on 127.0.0.1 that reads the job's bytes.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar

from caliber.accounts.models import Role
from caliber.db import Database
from caliber.depots.models import Depot
from caliber.errors import Conflict, InvalidInput, PermissionDenied
from caliber.labels.events import LabelPrinted
from caliber.labels.models import Printer
from caliber.labels.printers import PrinterRegister
from caliber.labels.schemas import NewPrinter, PrinterUpdate
from caliber.ledger import store
from caliber.ledger.store import Ledger
from tests.factories import OPERATOR, Factory, csrf_headers, login

pytestmark = pytest.mark.usefixtures("ledger_checked")


@dataclass
class Zebra:
    """A printer on 127.0.0.1: counts the connections made to it and keeps each job's bytes."""

    port: int = 0
    connections: int = 0
    jobs: list[bytes] = field(default_factory=list)

    async def take(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.jobs.append(await reader.read())
        writer.close()

    async def received(self, count: int = 1) -> list[bytes]:
        """The jobs, once ``count`` of them arrived (or after a second)."""
        for _ in range(50):
            if len(self.jobs) >= count:
                break
            await asyncio.sleep(0.02)
        return self.jobs


@asynccontextmanager
async def zebra() -> AsyncIterator[Zebra]:
    printer = Zebra()
    server = await asyncio.start_server(printer.take, "127.0.0.1", 0)
    printer.port = server.sockets[0].getsockname()[1]
    async with server:
        yield printer


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (taken from the system, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def printers(app: Litestar) -> PrinterRegister:
    return app.state["printing"].printers  # type: ignore[no-any-return]


async def register(printers: PrinterRegister, depot: Depot, port: int, **overrides: Any) -> Printer:
    values: dict[str, Any] = {"name": "Intake desk", "host": "127.0.0.1", "model": "Zebra ZD421", "dpi": 203, "size": "2x1", "port": port}
    values.update(overrides)
    return await printers.register(OPERATOR, NewPrinter(depot_id=depot.id, **values))


async def events(db: Database, ledger: Ledger, event_type: str) -> list[dict[str, Any]]:
    async with db.read() as session:
        entries = await store.read_entries(session, 0, await ledger.size())
    return [entry.event for entry in entries if entry.event["type"] == event_type]


async def test_an_admin_registers_and_changes_printers_each_a_custody_event(
    factory: Factory, printers: PrinterRegister, db: Database, ledger: Ledger
) -> None:
    depot, other = await factory.depot(), await factory.depot()
    desk = await register(printers, depot, 9100, host="Zebra-1.Depot.example")
    assert desk.host == "zebra-1.depot.example"
    await register(printers, other, 9100, name="Armoury")
    with pytest.raises(Conflict, match="already has a printer named"):
        await register(printers, depot, 9100)
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    with pytest.raises(PermissionDenied):
        await printers.register(clerk, NewPrinter(depot.id, "Mine", "127.0.0.1", "Zebra", 203, "2x1"))
    with pytest.raises(PermissionDenied):
        await printers.change(clerk, desk.id, PrinterUpdate(active=False))
    assert [p.name for p in await printers.printers(clerk)] == ["Intake desk"]
    changed = await printers.change(OPERATOR, desk.id, PrinterUpdate(host="10.0.0.25", size="4x2", dpi=300, active=False))
    assert (changed.host, changed.size, changed.dpi, changed.active) == ("10.0.0.25", "4x2", 300, False)
    assert await printers.printers(clerk, active_only=True) == []
    (registered, _) = await events(db, ledger, "printer.registered")
    assert registered["subjects"] == sorted([f"printer:{desk.id}", f"depot:{depot.id}"])
    assert registered["data"] | {"id": "x"} == {
        "id": "x",
        "depot_id": str(depot.id),
        "name": "Intake desk",
        "host": "zebra-1.depot.example",
        "port": 9100,
        "model": "Zebra ZD421",
        "dpi": 203,
        "size": "2x1",
    }
    (change,) = await events(db, ledger, "printer.changed")
    assert change["data"]["changes"] == {
        "host": {"old": "zebra-1.depot.example", "new": "10.0.0.25"},
        "size": {"old": "2x1", "new": "4x2"},
        "dpi": {"old": 203, "new": 300},
        "active": {"old": True, "new": False},
    }


@pytest.mark.parametrize(
    ("host", "port", "field_name"),
    [
        ("a" * 300, 9100, "host"),
        ("printer\x00", 9100, "host"),
        ("..", 9100, "host"),
        (" ", 9100, "host"),
        ("-zebra.example", 9100, "host"),
        ("zebra_1.example", 9100, "host"),
        ("1234", 9100, "host"),
        ("999.1.1.1", 9100, "host"),
        ("127.0.0.1", 0, "port"),
        ("127.0.0.1", 99999, "port"),
    ],
)
async def test_a_printer_address_no_resolver_takes_is_refused_at_registration(
    factory: Factory, printers: PrinterRegister, host: str, port: int, field_name: str
) -> None:
    depot = await factory.depot()
    with pytest.raises(InvalidInput) as refused:
        await register(printers, depot, port, host=host)
    assert refused.value.field == field_name
    assert await printers.printers(OPERATOR) == []


async def test_registration_through_the_api_and_the_admin_pages(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.ADMIN)).user.username)
    body = {"depot_id": str(depot.id), "name": "Desk", "host": "zebra..example", "model": "Zebra ZD421", "dpi": 203, "size": "2x1"}
    refused = await client.post("/api/printers", json=body, headers=csrf_headers(client))
    assert refused.status_code == 422
    assert refused.json()["field"] == "host"
    out_of_range = await client.post("/api/printers", json={**body, "host": "10.0.0.9", "port": 65536}, headers=csrf_headers(client))
    assert out_of_range.status_code == 400
    assert "port" in out_of_range.text
    created = await client.post("/api/printers", json={**body, "host": "10.0.0.9"}, headers=csrf_headers(client))
    assert created.status_code == 201, created.text
    assert created.json() | {"id": "x"} == {**body, "id": "x", "host": "10.0.0.9", "port": 9100, "active": True}
    form = {"depot_id": str(depot.id), "name": "Armoury", "host": "..", "port": "9100", "model": "ZT411", "size": "4x2", "dpi": "300"}
    again = await client.post("/printers/new", data=form, headers=csrf_headers(client))
    assert again.status_code == 422
    assert "host: an IP address or a host name" in again.text
    assert (await client.post("/printers/new", data={**form, "host": "10.0.0.10"}, headers=csrf_headers(client))).status_code == 302
    listing = await client.get("/printers/")
    (armoury,) = re.findall(r'href="/printers/([0-9a-f-]{36})/edit">Armoury<', listing.text)
    assert "10.0.0.10:9100" in listing.text
    edit = await client.get(f"/printers/{armoury}/edit")
    assert 'name="active" checked' in edit.text
    changes = {name: value for name, value in form.items() if name != "depot_id"} | {"host": "10.0.0.11"}  # no "active": unticked
    saved = await client.post(f"/printers/{armoury}/edit", data=changes, headers=csrf_headers(client))
    assert saved.status_code == 302
    (shown,) = [p for p in (await client.get("/api/printers")).json() if p["id"] == armoury]
    assert (shown["host"], shown["active"]) == ("10.0.0.11", False)
    patched = await client.patch(f"/api/printers/{armoury}", json={"active": True}, headers=csrf_headers(client))
    assert patched.json()["active"] is True


async def test_a_job_goes_to_the_registered_printer_on_its_stock(
    client: httpx.AsyncClient, factory: Factory, printers: PrinterRegister, db: Database, ledger: Ledger
) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    async with zebra() as listener:
        printer = await register(printers, depot, listener.port, size="4x2", dpi=300)
        page = await client.get("/print/")
        assert f'<option value="{printer.id}"' in page.text
        assert 'name="printer"' not in page.text
        wanted = {"codes": [item.code], "output": "zpl", "printer_id": str(printer.id)}
        job = await client.post("/api/labels/print", json=wanted, headers=csrf_headers(client))
        assert job.status_code == 200, job.text
        assert await listener.received() == [job.content]
        form = {"codes": item.code, "printer_id": str(printer.id), "reason": "second copy"}  # the sheet output left checked
        again = await client.post("/print/", data=form, headers=csrf_headers(client))
        assert again.status_code == 200, again.text
        assert len(await listener.received(2)) == 2
    assert "^PW1200^LL600" in job.text  # 4 x 2 in at 300 dpi, as registered
    (printed, _) = await events(db, ledger, "label.printed")
    assert printed["data"]["printer_id"] == str(printer.id)
    assert printed["data"]["printer"] == f"127.0.0.1:{listener.port}"
    assert printed["data"]["output"] == "zpl:4x2@300"


async def test_no_request_makes_the_server_connect_to_an_address_it_names(
    client: httpx.AsyncClient, factory: Factory, printers: PrinterRegister, ledger: Ledger
) -> None:
    depot, other = await factory.depot(), await factory.depot()
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    async with zebra() as listener:
        others = await register(printers, other, listener.port)
        retired = await register(printers, depot, listener.port, name="Retired")
        await printers.change(OPERATOR, retired.id, PrinterUpdate(active=False))
        before = await ledger.size()
        job = {"codes": [item.code], "output": "zpl"}
        named = await client.post("/api/labels/print", json={**job, "printer": f"127.0.0.1:{listener.port}"}, headers=csrf_headers(client))
        assert named.status_code == 400
        assert "printer" in named.text
        form = {"codes": item.code, "output": "zpl", "printer": f"127.0.0.1:{listener.port}"}
        typed = await client.post("/print/", data=form, headers=csrf_headers(client))
        assert typed.status_code == 422
        assert "printer is not asked for here" in typed.text
        unknown = await client.post("/api/labels/print", json={**job, "printer_id": str(depot.id)}, headers=csrf_headers(client))
        assert unknown.status_code == 422
        assert "no registered printer" in unknown.text
        cross = await client.post("/api/labels/print", json={**job, "printer_id": str(others.id)}, headers=csrf_headers(client))
        assert cross.status_code == 403
        assert f"not assigned to depot {other.code}" in cross.text
        inactive = await client.post("/api/labels/print", json={**job, "printer_id": str(retired.id)}, headers=csrf_headers(client))
        assert inactive.status_code == 422
        assert "out of service" in inactive.text
        await asyncio.sleep(0.1)
        assert listener.connections == 0
    assert await ledger.size() == before


async def test_a_reprint_without_a_reason_is_refused_before_anything_is_sent(
    client: httpx.AsyncClient, factory: Factory, printers: PrinterRegister
) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    async with zebra() as listener:
        printer = await register(printers, depot, listener.port)
        job = {"codes": [item.code], "output": "zpl", "printer_id": str(printer.id)}
        assert (await client.post("/api/labels/print", json=job, headers=csrf_headers(client))).status_code == 200
        assert len(await listener.received()) == 1
        again = await client.post("/api/labels/print", json=job, headers=csrf_headers(client))
        assert again.status_code == 422
        assert "printed before" in again.text
        await asyncio.sleep(0.1)
        assert listener.connections == 1


async def test_a_failed_send_names_only_the_registered_printer(
    client: httpx.AsyncClient, factory: Factory, printers: PrinterRegister, ledger: Ledger
) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    port = closed_port()
    printer = await register(printers, depot, port, name="Back office")
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    before = await ledger.size()
    job = {"codes": [item.code], "output": "zpl", "printer_id": str(printer.id)}
    refused = await client.post("/api/labels/print", json=job, headers=csrf_headers(client))
    assert refused.status_code == 422
    assert "printer Back office at its registered address did not take the job: connection refused" in refused.text
    assert "127.0.0.1" not in refused.text
    assert str(port) not in refused.text
    assert await ledger.size() == before  # a job no printer took is not recorded as printed


async def test_a_label_printed_event_of_the_free_text_printer_era_still_replays(factory: Factory, ledger: Ledger) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    async with ledger.write(OPERATOR) as tx:
        event = LabelPrinted(codes=[item.code], output="zpl:2x1@203", start=1, reason="", printer="10.0.0.25:9100")
        await tx.record(event, [item.code])
    assert "printer_id" not in event.encode()  # as the entries of that era were written


async def test_a_label_file_takes_only_a_known_stock_and_resolution(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    assert (await client.get(f"/labels/{item.code}.zpl?size=4x2&dpi=300")).status_code == 200
    for query in ("dpi=9223372036854775808", "dpi=301", "dpi=-1", "size=9x9"):
        response = await client.get(f"/labels/{item.code}.zpl?{query}")
        assert response.status_code == 400, query
        assert query.split("=")[0] in response.text
