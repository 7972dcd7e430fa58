"""The tracing API: a request sent and answered late, a request from abroad answered, refusals."""

from __future__ import annotations

import datetime as dt
import html

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.depots.schemas import DepotUpdate
from caliber.items.lifecycle import IntakeSource
from caliber.ledger.store import Ledger
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def _headers(factory: Factory, role: Role, depots: list[object]) -> dict[str, str]:
    return {"authorization": f"Bearer {await factory.token(await factory.user(role, depots=depots))}"}  # type: ignore[arg-type]


async def test_a_request_answered_late_is_overdue_in_the_queue_first(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="KU 7/26")
    clerk = await _headers(factory, Role.DEPOT_CLERK, [depot])
    for step in ("domestic_check", "iarms_query"):
        assert (await client.post(f"/api/tracing/weapons/{item.code}/steps", json={"step": step}, headers=clerk)).status_code == 200
    today = dt.datetime.now(dt.UTC).date()
    body = {"recipient": "interpol", "sent_on": str(today - dt.timedelta(days=40)), "due": str(today - dt.timedelta(days=10))}
    sent = await client.post(f"/api/tracing/weapons/{item.code}/requests", json=body, headers=clerk)
    assert sent.status_code == 201, sent.text
    assert sent.json()["case_reference"] == "KU 7/26"
    assert sent.json()["identifiers"]["serial"] == item.serial
    queue = (await client.get("/api/tracing/queue", headers=clerk)).json()
    assert [(r["id"], r["overdue"]) for r in queue["outgoing"]] == [(sent.json()["id"], True)]
    answered = await client.post(f"/api/tracing/requests/{sent.json()['id']}/response", json={"answer": "sold to X in 1999"}, headers=clerk)
    assert answered.status_code == 200, answered.text
    assert answered.json()["late"] is True
    assert (await client.get("/api/tracing/queue", headers=clerk)).json()["outgoing"] == []
    trace = (await client.get(f"/api/tracing/weapons/{item.code}", headers=clerk)).json()
    assert trace["state"] == "response_received"
    concluded = await client.post(
        f"/api/tracing/weapons/{item.code}/steps", json={"step": "origin_established", "origin_country": "RS"}, headers=clerk
    )
    assert concluded.status_code == 403
    assert "depot manager" in concluded.json()["detail"]
    timeline = (await client.get(f"/api/items/{item.code}/timeline", headers=clerk)).text
    assert "trace.request_answered" in timeline


async def test_an_incoming_request_is_answered_with_what_is_held(client: httpx.AsyncClient, factory: Factory) -> None:
    depot, other = await factory.depot(), await factory.depot()
    item = await factory.item(depot, serial="AB123")
    manager = await _headers(factory, Role.DEPOT_MANAGER, [depot])
    body = {
        "depot_id": str(depot.id),
        "requesting_state": "AT",
        "their_reference": "BK 5",
        "due": "2099-01-01",
        "identifiers": {"serial": "AB123"},
    }
    registered = await client.post("/api/tracing/incoming", json=body, headers=manager)
    assert registered.status_code == 201, registered.text
    incoming_id = registered.json()["id"]
    assert [i["id"] for i in (await client.get("/api/tracing/queue", headers=manager)).json()["incoming"]] == [incoming_id]
    outsider = await _headers(factory, Role.DEPOT_CLERK, [other])
    assert (await client.get(f"/api/tracing/incoming/{incoming_id}", headers=outsider)).status_code == 403
    answer = await client.post(
        f"/api/tracing/incoming/{incoming_id}/answer", json={"answer": "held", "codes": [item.code]}, headers=manager
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["codes"] == [item.code]
    again = await client.post(f"/api/tracing/incoming/{incoming_id}/answer", json={"answer": "held"}, headers=manager)
    assert again.status_code == 409


async def test_refusals_say_why(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    surplus = await factory.item(depot, intake_source=IntakeSource.SURPLUS)
    found = await factory.item(depot, intake_source=IntakeSource.FOUND, year_of_manufacture=1980)
    manager = await _headers(factory, Role.DEPOT_MANAGER, [depot])
    refused = await client.post(f"/api/tracing/weapons/{surplus.code}/steps", json={"step": "domestic_check"}, headers=manager)
    assert refused.status_code == 409
    assert "known origin" in refused.json()["detail"]
    early = await client.post(f"/api/tracing/weapons/{found.code}/steps", json={"step": "iarms_query"}, headers=manager)
    assert early.status_code == 409
    assert "after the domestic record check" in early.json()["detail"]
    amnesty = await client.post(
        f"/api/tracing/weapons/{found.code}/exception", json={"reason": "amnesty", "explanation": "x"}, headers=manager
    )
    assert amnesty.status_code == 422
    old = await client.post(
        f"/api/tracing/weapons/{found.code}/exception", json={"reason": "made_before_1946", "explanation": "x"}, headers=manager
    )
    assert old.status_code == 422
    assert "1980" in old.text
    clerk = await _headers(factory, Role.DEPOT_CLERK, [depot])
    excepting = await client.post(
        f"/api/tracing/weapons/{found.code}/exception", json={"reason": "undue_delay", "explanation": "x"}, headers=clerk
    )
    assert excepting.status_code == 403
    assert (await client.get(f"/api/tracing/weapons/{found.code}", headers=manager)).json()["state"] == "not_started"


async def test_the_weapons_page_tells_its_tracing_in_words(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="KU 9/26")
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot])
    headers = {"authorization": f"Bearer {await factory.token(clerk)}"}
    body = {"step": "domestic_check", "finding": "no record in the national register"}
    assert (await client.post(f"/api/tracing/weapons/{item.code}/steps", json=body, headers=headers)).status_code == 200
    iarms = {"step": "iarms_query"}
    assert (await client.post(f"/api/tracing/weapons/{item.code}/steps", json=iarms, headers=headers)).status_code == 200
    today = dt.datetime.now(dt.UTC).date()
    request = {"recipient": "interpol", "sent_on": str(today), "due": str(today + dt.timedelta(days=30))}
    assert (await client.post(f"/api/tracing/weapons/{item.code}/requests", json=request, headers=headers)).status_code == 201
    await login(client, clerk.user.username)
    page = html.unescape((await client.get(f"/items/{item.code}")).text)
    assert "Tracing: domestic check" in page
    assert "finding: no record in the national register" in page
    assert "Trace request sent to INTERPOL" in page


