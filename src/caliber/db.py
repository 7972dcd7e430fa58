"""Engine, sessions, SQLite pragmas and the write-lock helpers.

Reads run in ordinary transactions. Every state change runs in a
:meth:`Database.write` transaction: on SQLite it starts with ``BEGIN
IMMEDIATE`` so the write lock is held from the first statement (two writers
never both read, then both try to upgrade and fail); the custody ledger relies
on that to append without gaps.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg
from sqlalchemy import Boolean, Column, CompoundSelect, Executable, Select, String, Table, TypeDecorator, bindparam, event, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause
from uuid_utils.compat import uuid7

from caliber import inline_sqlite
from caliber.errors import Unavailable

__all__ = [
    "AnyOf",
    "AnyQuery",
    "AnySelect",
    "Database",
    "create_engine",
    "execute",
    "execute_many",
    "execute_sql",
    "insert_many",
    "new_id",
    "rows_in",
    "sync_loaded",
    "table_of",
]

WRITE_OPTION = "caliber_write"
_DRIVER = "caliber_driver"
"""Where a write session keeps its connection and the driver's, for :func:`rows_in` and the rest."""
_CONNECTION_LOST = ("08", "57")
"""PostgreSQL's classes of errors that end a connection: connection exception, operator intervention (shut down)."""
SQLITE_BUSY_TIMEOUT_MS = 15_000


def new_id() -> UUID:
    """A new time-ordered record key (UUIDv7, RFC 9562)."""
    return uuid7()


_INSERT_PLANS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[tuple[str, bool, Any]]]] = {}


def table_of(model: type[Any]) -> Table:
    """A mapped class's table (typed as the table it is)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


async def insert_many(session: AsyncSession, table: FromClause, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) into ``table`` (a model's ``__table__``) in one ``executemany``, with the
    columns' own bind processing.

    What Core's ``session.execute(insert(table), rows)`` does, without its
    generic per-row parameter assembly, which dominates bulk imports: the
    statement and each column's bind processor are worked out once per table
    and key set, and Python-side column defaults are computed once per call.
    """
    if not rows:
        return
    if not isinstance(table, Table):
        raise TypeError(f"insert_many inserts into a table, not {table!r}")
    connection, driver = await _connection_of(session)
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
    await _on_driver(connection, driver, sql, values, many=True)


def _default_of(column: Column[Any], default: Any = None) -> Any:
    """The value of a column's Python-side default (its insert default unless another, such as its ``onupdate``, is
    given)."""
    default = default if default is not None else column.default
    if default is None or getattr(default, "is_sentinel", False):
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)
    raise ValueError(f"column {column.name} has a default insert_many cannot compute")


class _Values(TypeDecorator[list[Any]]):
    """A list of plain values (text or integers) bound as one parameter: a JSON array on SQLite, an array on
    PostgreSQL."""

    impl = String
    cache_ok = True

    def __init__(self, item: Any) -> None:
        super().__init__()
        self.item = item

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(ARRAY(self.item) if dialect.name == "postgresql" else String())

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> Any:
        values = list(value or [])
        return values if dialect.name == "postgresql" else json.dumps(values)


_ROW_TYPE: Any = namedtuple  # its fields are known only when a statement is planned

AnyQuery: TypeAlias = Select[*tuple[Any, ...]]
"""A Core SELECT of any columns (one that can take more ``where`` clauses)."""
AnySelect: TypeAlias = AnyQuery | CompoundSelect[*tuple[Any, ...]]
"""A Core SELECT of any columns, or a UNION of them."""


