"""The ledger API: a checkpoint that verifies with the published key, entries and proofs that check out."""

from __future__ import annotations

import base64

import httpx

from caliber.accounts.models import Role
from caliber.ledger import merkle, note
from tests.factories import Factory


async def bearer(factory: Factory, role: Role = Role.INSPECTOR) -> dict[str, str]:
    user = await factory.user(role)
    return {"authorization": f"Bearer {await factory.token(user)}"}


async def test_the_checkpoint_verifies_with_the_published_key_and_covers_every_entry(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await factory.location(depot, "Room 1")
    headers = await bearer(factory)
    vkey = (await client.get("/api/ledger/key", headers=headers)).text.strip()
    signed = (await client.get("/api/ledger/checkpoint", headers=headers)).text
    checkpoint = note.parse_checkpoint(note.verify(signed, [vkey]))
    assert checkpoint.origin == "testserver.local/ledger"
    entries = (await client.get("/api/ledger/entries", headers=headers)).json()
    assert checkpoint.size == len(entries) == 3  # the depot, the location and the inspector
    leaves = [merkle.leaf_hash(base64.b64decode(e["data"])) for e in entries]
    assert checkpoint.root == merkle.root(leaves)
    assert [base64.b64decode(e["leaf_hash"]) for e in entries] == leaves


async def test_an_entry_comes_with_a_tlog_proof_that_verifies(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    for n in range(4):
        await factory.location(depot, f"Room {n}")
    headers = await bearer(factory)
    vkey = (await client.get("/api/ledger/key", headers=headers)).text.strip()
    entry = (await client.get("/api/ledger/entries/2", headers=headers)).json()
    header, _, signed = entry["tlog_proof"].partition("\n\n")
    lines = header.split("\n")
    assert lines[:2] == ["c2sp.org/tlog-proof@v1", "index 2"]
    checkpoint = note.parse_checkpoint(note.verify(signed, [vkey]))
    proof = [base64.b64decode(line) for line in lines[2:]]
    merkle.verify_inclusion(base64.b64decode(entry["leaf_hash"]), 2, checkpoint.size, proof, checkpoint.root)
    assert entry["event"]["seq"] == 2


async def test_consistency_proofs_link_two_checkpoints(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    headers = await bearer(factory)
    first = note.parse_checkpoint(note.split_note((await client.get("/api/ledger/checkpoint", headers=headers)).text)[0])
    for n in range(5):
        await factory.location(depot, f"Rack {n}")
    second = note.parse_checkpoint(note.split_note((await client.get("/api/ledger/checkpoint", headers=headers)).text)[0])
    body = (await client.get(f"/api/ledger/proof/consistency?old={first.size}&new={second.size}", headers=headers)).json()
    merkle.verify_consistency(first.size, second.size, [base64.b64decode(p) for p in body["proof"]], first.root, second.root)


async def test_out_of_range_requests_are_4xx(client: httpx.AsyncClient, factory: Factory) -> None:
    headers = await bearer(factory)
    assert (await client.get("/api/ledger/entries/99", headers=headers)).status_code == 404
    assert (await client.get("/api/ledger/proof/inclusion?index=5&size=2", headers=headers)).status_code == 422
    assert (await client.get("/api/ledger/proof/consistency?old=3&new=999", headers=headers)).status_code == 422
    assert (await client.get("/api/ledger/entries?start=-1", headers=headers)).status_code == 400


async def test_a_subject_timeline_lists_its_events_with_proofs_that_verify(client: httpx.AsyncClient, factory: Factory) -> None:
    from caliber.depots.schemas import DepotUpdate
    from tests.factories import OPERATOR

    depot = await factory.depot(name="First name")
    await factory.location(await factory.depot(), "Elsewhere")
    await factory.inventory.update_depot(OPERATOR, depot.id, DepotUpdate(name="Second name"))
    headers = await bearer(factory)
    vkey = (await client.get("/api/ledger/key", headers=headers)).text.strip()
    timeline = (await client.get(f"/api/ledger/subjects/depot:{depot.id}/timeline", headers=headers)).json()
    assert [e["event"]["type"] for e in timeline["entries"]] == ["depot.registered", "depot.changed"]
    checkpoint = note.parse_checkpoint(note.verify(timeline["checkpoint"], [vkey]))
    for entry in timeline["entries"]:
        proof = [base64.b64decode(p) for p in entry["proof"]]
        merkle.verify_inclusion(base64.b64decode(entry["leaf_hash"]), entry["index"], checkpoint.size, proof, checkpoint.root)
    page = (await client.get(f"/ledger/timeline?subject=depot:{depot.id}", headers=headers)).text
    assert "depot.changed" in page
    assert "First name → Second name" in page
    assert (await client.get("/api/ledger/subjects/depot:nothing/timeline", headers=headers)).status_code == 404
