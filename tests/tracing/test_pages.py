"""The tracing pages: the queue, a weapon's trace with its forms, a request sent and answered, requests from other
states searched and answered; refusals in words, bad input refused with nothing written, other depots refused."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from caliber.accounts.models import Role
from caliber.depots.models import Depot
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.models import Item
from caliber.items.schemas import StatusChange
from caliber.ledger.models import LedgerEntry
from caliber.tracing.events import Recipient
from caliber.tracing.schemas import IdentifiersIn, NewIncoming, NewRequest, StepIn
from caliber.tracing.service import TracingService
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")
TODAY = dt.datetime.now(ZoneInfo("Europe/Belgrade")).date()  # the deployment's day (the default zone), as the pages count it
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(64)


def text_of(answer: httpx.Response) -> str:
    """A page's text without its tags, spaces squeezed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", answer.text)))


async def post(client: httpx.AsyncClient, path: str, **fields: Any) -> httpx.Response:
    """Send a page's form with its CSRF token."""
    return await client.post(path, data={**fields, "_csrf_token": client.cookies.get("caliber_csrf") or ""})


async def as_user(client: httpx.AsyncClient, factory: Factory, role: Role, depots: list[Depot]) -> None:
    await login(client, (await factory.user(role, depots=depots)).user.username)


async def ledger_size(app: Litestar) -> int:
    async with app.state["ledger"].db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


async def queried(tracing: TracingService, item: Item) -> None:
    for step in ("domestic_check", "iarms_query"):
        await tracing.record_step(OPERATOR, item.code, StepIn(step))  # type: ignore[arg-type]


async def test_a_clerk_checks_queries_and_sends_a_request_through_the_pages(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="KU 9/26", country_of_manufacture="YU")
    await factory.items.add_photo(OPERATOR, item.code, PNG_BYTES, "image/png")
    await as_user(client, factory, Role.DEPOT_CLERK, [depot])
    record = await client.get(f"/items/{item.code}")
    assert f'href="/tracing/weapons/{item.code}"' in record.text
    first = await client.get(f"/tracing/weapons/{item.code}")
    assert first.status_code == 200
    assert "Not started" in text_of(first)
    assert 'action="/tracing/weapons/' + item.code + '/exception"' not in first.text  # managers only, and it says so
    assert "only a depot manager or an admin may record an exception; you are a depot clerk" in text_of(first)
    done = await post(
        client, f"/tracing/weapons/{item.code}/steps", step="domestic_check", reference="MUP 12/26", finding="not in the register"
    )
    assert done.status_code in {302, 303}
    page = await client.get(done.headers["location"])
    assert "Step recorded." in page.text
    assert "MUP 12/26" in text_of(page)
    assert "not in the register" in text_of(page)
    await post(client, f"/tracing/weapons/{item.code}/steps", step="iarms_query", reference="IA-77")
    form = await client.get(f"/tracing/weapons/{item.code}")
    assert "Send a trace request" in form.text
    assert "KU 9/26" in form.text  # the case reference defaults to the weapon's
    assert "with 1 photo" in text_of(form)
    due = TODAY + dt.timedelta(days=30)
    sent = await post(client, f"/tracing/weapons/{item.code}/requests", recipient="country_of_manufacture", due=str(due))
    assert sent.status_code in {302, 303}, sent.text
    request_page = await client.get(sent.headers["location"])
    words = text_of(request_page)
    assert "Trace request recorded as sent." in words
    assert "due in 30 days" in words
    assert item.serial in words
    assert "YU" in words
    assert "/api/items/" + item.code + "/photos/" in request_page.text
    queue = text_of(await client.get("/tracing/"))
    assert "due in 30 days" in queue
    assert "Requests we sent, awaiting an answer (1)" in queue