class AnyOf(ColumnElement[bool]):
    """``column IN (values)`` with every value in one bound parameter named ``name``, so one compiled statement
    serves any number of values: ``column IN (SELECT value FROM json_each(?))`` on SQLite, ``column = ANY($1)``
    on PostgreSQL (which types the array from the column). For text and integer columns."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison already: no "= 1" after it where booleans are integers

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any], name: str) -> None:
        self.column = column
        item = String() if isinstance(column.type, String) else column.type  # no length: a longer value must not match cut short
        self.values = bindparam(name, type_=_Values(item))


@compiles(AnyOf, "sqlite")
def _any_of_sqlite(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} IN (SELECT value FROM json_each({compiler.process(element.values, **kw)}))"


@compiles(AnyOf, "postgresql")
def _any_of_postgresql(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.values, **kw)})"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Engine for ``url`` with Caliber's connection set-up on SQLite."""
    if url.startswith("sqlite"):
        path = _sqlite_file(make_url(url).database)
        if path:  # statements run in place, waits for a lock asynchronously (caliber.inline_sqlite)
            kwargs.setdefault("async_creator", inline_sqlite.connect(path, SQLITE_BUSY_TIMEOUT_MS / 1000))
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms=0 if path else SQLITE_BUSY_TIMEOUT_MS)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Plan every statement for its own values: a generic plan cannot tell a rare LIKE '%serial%' (trigram index)
    # from a common one, and picks a full scan in key order. No JIT: compiling a report's statements took longer
    # (tens of milliseconds each) than running them over indexes.
    kwargs.setdefault("connect_args", {"server_settings": {"plan_cache_mode": "force_custom_plan", "jit": "off"}})
    return create_async_engine(url, **kwargs)


