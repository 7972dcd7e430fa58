"""The database layer: SQLite pragmas and write transactions that take the lock at BEGIN."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time

import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from caliber.db import AnyOf, Database, execute, insert_many, new_id, rows_in, sync_loaded
from caliber.inline_sqlite import InlineConnection
from caliber.items.models import Item
from caliber.labels.codes import make_code
from tests.factories import Factory


async def test_sqlite_runs_with_wal_and_foreign_keys(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas apply to the SQLite backend only")
    async with db.read() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await session.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL: a commit is on disk
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert isinstance(driver, InlineConnection)


async def test_a_writer_waits_for_another_process_lock_without_stopping_the_event_loop(db: Database) -> None:
    """SQLite's own busy handler would sleep on the loop's thread; the wait is asynchronous, and ends when the lock is free."""
    if not db.is_sqlite:
        pytest.skip("the inline SQLite driver is SQLite's")
    other = sqlite3.connect(str(db.engine.url.database), isolation_level=None)  # as a command-line import would hold it
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def writer() -> float:
        began = time.monotonic()
        async with db.write() as session:
            await session.execute(text("SELECT 1"))
        return time.monotonic() - began

    ticking = asyncio.create_task(ticker())
    waiting = asyncio.create_task(writer())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    assert ticks >= 10  # the loop went on serving while the writer waited
    other.commit()
    other.close()
    waited = await asyncio.wait_for(waiting, 5)
    ticking.cancel()
    assert waited >= 0.3


async def test_a_write_transaction_holds_the_lock_from_its_start(db: Database) -> None:
    """A second writer waits at BEGIN, not at its first write: writes never interleave."""
    order: list[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with db.write() as session:
            await session.execute(text("SELECT 1"))
            first_inside.set()
            order.append("first begins")
            await asyncio.sleep(0.3)
            order.append("first commits")

    async def second() -> None:
        await first_inside.wait()
        async with db.write() as session:
            order.append("second begins")
            await session.execute(text("SELECT 1"))

    if not db.is_sqlite:
        pytest.skip("BEGIN IMMEDIATE is SQLite's; PostgreSQL writers run side by side under row locks")
    await asyncio.gather(first(), second())
    assert order == ["first begins", "first commits", "second begins"]


async def test_a_failed_write_leaves_nothing_behind(db: Database) -> None:
    async def insert_then_fail() -> None:
        async with db.write() as session:
            await session.execute(text("INSERT INTO login_failure (key, at) VALUES ('x', CURRENT_TIMESTAMP)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await insert_then_fail()
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM login_failure"))).scalar() == 0


async def test_insert_many_writes_what_core_insert_writes(db: Database, factory: Factory) -> None:
    """The bulk insert's own parameter handling (GUIDs, times, defaults) reads back like Core's."""
    depot = await factory.depot()
    moment = dt.datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=dt.UTC)
    rows = [
        {
            "id": new_id(),
            "code": make_code("weapon", 90_000_000 + n),
            "kind": "weapon",
            "manufacturer": "Zastava",
            "model": "M70",
            "calibre": "7.62x39mm",
            "serial": f"S{n}",
            "serial_key": f"S{n}",
            "identity_key": f"k{n}",
            "un_type": "assault_rifle",
            "intake_source": "found",
            "condition": "unknown",
            "depot_id": depot.id,
            "location_id": None,
            "status": "awaiting_decision",
            "registered_at": moment,
            "status_changed_at": moment,
        }
        for n in range(3)
    ]
    async with db.write() as session:
        await insert_many(session, Item.__table__, rows[:2])
        await session.execute(insert(Item.__table__), rows[2:])
    async with db.read() as session:
        found = {item.code: item for item in await session.scalars(select(Item).order_by(Item.code))}
    assert len(found) == 3
    for row in rows:
        item = found[row["code"]]
        assert (item.id, item.depot_id, item.registered_at, item.marking_location) == (row["id"], depot.id, moment, "")
        assert item.created_at is not None


async def test_a_session_on_sqlite_takes_no_turn_of_the_event_loop(db: Database) -> None:
    """On a busy server each turn of the loop waits for everything else ready to run: a request that yields nowhere
    answers in one go."""
    if not db.runs_in_place:
        pytest.skip("asyncpg talks to PostgreSQL over a socket: its statements do wait for the loop")
    loop = asyncio.get_running_loop()
    turns = 0

    def tick() -> None:
        nonlocal turns
        turns += 1
        handle[0] = loop.call_soon(tick)

    handle = [loop.call_soon(tick)]
    await asyncio.sleep(0)
    before = turns
    async with db.read() as session:
        await session.execute(text("SELECT 1"))
    async with db.write() as session:
        await session.execute(text("SELECT 1"))
    rows = await db.fetch(select(Item.id).where(Item.code == bindparam("code")), code="0")
    handle[0].cancel()
    assert rows == []
    assert turns == before


_BY_CODES = select(Item.code, Item.serial).where(AnyOf(Item.code, "codes")).order_by(Item.code)
_SERIAL_OF = update(Item.__table__).where(Item.__table__.c.code == bindparam("record")).values(serial=bindparam("serial"))


async def test_any_of_binds_any_number_of_values_as_one_parameter(db: Database, factory: Factory) -> None:
    depot = await factory.depot()
    made = [await factory.item(depot) for _ in range(3)]
    codes = sorted(item.code for item in made)
    async with db.read() as session:
        for wanted in ([], codes[:1], codes, [*codes, "W-NOT-ISSUED", codes[0] + "X"]):
            found = await rows_in(session, _BY_CODES, codes=wanted)
            assert [row.code for row in found] == [c for c in codes if c in wanted]  # a longer code is not cut to match
    assert [row.code for row in await db.fetch(_BY_CODES, codes=codes[1:])] == codes[1:]
    with pytest.raises(KeyError, match="codes"):
        await db.fetch(_BY_CODES)


async def test_statements_on_the_driver_share_the_session_transaction(db: Database, factory: Factory) -> None:
    """What rows_in and execute run is rolled back with the transaction, and the session's own instances see it."""
    depot = await factory.depot()
    item = await factory.item(depot, serial="BEFORE-1")
    seen = []

    async def abandoned() -> None:
        async with db.write() as session:
            await execute(session, _SERIAL_OF, record=item.code, serial="DURING-1")
            seen.extend(row.serial for row in await rows_in(session, _BY_CODES, codes=[item.code]))
            raise RuntimeError("abandon the change")

    with pytest.raises(RuntimeError):
        await abandoned()
    assert seen == ["DURING-1"]
    async with db.write() as session:
        held = await session.get(Item, item.id)
        assert held is not None
        assert held.serial == "BEFORE-1"
        stamped = held.updated_at
        await execute(session, _SERIAL_OF, record=item.code, serial="AFTER-1")
        sync_loaded(session, Item, [(item.id, {"serial": "AFTER-1"})])
        assert held.serial == "AFTER-1"
        assert not session.dirty  # brought up to date as if loaded so: nothing for the ORM to write back
    assert [row.serial for row in await db.fetch(_BY_CODES, codes=[item.code])] == ["AFTER-1"]
    async with db.read() as session:
        changed = await session.get(Item, item.id)
        assert changed is not None
        assert changed.updated_at > stamped  # the column's own update default, computed for the statement


async def test_errors_on_the_driver_are_sqlalchemy_errors(db: Database, factory: Factory) -> None:
    """A unique key broken by a statement on the driver is an IntegrityError (409 in the API), and rolls back."""
    depot = await factory.depot()
    first, second = await factory.item(depot), await factory.item(depot)
    clash = update(Item.__table__).where(Item.__table__.c.code == bindparam("record")).values(code=bindparam("other"))

    async def clashing() -> None:
        async with db.write() as session:
            await rows_in(session, _BY_CODES, codes=[first.code])
            await execute(session, clash, record=first.code, other=second.code)

    with pytest.raises(IntegrityError):
        await clashing()
    assert [row.code for row in await db.fetch(_BY_CODES, codes=[first.code])] == [first.code]
