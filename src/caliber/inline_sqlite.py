"""SQLite connections for SQLAlchemy's async engine that run each statement in place, on the event loop's thread.

SQLAlchemy's ``sqlite+aiosqlite`` dialect talks to the driver through aiosqlite's
interface; aiosqlite hands every call to a thread of its own and back. On a
busy server that hand-off is the cost: each round trip waits for the event
loop to come round again, about a millisecond under load, and a write
transaction of fifteen statements held SQLite's one write lock for tens of
milliseconds while the loop served other requests. An indexed statement on a
local file takes tens of microseconds; run in place, a whole write transaction
runs without letting go of the loop, and the lock is held only as long as
the work takes.

:class:`InlineConnection` offers the part of aiosqlite's interface that
SQLAlchemy's adapter uses, over a plain :mod:`sqlite3` connection. The one
wait that must not block the loop, another process holding the write lock
(a command-line import while the server runs), is a retry with
``asyncio.sleep`` until the busy timeout, instead of SQLite's own sleeping
busy handler.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["InlineConnection", "connect"]

_FIRST_WAIT_S = 0.001
_LONGEST_WAIT_S = 0.005


def _busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


async def _patiently(call: Callable[[], Any], timeout_s: float) -> Any:
    """``call()``, again after short asynchronous waits while the database is locked by another connection."""
    deadline = time.monotonic() + timeout_s
    wait = _FIRST_WAIT_S
    while True:
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(wait)
        wait = min(wait * 2, _LONGEST_WAIT_S)


class InlineCursor:
    """An aiosqlite-shaped cursor over a :mod:`sqlite3` cursor."""

    __slots__ = ("_cursor", "_timeout_s")

    def __init__(self, cursor: sqlite3.Cursor, timeout_s: float) -> None:
        self._cursor = cursor
        self._timeout_s = timeout_s

    async def __aenter__(self) -> InlineCursor:
        return self

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        await _patiently(lambda: self._cursor.execute(sql, parameters), self._timeout_s)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        rows = parameters if isinstance(parameters, list | tuple) else list(parameters)  # a retry reads them again
        await _patiently(lambda: self._cursor.executemany(sql, rows), self._timeout_s)
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def nextset(self) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _InPlace:
    """aiosqlite's queue of calls for its thread, as SQLAlchemy's adapter uses it: here each call runs at once."""

    __slots__ = ()

    def put_nowait(self, job: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = job
        try:
            result = function()
        except Exception as exc:  # noqa: BLE001 (handed to whoever awaits the future)
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection:
    """An aiosqlite-shaped connection over a :mod:`sqlite3` connection, every call run in place."""

    def __init__(self, connection: sqlite3.Connection, timeout_s: float) -> None:
        self._conn: sqlite3.Connection | None = connection
        self._tx = _InPlace()
        self._timeout_s = timeout_s

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._open().cursor(), self._timeout_s)

    async def commit(self) -> None:
        connection = self._open()
        await _patiently(connection.commit, self._timeout_s)

    async def rollback(self) -> None:
        self._open().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open().create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close now (SQLAlchemy's terminate)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def connect(path: str, timeout_s: float) -> Callable[[], Any]:
    """An ``async_creator`` for :func:`sqlalchemy.ext.asyncio.create_async_engine` on the SQLite file ``path``.

    SQLite's own busy handler is off on these connections (it would sleep on the event loop's thread); a locked
    database is waited for asynchronously, up to ``timeout_s``.
    """

    async def create() -> InlineConnection:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        return InlineConnection(connection, timeout_s)

    return create
