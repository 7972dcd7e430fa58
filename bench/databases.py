"""Scratch databases for the benchmarks: a migrated SQLite file in a temporary folder, a migrated PostgreSQL database dropped after."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from caliber import migrate

__all__ = ["scratch_postgres", "scratch_sqlite"]


@asynccontextmanager
async def scratch_sqlite(name: str) -> AsyncIterator[tuple[str, Path]]:
    """The URL of a migrated SQLite file ``name`` and its folder, both gone afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / name}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield url, Path(folder)


@asynccontextmanager
async def scratch_postgres(server: str) -> AsyncIterator[str]:
    """The asyncpg URL of a new migrated database on the server of ``server`` (a ``postgresql://`` URL), dropped afterwards."""
    name = f"caliber_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = server.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0] + f"/{name}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
