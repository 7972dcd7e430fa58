"""Engine, sessions, SQLite pragmas and the write-lock helpers.

Reads run in ordinary transactions. Every state change runs in a
:meth:`Database.write` transaction: on SQLite it starts with ``BEGIN
IMMEDIATE`` so the write lock is held from the first statement (two writers
never both read, then both try to upgrade and fail); the custody ledger relies
on that to append without gaps.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Column, Table, event, insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from uuid_utils.compat import uuid7

__all__ = ["Database", "create_engine", "insert_many", "new_id"]

WRITE_OPTION = "caliber_write"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def new_id() -> UUID:
    """A new time-ordered record key (UUIDv7, RFC 9562)."""
    return uuid7()


_INSERT_PLANS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[tuple[str, bool, Any]]]] = {}


async def insert_many(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) in one ``executemany``, with the columns' own bind processing.

    What Core's ``session.execute(insert(table), rows)`` does, without its
    generic per-row parameter assembly, which dominates bulk imports: the
    statement and each column's bind processor are worked out once per table
    and key set, and Python-side column defaults are computed once per call.
    """
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    keys = tuple(rows[0])
    plan = _INSERT_PLANS.get((dialect.name, table.name, keys))
    if plan is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        order = list(compiled.positiontup or [])
        steps = [(name, name in keys, table.c[name].type._cached_bind_processor(dialect)) for name in order]
        plan = _INSERT_PLANS.setdefault((dialect.name, table.name, keys), (str(compiled), steps))
    sql, steps = plan
    defaults = {name: _default_of(table.c[name]) for name, given, _ in steps if not given}
    values = [
        tuple(
            [
                (process(row[name] if given else defaults[name]) if process else (row[name] if given else defaults[name]))
                for name, given, process in steps
            ]
        )
        for row in rows
    ]
    await connection.exec_driver_sql(sql, values)  # type: ignore[arg-type]


def _default_of(column: Column[Any]) -> Any:
    default = column.default
    if default is None or getattr(default, "is_sentinel", False):
        return None
    if default.is_scalar:  # type: ignore[attr-defined]
        return default.arg  # type: ignore[attr-defined]
    if default.is_callable:  # type: ignore[attr-defined]
        return default.arg(None)  # type: ignore[attr-defined]
    raise ValueError(f"column {column.name} has a default insert_many cannot compute")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Engine for ``url`` with Caliber's connection set-up on SQLite."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Plan every statement for its own values: a generic plan cannot tell a rare LIKE '%serial%' (trigram index)
    # from a common one, and picks a full scan in key order. No JIT: compiling a report's statements took longer
    # (tens of milliseconds each) than running them over indexes.
    kwargs.setdefault("connect_args", {"server_settings": {"plan_cache_mode": "force_custom_plan", "jit": "off"}})
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Caliber issues BEGIN itself (below), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "synchronous=FULL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and its session factory, shared by the app and the CLI."""

    def __init__(self, engine: AsyncEngine, session_maker: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.engine = engine
        self.session_maker = session_maker or async_sessionmaker(engine, expire_on_commit=False)
        self._reader: Any = None
        self._reader_lock = asyncio.Lock()
        self._sqlite_reader: sqlite3.Connection | None = None
        self._sqlite_reader_lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; whatever it holds is rolled back at the end."""
        async with self.session_maker() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction, committed when the block ends without error.

        The write lock is taken at BEGIN on SQLite (``BEGIN IMMEDIATE``).
        """
        async with self.session_maker() as session:
            await session.connection(execution_options={WRITE_OPTION: True})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def fetch_immutable(self, sqlite_sql: str, postgres_sql: str, *params: Any) -> list[Any]:
        """Rows of one statement over rows that never change once written, in one round trip.

        No transaction and no pool bookkeeping: on SQLite one statement on a
        query-only connection of this process, run in place (an indexed read
        of a local file takes tens of microseconds, less than handing it to
        the driver's thread and back); on PostgreSQL a dedicated asyncpg
        connection of this process, opened on first use and again after a failure.
        """
        if self.is_sqlite:
            return self._sqlite_immutable(sqlite_sql, params)
        async with self._reader_lock:
            for attempt in (1, 2):
                try:
                    if self._reader is None or self._reader.is_closed():
                        self._reader = await asyncpg.connect(
                            self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                        )
                    return list(await self._reader.fetch(postgres_sql, *params))
                except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
                    self._reader = None
                    if attempt == 2:
                        raise
        return []  # pragma: no cover (the loop returns or raises)

    def _sqlite_immutable(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._sqlite_reader_lock:
            if self._sqlite_reader is None:
                path = self.engine.url.database
                if not path or path == ":memory:":
                    raise RuntimeError("immutable reads need a SQLite database file")
                reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                reader.execute("PRAGMA query_only=ON")
                reader.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                self._sqlite_reader = reader
            return self._sqlite_reader.execute(sql, params).fetchall()

    async def dispose(self) -> None:
        """Close every pooled connection and the readers (the engine stays usable)."""
        with self._sqlite_reader_lock:
            if self._sqlite_reader is not None:
                self._sqlite_reader.close()
                self._sqlite_reader = None
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        await self.engine.dispose()