async def test_bad_input_is_refused_in_words_and_nothing_is_written(app: Litestar, client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, intake_source=IntakeSource.FOUND)
    tracing: TracingService = app.state["tracing"]
    await queried(tracing, item)
    await as_user(client, factory, Role.DEPOT_MANAGER, [depot])
    before = await ledger_size(app)
    late = await post(client, f"/tracing/weapons/{item.code}/requests", recipient="interpol", sent_on=str(TODAY), due=str(TODAY))
    assert late.status_code == 422
    assert "the due day comes after the day it is sent" in text_of(late)
    no_due = await post(client, f"/tracing/weapons/{item.code}/requests", recipient="interpol", due="soon")
    assert no_due.status_code == 422
    assert "Due must be a date" in text_of(no_due)
    assert 'id="e-due"' in no_due.text
    unknown = await post(client, f"/tracing/weapons/{item.code}/steps", step="guessed")
    assert unknown.status_code == 422
    assert "Choose one of the listed steps" in text_of(unknown)
    early = await post(client, f"/tracing/weapons/{item.code}/steps", step="origin_not_established", finding="nothing")
    assert early.status_code == 409
    assert "only after a trace request was sent" in text_of(early)
    no_country = await post(client, f"/tracing/weapons/{item.code}/steps", step="origin_established")
    assert no_country.status_code == 422
    assert "name the country where the weapon was diverted" in text_of(no_country)
    amnesty = await post(client, f"/tracing/weapons/{item.code}/exception", reason="amnesty", explanation="campaign 2026")
    assert amnesty.status_code == 422
    assert "an amnesty waives tracing only for surrendered or collected weapons" in text_of(amnesty)
    assert await ledger_size(app) == before
    assert (await tracing.trace(OPERATOR, item.code)).requests == []


async def test_a_request_answered_after_its_due_day_shows_answered_late(app: Litestar, client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, case_reference="KU 3/26")
    tracing: TracingService = app.state["tracing"]
    await queried(tracing, item)
    new = NewRequest(Recipient.INTERPOL, TODAY - dt.timedelta(days=10), sent_on=TODAY - dt.timedelta(days=40))
    sent = await tracing.send_request(OPERATOR, item.code, new)
    await as_user(client, factory, Role.DEPOT_CLERK, [depot])
    open_page = text_of(await client.get(f"/tracing/requests/{sent.id}"))
    assert "10 days overdue" in open_page
    assert "⚠" in open_page
    home = text_of(await client.get("/"))
    assert "1 trace request is overdue" in home
    empty = await post(client, f"/tracing/requests/{sent.id}/response", answer=" ")
    assert empty.status_code == 422
    assert "Answer is required" in text_of(empty)
    answered = await post(
        client, f"/tracing/requests/{sent.id}/response", answer="exported to X in 1999", received_on=str(TODAY - dt.timedelta(days=2))
    )
    assert answered.status_code in {302, 303}
    words = text_of(await client.get(f"/tracing/requests/{sent.id}"))
    assert "answered late, 8 days after it was due" in words
    assert "exported to X in 1999" in words
    assert "Record the answer" not in words
    assert "overdue" not in text_of(await client.get("/"))
    again = await post(client, f"/tracing/requests/{sent.id}/response", answer="twice")
    assert again.status_code == 409