async def test_an_answer_to_another_state_names_only_weapons_of_the_depot_that_answers(
    client: httpx.AsyncClient, factory: Factory, ledger: Ledger
) -> None:
    """Staff of two depots, or an admin, answer a request registered for one depot with that depot's weapons only: a
    weapon of the other depot would show its label code to the first depot's staff on the request's page."""
    depot, other = await factory.depot(), await factory.depot()
    held = await factory.item(depot, serial="AB123")
    elsewhere = await factory.item(other, serial="AB123")
    body = {
        "depot_id": str(depot.id),
        "requesting_state": "AT",
        "their_reference": "BK 6",
        "due": "2099-01-01",
        "identifiers": {"serial": "AB123"},
    }
    for role in (Role.DEPOT_CLERK, Role.ADMIN):
        staff = await _headers(factory, role, [depot, other] if role is Role.DEPOT_CLERK else [])
        registered = await client.post("/api/tracing/incoming", json=body, headers=staff)
        assert registered.status_code == 201, registered.text
        answer_path = f"/api/tracing/incoming/{registered.json()['id']}/answer"
        size = await ledger.size()
        refused = await client.post(answer_path, json={"answer": "held", "codes": [held.code, elsewhere.code]}, headers=staff)
        assert refused.status_code == 422, refused.text
        assert elsewhere.code in refused.json()["detail"]
        assert "not in depot" in refused.json()["detail"]
        assert await ledger.size() == size
        answered = await client.post(answer_path, json={"answer": "held", "codes": [held.code]}, headers=staff)
        assert answered.status_code == 200, answered.text
        assert answered.json()["codes"] == [held.code]


async def test_a_request_from_another_state_is_not_registered_for_an_inactive_depot(
    client: httpx.AsyncClient, factory: Factory, ledger: Ledger
) -> None:
    """A closed depot answers no one: the service refuses it, as the form leaves it out."""
    depot = await factory.depot()
    await factory.inventory.update_depot(OPERATOR, depot.id, DepotUpdate(active=False))
    body = {
        "depot_id": str(depot.id),
        "requesting_state": "AT",
        "their_reference": "BK 7",
        "due": "2099-01-01",
        "identifiers": {"serial": "Z1"},
    }
    admin = await _headers(factory, Role.ADMIN, [])
    size = await ledger.size()
    refused = await client.post("/api/tracing/incoming", json=body, headers=admin)
    assert refused.status_code == 409, refused.text
    assert f"depot {depot.code} is inactive" in refused.json()["detail"]
    assert await ledger.size() == size