def _sqlite_file(database: str | None) -> str | None:
    """The file of a SQLite URL's database; None for an in-memory one."""
    return database if database and database != ":memory:" else None


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Caliber issues BEGIN itself (below), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={busy_timeout_ms}",
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

    def __init__(self, engine: AsyncEngine, session_maker: Callable[[], AsyncSession] | None = None) -> None:
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

    @property
    def runs_in_place(self) -> bool:
        """Whether statements run in place on the event loop's thread (a SQLite file: :mod:`caliber.inline_sqlite`)."""
        return self.is_sqlite and _sqlite_file(self.engine.url.database) is not None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; whatever it holds is rolled back at the end."""
        async with self._session() as session:
            yield session

    @asynccontextmanager
    async def write(self, committed: Callable[[], None] | None = None) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction, committed when the block ends without error.

        The write lock is taken at BEGIN on SQLite (``BEGIN IMMEDIATE``). ``committed`` is called as soon as the
        commit returns, before the session closes (a cancellation during the close cannot skip it).
        """
        async with self._session() as session:
            connection = await session.connection(execution_options={WRITE_OPTION: True})
            session.info[_DRIVER] = (connection, (await connection.get_raw_connection()).driver_connection)
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                session.info.pop(_DRIVER, None)
            if committed is not None:
                committed()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """A session, closed at the end.

        SQLAlchemy's own ``async with session`` closes it in a task of its own, so that a cancellation cannot cut the
        close short: three turns of the event loop, each as long as everything else ready to run on a busy server.
        Where statements run in place (:attr:`runs_in_place`), nothing can interrupt the close, and it is awaited
        directly.
        """
        session = self.session_maker()
        try:
            yield session
        finally:
            if self.runs_in_place:
                await session.close()
            else:
                await session.__aexit__(None, None, None)

    async def fetch(self, statement: AnySelect, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of one Core SELECT with its ``bindparam`` values, typed as a session would type them, read as
        :meth:`fetch_sql` reads: for the lookups every request makes (who holds this token, what is this label).

        ``statement`` is built once (a module constant): its compiled form is kept by identity.
        """
        plan = _plan(statement, self.engine.dialect)
        return plan.rows(await self.fetch_sql(plan.sql, plan.sql, *plan.values(params)))

    async def fetch_sql(self, sqlite_sql: str, postgres_sql: str, *params: Any) -> list[Any]:
        """Rows of one statement, outside any transaction, in one round trip.

        One statement is its own snapshot: it sees what was committed when it
        began. No BEGIN, ROLLBACK or pool bookkeeping: on SQLite it runs on a
        query-only connection of this process, in place (an indexed read of a
        local file takes tens of microseconds, less than handing it to the
        driver's thread and back); on PostgreSQL on a dedicated asyncpg
        connection of this process, opened on first use and again after a failure.
        """
        if self.is_sqlite:
            return self._sqlite_read(sqlite_sql, params)
        async with self._reader_lock:
            for attempt in (1, 2):
                try:
                    if self._reader is None or self._reader.is_closed():
                        self._reader = await asyncpg.connect(
                            self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                        )
                    return list(await self._reader.fetch(postgres_sql, *params))
                except (OSError, asyncpg.InterfaceError, asyncpg.PostgresError) as exc:
                    if isinstance(exc, asyncpg.PostgresError) and str(exc.sqlstate)[:2] not in _CONNECTION_LOST:
                        raise
                    self._reader = None
                    if attempt == 2:
                        raise Unavailable() from exc
        return []  # pragma: no cover (the loop returns or raises)

    def _sqlite_read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._sqlite_reader_lock:
            if self._sqlite_reader is None:
                path = _sqlite_file(self.engine.url.database)
                if path is None:
                    raise RuntimeError("direct reads need a SQLite database file")
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


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for one dialect: its SQL, its parameters in order with their bind processing, and (for a
    SELECT) the result processing of each column."""

    statement: Executable
    sql: str
    binds: list[tuple[str, Any, Any]]
    results: list[Any]
    row: Callable[..., tuple[Any, ...]]

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect) -> _Plan:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        computed = {column.key: _Computed(column, column.default) for column in getattr(compiled, "insert_prefetch", [])}
        computed |= {column.key: _Computed(column, column.onupdate) for column in getattr(compiled, "update_prefetch", [])}
        named = [(name, compiled.binds[name]) for name in compiled.positiontup or []]
        binds = [
            (name, bind.type._cached_bind_processor(dialect), computed.get(name) or (_REQUIRED if bind.required else bind.value))
            for name, bind in named
        ]
        columns: Iterable[Any] = statement.selected_columns if isinstance(statement, Select | CompoundSelect) else []
        results = [column.type._cached_result_processor(dialect, None) for column in columns]
        keys = list(statement.selected_columns.keys()) if isinstance(statement, Select | CompoundSelect) else []
        return cls(statement, str(compiled), binds, results, _ROW_TYPE("Row", keys, rename=True)._make)

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for ``params`` (by name; a value written into the statement as its default), as
        the driver takes them."""
        values = [(params.get(name, fixed), process) for name, process, fixed in self.binds]
        values = [(value() if isinstance(value, _Computed) else value, process) for value, process in values]
        if missing := [name for (value, _), (name, _, _) in zip(values, self.binds, strict=True) if value is _REQUIRED]:
            raise KeyError(f"no value for the statement's parameters {', '.join(missing)}")
        return tuple([process(value) if process else value for value, process in values])

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        """The driver's rows typed as a session would type them, each a named tuple (``row.code``)."""
        make, results = self.row, self.results
        return [make([process(value) if process else value for process, value in zip(results, row, strict=True)]) for row in raw]


_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Computed:
    """A column's Python-side default (``updated_at``'s clock), computed for each use of a statement that leaves the
    column out."""

    column: Column[Any]
    default: Any

    def __call__(self) -> Any:
        return _default_of(self.column, self.default)


_PLANS: dict[tuple[str, int], _Plan] = {}


def _plan(statement: Executable, dialect: Dialect) -> _Plan:
    """The compiled form of a statement built once (a module constant), kept by the statement's identity."""
    plan = _PLANS.get((dialect.name, id(statement)))
    if plan is None or plan.statement is not statement:
        plan = _PLANS[(dialect.name, id(statement))] = _Plan.of(statement, dialect)
    return plan


async def rows_in(session: AsyncSession, statement: AnySelect, **params: Any) -> list[Any]:
    """Rows of one Core SELECT with its ``bindparam`` values, inside ``session``'s transaction, each a named tuple.

    For the statements every custody event runs (the ledger's head, the records a move names): what
    ``session.execute(statement)`` returns, without the ORM's and the engine's work on each call, which took ten
    times as long as the statement itself. ``statement`` is built once (a module constant).
    """
    connection, driver = await _connection_of(session)
    plan = _plan(statement, connection.dialect)
    return plan.rows(await _on_driver(connection, driver, plan.sql, plan.values(params), many=False))


async def execute_many(session: AsyncSession, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run a statement with ``bindparam`` values once per row, in one ``executemany`` inside ``session``'s transaction.

    What ``session.execute(statement, rows)`` does, without compiling, caching and assembling parameters again on each
    call: for the small writes every custody event makes (count upserts). ``statement`` is a module constant.
    """
    if not rows:
        return
    connection, driver = await _connection_of(session)
    plan = _plan(statement, connection.dialect)
    await _on_driver(connection, driver, plan.sql, [plan.values(row) for row in rows], many=True)


async def execute(session: AsyncSession, statement: Executable, **params: Any) -> None:
    """Run one statement with its ``bindparam`` values inside ``session``'s transaction (see :func:`execute_many`)."""
    await execute_many(session, statement, [params])


async def execute_sql(session: AsyncSession, sql: str, *values: Any) -> None:
    """Run one statement of the database's own SQL, with positional parameters, inside ``session``'s transaction on
    the driver's connection (for what Core does not say: PostgreSQL's ``unnest`` of array parameters)."""
    connection, driver = await _connection_of(session)
    await _on_driver(connection, driver, sql, values, many=False)


def sync_loaded(session: AsyncSession, model: type[Any], changes: Iterable[tuple[Any, Mapping[str, Any]]]) -> None:
    """After statements that changed rows past the ORM: bring the instances ``session`` already holds (by primary
    key) up to date with the ``{attribute: value}`` written, as if loaded so."""
    held = session.sync_session.identity_map
    for key, values in changes:
        instance = held.get(Session.identity_key(model, key))
        if instance is not None:
            for name, value in values.items():
                set_committed_value(instance, name, value)


async def _connection_of(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection and the driver's connection under it (kept for the length of a write transaction)."""
    if (held := session.info.get(_DRIVER)) is not None:
        return held  # type: ignore[no-any-return]
    connection = await session.connection()
    return connection, (await connection.get_raw_connection()).driver_connection


async def _on_driver(connection: AsyncConnection, driver: Any, sql: str, values: Any, *, many: bool) -> list[Any]:
    """Run compiled SQL on the driver's own connection, in the transaction SQLAlchemy began on it.

    Errors come out as SQLAlchemy's (``IntegrityError``, ``OperationalError``), as they would from
    ``exec_driver_sql``. A PostgreSQL connection that SQLAlchemy has not yet begun a transaction on takes the
    statement through SQLAlchemy, which begins it.
    """
    if isinstance(driver, inline_sqlite.InlineConnection):
        cursor = driver.cursor()
        try:
            if many:
                await cursor.executemany(sql, values)
                return []
            await cursor.execute(sql, values)
            return await cursor.fetchall()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, values, exc, sqlite3.Error) from exc
    if isinstance(driver, asyncpg.Connection) and driver.is_in_transaction():
        try:
            if many:
                await driver.executemany(sql, values)
                return []
            return list(await driver.fetch(sql, *values))
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresError) as exc:
            raise await _postgres_error(connection, sql, values, exc) from exc
    result = await connection.exec_driver_sql(sql, values)
    return list(result.all()) if result.returns_rows else []


async def _postgres_error(connection: AsyncConnection, sql: str, values: Any, exc: Exception) -> DBAPIError:
    """SQLAlchemy's error for an asyncpg one; a lost connection is invalidated, so the pool never hands it out again."""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, values, exc)
    sqlstate = str(getattr(exc, "sqlstate", "") or "")
    if not isinstance(exc, asyncpg.PostgresError) or sqlstate[:2] in _CONNECTION_LOST:
        await connection.invalidate(exc)
        return OperationalError(sql, values, exc, connection_invalidated=True)
    if sqlstate[:2] == "53":  # insufficient resources: disk full, out of memory, too many connections
        return OperationalError(sql, values, exc)
    return DBAPIError(sql, values, exc)
