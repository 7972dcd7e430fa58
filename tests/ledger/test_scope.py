"""The ledger's read scope: events only for those who read the records they concern; hashes for anyone."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.models import Role
from caliber.depots.models import Depot
from caliber.destruction import scope as destruction_scope
from caliber.destruction.models import Method
from caliber.destruction.schemas import NewDestruction
from caliber.destruction.service import DestructionService
from caliber.items import scope as inventory_scope
from caliber.labels.printers import PrinterRegister
from caliber.labels.schemas import NewPrinter, PrinterUpdate
from caliber.ledger import merkle, note
from caliber.ledger.scope import LedgerScope, SubjectScope
from caliber.ledger.store import Ledger, read_entries
from caliber.transfers.schemas import NewTransfer
from caliber.transfers.service import TransferService
from tests.factories import OPERATOR, Factory


async def bearer(factory: Factory, role: Role, depots: list[Depot] | None = None, **overrides: Any) -> dict[str, str]:
    user = await factory.user(role, depots, **overrides)
    return {"authorization": f"Bearer {await factory.token(user)}"}


async def entries(client: httpx.AsyncClient, headers: dict[str, str], **query: int) -> list[dict[str, Any]]:
    response = await client.get("/api/ledger/entries", params=query, headers=headers)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def shown(found: list[dict[str, Any]]) -> set[str]:
    """The subjects of the entries whose events came back."""
    return {subject for entry in found if entry["event"] for subject in entry["event"]["subjects"]}


async def test_a_clerk_reads_the_events_of_their_depot_and_only_the_hashes_of_another(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.depot(), await factory.depot()
    own, other = await factory.item(mine), await factory.item(theirs, serial="SECRET-77", court_order="K 12/26")
    clerk = await bearer(factory, Role.DEPOT_CLERK, [mine])
    response = await client.get("/api/ledger/entries", headers=clerk)
    found = response.json()
    assert own.code in shown(found)
    assert other.code not in shown(found)
    assert "SECRET-77" not in response.text
    assert "K 12/26" not in response.text
    withheld = [e for e in found if e["event"] is None]
    assert withheld
    assert all(e["data"] is None and e["leaf_hash"] for e in withheld)
    signed = (await client.get("/api/ledger/checkpoint", headers=clerk)).text
    checkpoint = note.parse_checkpoint(note.split_note(signed)[0])
    assert merkle.root([base64.b64decode(e["leaf_hash"]) for e in found]) == checkpoint.root  # the range still verifies


async def test_an_entry_out_of_scope_keeps_its_proof_and_loses_its_content(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.depot(), await factory.depot()
    other = await factory.item(theirs, serial="SECRET-78")
    clerk = await bearer(factory, Role.DEPOT_CLERK, [mine])
    inspector = await bearer(factory, Role.INSPECTOR)
    index = next(e["index"] for e in await entries(client, inspector) if other.code in e["event"]["subjects"])
    response = await client.get(f"/api/ledger/entries/{index}", headers=clerk)
    assert response.status_code == 200
    entry = response.json()
    assert entry["data"] is None
    assert entry["event"] is None
    assert "SECRET-78" not in response.text
    header, _, signed = entry["tlog_proof"].partition("\n\n")
    checkpoint = note.parse_checkpoint(note.split_note(signed)[0])
    proof = [base64.b64decode(line) for line in header.split("\n")[2:]]
    merkle.verify_inclusion(base64.b64decode(entry["leaf_hash"]), index, checkpoint.size, proof, checkpoint.root)
    assert (await client.get(f"/api/ledger/entries/{index}", headers=inspector)).json()["event"]["data"]["serial"] == "SECRET-78"


@pytest.mark.parametrize("path", ["/api/ledger/subjects/{}/timeline", "/ledger/timeline?subject={}"])
async def test_a_timeline_out_of_scope_is_not_found_like_an_unknown_subject(path: str, client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.depot(), await factory.depot()
    other = await factory.item(theirs)
    clerk = await bearer(factory, Role.DEPOT_CLERK, [mine])
    unknown = "1999999994"  # a valid code never issued
    for subject in (other.code, f"depot:{theirs.id}"):
        hidden = await client.get(path.format(subject), headers=clerk)
        missing = await client.get(path.format(unknown), headers=clerk)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text.replace(subject, unknown) == missing.text
    assert (await client.get(path.format(f"depot:{mine.id}"), headers=clerk)).status_code == 200


async def test_an_inspector_reads_only_the_depots_of_their_jurisdictions(client: httpx.AsyncClient, factory: Factory) -> None:
    albanian, serbian = await factory.depot(jurisdiction="AL"), await factory.depot(jurisdiction="RS")
    here, there = await factory.item(albanian), await factory.item(serbian, serial="SECRET-79")
    inspector = await bearer(factory, Role.INSPECTOR, jurisdictions=["AL"])
    response = await client.get("/api/ledger/entries", headers=inspector)
    assert here.code in shown(response.json())
    assert there.code not in shown(response.json())
    assert "SECRET-79" not in response.text
    assert (await client.get(f"/api/ledger/subjects/{there.code}/timeline", headers=inspector)).status_code == 404
    assert (await client.get(f"/api/ledger/subjects/depot:{serbian.id}/timeline", headers=inspector)).status_code == 404
    assert (await client.get(f"/api/ledger/subjects/{here.code}/timeline", headers=inspector)).status_code == 200
    everywhere = await bearer(factory, Role.MINISTRY_OFFICIAL)
    assert {here.code, there.code} <= shown(await entries(client, everywhere))


async def test_a_printer_is_read_by_whoever_reads_its_depot(client: httpx.AsyncClient, factory: Factory, ledger: Ledger) -> None:
    albanian, serbian = await factory.depot(jurisdiction="AL"), await factory.depot(jurisdiction="RS")
    new = NewPrinter(serbian.id, "Armoury desk", "10.20.30.40", "Zebra ZD421", 203, "2x1")
    printer = await PrinterRegister(ledger).register(OPERATOR, new)
    await PrinterRegister(ledger).change(OPERATOR, printer.id, PrinterUpdate(host="10.20.30.41"))
    subject, path = f"printer:{printer.id}", f"/api/ledger/subjects/printer:{printer.id}/timeline"
    for outside in (await bearer(factory, Role.INSPECTOR, jurisdictions=["AL"]), await bearer(factory, Role.DEPOT_MANAGER, [albanian])):
        response = await client.get("/api/ledger/entries", headers=outside)
        assert subject not in shown(response.json())
        assert "10.20.30.4" not in response.text
        assert (await client.get(path, headers=outside)).status_code == 404
    for inside in (await bearer(factory, Role.INSPECTOR, jurisdictions=["RS"]), await bearer(factory, Role.DEPOT_CLERK, [serbian])):
        assert subject in shown(await entries(client, inside))
        timeline = (await client.get(path, headers=inside)).json()
        assert [e["event"]["type"] for e in timeline["entries"]] == ["printer.registered", "printer.changed"]


async def test_a_transferred_item_brings_its_history_to_the_receiving_depot(
    client: httpx.AsyncClient, factory: Factory, transfers: TransferService
) -> None:
    sender, receiver = await factory.depot(), await factory.depot()
    item = await factory.item(sender)
    sent = await transfers.dispatch(OPERATOR, NewTransfer(sender.id, receiver.id, [item.code]))
    await transfers.receive(OPERATOR, sent.transfer.id, [item.code])
    receiving, sending = await bearer(factory, Role.DEPOT_CLERK, [receiver]), await bearer(factory, Role.DEPOT_MANAGER, [sender])
    timeline = (await client.get(f"/api/ledger/subjects/{item.code}/timeline", headers=receiving)).json()
    assert [e["event"]["type"] for e in timeline["entries"]] == ["item.registered", "transfer.dispatched", "transfer.received"]
    assert item.code in shown(await entries(client, receiving))
    transfer = f"transfer:{sent.transfer.id}"
    for headers in (receiving, sending):  # a transfer concerns both its depots
        assert (await client.get(f"/api/ledger/subjects/{transfer}/timeline", headers=headers)).status_code == 200
    assert (await client.get(f"/api/ledger/subjects/{item.code}/timeline", headers=sending)).status_code == 404


async def test_a_destruction_is_read_by_the_staff_of_its_depot(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    organiser, elsewhere = await factory.depot(), await factory.depot()
    plan = NewDestruction(organiser.id, "Foundry", dt.date(2030, 6, 1), [Method.SMELTING], "Decision 1/30", dt.date(2030, 5, 1), "Ministry")
    event = await destructions.plan(OPERATOR, plan)
    path = f"/api/ledger/subjects/{event.code}/timeline"
    assert (await client.get(path, headers=await bearer(factory, Role.DEPOT_MANAGER, [organiser]))).status_code == 200
    assert (await client.get(path, headers=await bearer(factory, Role.DEPOT_MANAGER, [elsewhere]))).status_code == 404


async def test_user_events_are_for_their_user_and_for_readers_of_the_whole_log(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    colleague = await factory.user(Role.DEPOT_CLERK, [depot], display_name="Colleague Person")
    me = await factory.user(Role.DEPOT_CLERK, [depot])
    mine = {"authorization": f"Bearer {await factory.token(me)}"}
    response = await client.get("/api/ledger/entries", headers=mine)
    assert f"user:{me.user.id}" in shown(response.json())
    assert f"user:{colleague.user.id}" not in shown(response.json())
    assert "Colleague Person" not in response.text
    assert (await client.get(f"/api/ledger/subjects/user:{colleague.user.id}/timeline", headers=mine)).status_code == 404
    witness = await bearer(factory, Role.WITNESS)
    assert f"depot:{depot.id}" in shown(await entries(client, witness))
    assert f"user:{colleague.user.id}" not in shown(await entries(client, witness))
    for headers in (await bearer(factory, Role.INSPECTOR), await bearer(factory, Role.ADMIN)):
        assert f"user:{colleague.user.id}" in shown(await entries(client, headers))
    in_albania = await bearer(factory, Role.INSPECTOR, jurisdictions=["AL"])
    assert f"user:{colleague.user.id}" not in shown(await entries(client, in_albania))


def test_the_rules_for_records_of_no_depot() -> None:
    from caliber.accounts.actor import Actor
    from caliber.ledger.scope import reads

    albania = Actor(None, "i", "I", Role.INSPECTOR, jurisdictions=frozenset({"AL"}))
    clerk = Actor(None, "c", "C", Role.DEPOT_CLERK)
    target_al, target_rs = SubjectScope(jurisdiction="AL"), SubjectScope(jurisdiction="RS")
    assert reads(albania, target_al)
    assert not reads(albania, target_rs)
    assert reads(albania, None)  # witness keys, layouts: no depot named
    assert not reads(clerk, None)
    assert not reads(clerk, target_al)
    assert not reads(clerk, SubjectScope.in_depots([]))  # a record no table holds


async def test_a_thousand_entries_are_filtered_with_a_few_statements(
    ledger: Ledger, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = await factory.depot(), await factory.depot()
    for depot in (mine, theirs):
        await factory.items.register_items(OPERATOR, [factory.new_item(depot) for _ in range(500)])
    await factory.lot(theirs)
    await factory.location(theirs, "Shelf")
    async with ledger.db.read() as session:
        events = [entry.event for entry in await read_entries(session, 0, await ledger.size())]
    assert len(events) > 1000
    from caliber.ledger.routes import SUBJECT_SCOPES

    clerk = await factory.actor(Role.DEPOT_CLERK, [mine])
    statements: list[str] = []
    for module in (inventory_scope, destruction_scope):
        monkeypatch.setattr(module, "rows_in", counting(module.rows_in, statements))
    monkeypatch.setattr(AsyncSession, "execute", counting(AsyncSession.execute, statements))
    readable = await LedgerScope(ledger.db, SUBJECT_SCOPES).readable(clerk, events)
    assert sorted(statements) == ["ammunition_lot", "item", "location"]  # one statement a table, however many entries
    registered = [e for e, ok in zip(events, readable, strict=True) if ok and e["type"] == "item.registered"]
    assert len(registered) == 500
    assert all(e["data"]["depot_id"] == str(mine.id) for e in registered)


def counting(run: Any, statements: list[str]) -> Any:
    """``run`` (a statement runner), noting the table each statement it runs reads."""

    async def counted(*args: Any, **kwargs: Any) -> Any:
        statements.append(args[1].selected_columns[0].table.name)
        return await run(*args, **kwargs)

    return counted
