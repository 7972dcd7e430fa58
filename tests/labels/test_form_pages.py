"""The printer and print forms shown again after a refusal: what is wrong beside its field, the values as typed."""

from __future__ import annotations

import re

import httpx

from caliber.accounts.models import Role
from caliber.labels.models import Printer
from caliber.labels.printers import PrinterRegister
from tests.factories import Factory, csrf_headers, login
from tests.labels.test_printers import printers, register, zebra

__all__ = ["printers"]  # the fixture, used by name


def beside(page: str, field: str) -> str:
    """The problem shown beside ``field``, or ``""``."""
    found = re.search(rf'<span class="field-error" id="e-{field}">([^<]*)</span>', page)
    return found.group(1) if found else ""


async def test_a_refused_printer_says_what_is_wrong_beside_the_field_and_keeps_what_was_typed(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.ADMIN)).user.username)
    form = {"depot_id": str(depot.id), "name": "Intake desk", "host": "127.0.0.1", "port": "99999", "model": "ZD421"}
    form |= {"size": "2x1", "dpi": "203"}
    port = await client.post("/printers/new", data=form, headers=csrf_headers(client))
    assert port.status_code == 422
    assert beside(port.text, "port").startswith("Port ")  # the field named in plain words, without msgspec's path
    assert re.search(r'name="port" value="99999"[^>]* aria-invalid="true" aria-describedby="e-port"', port.text)
    assert 'value="Intake desk"' in port.text
    assert '<p class="error"' not in port.text  # not said twice
    host = await client.post("/printers/new", data={**form, "port": "9191", "host": "printer one"}, headers=csrf_headers(client))
    assert host.status_code == 422
    assert beside(host.text, "host").startswith("host: an IP address or a host name")
    assert beside(host.text, "port") == ""
    assert 'value="printer one"' in host.text


async def clerk_prints(
    client: httpx.AsyncClient, factory: Factory, printers: PrinterRegister, *, posts: int, **fields: str
) -> tuple[list[httpx.Response], list[str], Printer]:
    """A clerk posts the print form ``posts`` times for two weapons of their depot, to a printer registered there."""
    depot = await factory.depot()
    codes = [(await factory.item(depot)).code for _ in range(2)]
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    async with zebra() as listener:
        printer = await register(printers, depot, listener.port)
        form = {"codes": "\r\n".join(codes), "printer_id": str(printer.id), **fields}  # lines as a browser sends them
        answers = [await client.post("/print/", data=form, headers=csrf_headers(client)) for _ in range(posts)]
    return answers, codes, printer


async def test_a_refused_print_job_keeps_its_lines_and_its_printer_and_asks_for_the_reason_beside_it(
    client: httpx.AsyncClient, factory: Factory, printers: PrinterRegister
) -> None:
    (first, again), codes, _printer = await clerk_prints(client, factory, printers, posts=2, output="pdf")
    assert first.status_code == 200
    assert again.status_code == 422
    assert f">{codes[0]}\n{codes[1]}</textarea>" in again.text
    assert "U+000D" not in again.text
    assert "printed before" in beside(again.text, "reason")
    assert 'value="zpl" checked' in again.text  # the printer chosen is a thermal job, as it was sent
    assert 'value="pdf" checked' not in again.text


async def test_a_job_sent_to_a_printer_says_so_and_leaves_the_form_ready_for_the_next_codes(
    client: httpx.AsyncClient, factory: Factory, printers: PrinterRegister
) -> None:
    (sent,), codes, printer = await clerk_prints(client, factory, printers, posts=1)
    assert sent.status_code == 200
    assert sent.headers["content-type"].startswith("text/html")  # the page, not a download of what was sent
    assert '<p class="notice" role="status">Sent 2 labels to Intake desk.' in sent.text
    assert codes[0] not in sent.text.partition("<textarea")[2].partition("</textarea>")[0]  # the box is empty
    assert re.search(rf'<option value="{printer.id}"[^>]* selected', sent.text)  # the same printer for the next job