async def test_an_incoming_request_is_registered_searched_and_answered(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    held = await factory.item(depot, manufacturer="Zastava", serial="AK-5521")
    await factory.item(depot, manufacturer="Zastava", serial="OTHER-1")
    await as_user(client, factory, Role.DEPOT_CLERK, [depot])
    refused = await post(client, "/tracing/incoming/new", depot_id=str(depot.id), requesting_state="austria", due="2099-01-01")
    assert refused.status_code == 422
    words = text_of(refused)
    assert "Serial is required" in words
    assert "Their reference is required" in words
    assert "Requesting state must be a two-letter code" in words
    fields = {"depot_id": str(depot.id), "requesting_state": "at", "their_reference": "BK-42", "due": "2099-01-01"}
    registered = await post(client, "/tracing/incoming/new", **fields, serial="5521", manufacturer="Crvena Zastava")
    assert registered.status_code in {302, 303}, registered.text
    page = await client.get(registered.headers["location"])
    assert page.status_code == 200
    assert "Request registered." in page.text
    assert f'value="{held.code}"' in page.text  # the maker's other spelling and part of the serial find it
    assert "OTHER-1" not in page.text
    incoming_id = registered.headers["location"].split("/")[-1].split("?")[0]
    answered = await client.post(
        f"/tracing/incoming/{incoming_id}/answer",
        data={"codes": [held.code], "answer": "held since 2019", "_csrf_token": client.cookies.get("caliber_csrf") or ""},
    )
    assert answered.status_code in {302, 303}, answered.text
    done = await client.get(f"/tracing/incoming/{incoming_id}")
    assert "held since 2019" in done.text
    assert f"/ledger/timeline?subject={held.code}" in done.text
    assert "answered on" in text_of(done)


async def test_staff_of_another_depot_are_refused_and_do_not_see_it(app: Litestar, client: httpx.AsyncClient, factory: Factory) -> None:
    depot, other = await factory.depot(), await factory.depot()
    item = await factory.item(depot)
    tracing: TracingService = app.state["tracing"]
    await queried(tracing, item)
    sent = await tracing.send_request(
        OPERATOR,
        item.code,
        NewRequest(Recipient.INTERPOL, TODAY - dt.timedelta(days=1), sent_on=TODAY - dt.timedelta(days=5), case_reference="K"),
    )
    incoming = await tracing.register_incoming(
        OPERATOR,
        NewIncoming(depot.id, "AT", "BK-9", TODAY - dt.timedelta(days=1), IdentifiersIn("X9"), received_on=TODAY - dt.timedelta(days=3)),
    )
    await as_user(client, factory, Role.DEPOT_CLERK, [other])
    for path in (f"/tracing/weapons/{item.code}", f"/tracing/requests/{sent.id}", f"/tracing/incoming/{incoming.id}"):
        answer = await client.get(path)
        assert answer.status_code == 403, path
        assert f"you are not assigned to depot {depot.code}" in text_of(answer)
    assert (await post(client, f"/tracing/weapons/{item.code}/steps", step="domestic_check")).status_code == 403
    assert (await post(client, f"/tracing/incoming/{incoming.id}/answer", answer="none")).status_code == 403
    queue = text_of(await client.get("/tracing/"))
    assert "No request awaits an answer." in queue
    assert "No request from another state is open." in queue
    assert "overdue" not in text_of(await client.get("/"))
    client.cookies.clear()
    await as_user(client, factory, Role.DEPOT_CLERK, [depot])
    assert "2 trace requests are overdue" in text_of(await client.get("/"))


async def test_readers_read_without_forms_and_surplus_is_not_traced(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    found = await factory.item(depot, intake_source=IntakeSource.FOUND)
    surplus = await factory.item(depot, intake_source=IntakeSource.SURPLUS)
    await as_user(client, factory, Role.INSPECTOR, [])
    page = await client.get(f"/tracing/weapons/{found.code}")
    assert page.status_code == 200
    assert "<form" not in page.text.split("<main", 1)[1].split("</main>", 1)[0].replace('<form method="post" action="/logout"', "")
    assert "You read this trace" in page.text
    assert (await client.get("/tracing/incoming/new")).status_code == 403
    assert "/tracing/weapons/" + surplus.code not in (await client.get(f"/items/{surplus.code}")).text
    client.cookies.clear()
    await as_user(client, factory, Role.DEPOT_MANAGER, [depot])
    known = text_of(await client.get(f"/tracing/weapons/{surplus.code}"))
    assert "weapons from surplus have a known origin and are not traced" in known
    listed = text_of(await client.get("/tracing/"))
    assert found.serial in listed
    assert surplus.serial not in listed


async def test_a_manager_concludes_with_the_country_and_the_trace_ends(app: Litestar, client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="KU 8/26")
    tracing: TracingService = app.state["tracing"]
    await queried(tracing, item)
    await as_user(client, factory, Role.DEPOT_MANAGER, [depot])
    done = await post(
        client, f"/tracing/weapons/{item.code}/steps", step="origin_established", origin_country="rs", finding="stolen from the reserve"
    )
    assert done.status_code in {302, 303}, done.text
    page = text_of(await client.get(f"/tracing/weapons/{item.code}"))
    assert "Origin established" in page
    assert "Diverted in RS" in page
    assert "The trace is concluded: nothing more is recorded on it." in page
    assert "Record the exception" not in page
    again = await post(client, f"/tracing/weapons/{item.code}/exception", reason="undue_delay", explanation="too late")
    assert again.status_code == 409
    assert "the trace is concluded" in text_of(again)


async def test_the_weapons_to_trace_page_by_keyset(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    news = [factory.new_item(depot, intake_source=IntakeSource.FOUND, serial=f"PAGED-{n:03d}") for n in range(54)]
    voided = (await factory.items.register_items(OPERATOR, news))[-1]
    await factory.items.change_status(OPERATOR, "item", voided.code, StatusChange(Action.VOID, "entered twice"))
    await as_user(client, factory, Role.DEPOT_CLERK, [depot])
    first = await client.get("/tracing/")
    shown = set(re.findall(r"PAGED-\d{3}", first.text))
    assert len(shown) == 50
    after = re.search(r'href="/tracing/\?after=([0-9a-f-]{36})#to-trace"', first.text)
    assert after is not None
    second = await client.get(f"/tracing/?after={after.group(1)}")
    rest = set(re.findall(r"PAGED-\d{3}", second.text))
    assert len(rest) == 3
    assert shown | rest == {f"PAGED-{n:03d}" for n in range(53)}
    assert "?after=" not in second.text
