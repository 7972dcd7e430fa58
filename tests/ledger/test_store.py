"""The ledger store: events recorded with state changes, the chains, stored subtrees, proofs."""

from __future__ import annotations

import asyncio
import base64
import itertools
from uuid import UUID

import pytest
from sqlalchemy import select

from caliber.accounts.models import Role
from caliber.db import Database
from caliber.depots.events import DepotRegistered
from caliber.depots.models import DepotKind
from caliber.depots.schemas import DepotUpdate
from caliber.errors import Conflict
from caliber.ledger import canonical, merkle, store
from caliber.ledger.models import LedgerHead
from caliber.ledger.store import Ledger
from tests.factories import OPERATOR, Factory


async def all_entries(db: Database) -> list[store.Entry]:
    async with db.read() as session:
        size = await session.scalar(select(LedgerHead.size))
        return await store.read_entries(session, 0, int(size or 0))


async def test_each_change_is_one_event_with_the_envelope(db: Database, factory: Factory) -> None:
    depot = await factory.depot(code="RS-LOG-1")
    await factory.inventory.update_depot(OPERATOR, depot.id, DepotUpdate(name="Renamed"))
    await factory.inventory.update_depot(OPERATOR, depot.id, DepotUpdate(name="Renamed"))  # no change: no event
    entries = await all_entries(db)
    assert [e.event["type"] for e in entries] == ["depot.registered", "depot.changed"]
    first, second = (e.event for e in entries)
    assert set(first) == {"v", "log", "seq", "time", "actor", "type", "subjects", "data", "prev", "subject_prev"}
    assert first["log"] == "testserver.local/ledger"
    assert first["actor"] == {"id": None, "name": "cli:tests", "role": "admin"}
    assert (first["seq"], first["prev"], first["subject_prev"]) == (0, None, {})
    assert second["prev"] == base64.b64encode(entries[0].leaf_hash).decode()
    assert second["subject_prev"] == {f"depot:{depot.id}": 0}
    assert second["data"]["changes"] == {"name": {"old": depot.name, "new": "Renamed"}}


async def test_a_refused_change_writes_no_event(db: Database, factory: Factory) -> None:
    await factory.depot(code="RS-DUP-1")
    with pytest.raises(Conflict):
        await factory.depot(code="RS-DUP-1")
    assert len(await all_entries(db)) == 1


async def test_stored_entries_are_canonical_and_the_head_root_is_the_merkle_root(db: Database, factory: Factory) -> None:
    depot = await factory.depot()
    for n in range(6):
        await factory.location(depot, f"Room {n}")
    await factory.user(Role.DEPOT_MANAGER, depots=[depot])
    entries = await all_entries(db)
    for entry in entries:
        assert canonical.encode(canonical.check(entry.data)) == entry.data
    async with db.read() as session:
        head = await session.get(LedgerHead, store.HEAD_ID)
        assert head is not None
        assert head.size == len(entries) == 8
        assert head.root == merkle.root([e.leaf_hash for e in entries])
        assert await store.root_at(session, 5) == merkle.root([e.leaf_hash for e in entries[:5]])


async def test_proofs_from_the_store_verify(db: Database, factory: Factory) -> None:
    depot = await factory.depot()
    for n in range(12):
        await factory.location(depot, f"Shelf {n}")
    entries = await all_entries(db)
    leaves = [e.leaf_hash for e in entries]
    size = len(leaves)
    async with db.read() as session:
        for index in range(size):
            proof = await store.inclusion_proof(session, index, size)
            merkle.verify_inclusion(leaves[index], index, size, proof, merkle.root(leaves))
        for size1 in range(size + 1):
            proof = await store.consistency_proof(session, size1, size)
            merkle.verify_consistency(size1, size, proof, merkle.root(leaves[:size1]), merkle.root(leaves))


async def test_batched_events_share_one_transaction(db: Database, ledger: Ledger) -> None:
    async with ledger.write(OPERATOR) as tx:
        for n in range(50):
            depot_id = UUID(f"00000000-0000-7000-8000-{n:012d}")
            event = DepotRegistered(id=depot_id, code=f"B-{n}", name="Batch", kind=DepotKind.ARMY_DEPOT, jurisdiction="AL", address="")
            await tx.record(event, [f"depot:{depot_id}"])
    entries = await all_entries(db)
    assert [e.index for e in entries] == list(range(50))
    assert [e.event["seq"] for e in entries] == list(range(50))


async def test_concurrent_writers_make_one_contiguous_chain(db: Database, factory: Factory) -> None:
    depot = await factory.depot()

    async def writer(n: int) -> None:
        for k in range(5):
            await factory.location(depot, f"W{n}-{k}")

    await asyncio.gather(*(writer(n) for n in range(16)))
    entries = await all_entries(db)
    assert [e.index for e in entries] == list(range(81))
    for previous, entry in itertools.pairwise(entries):
        assert entry.event["prev"] == base64.b64encode(previous.leaf_hash).decode()
    async with db.read() as session:
        head = await session.get(LedgerHead, store.HEAD_ID)
        assert head is not None
        assert head.root == merkle.root([e.leaf_hash for e in entries])


async def test_proofs_for_readers_match_the_proofs_inside_a_transaction(db: Database, factory: Factory) -> None:
    depot = await factory.depot()
    for n in range(9):
        await factory.location(depot, f"Bin {n}")
    entries = await all_entries(db)
    size = len(entries)
    async with db.read() as session:
        for index in range(size):
            assert await store.prove_inclusion(db, index, size) == await store.inclusion_proof(session, index, size)
        for old in range(size + 1):
            assert await store.prove_consistency(db, old, size) == await store.consistency_proof(session, old, size)
