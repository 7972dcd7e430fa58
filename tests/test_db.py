"""The database layer: SQLite pragmas and write transactions that take the lock at BEGIN."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from caliber.db import Database


async def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas apply to the SQLite backend only")
    async with db.read() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000


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
