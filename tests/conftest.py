"""Test set-up: every database test runs on SQLite, and on PostgreSQL when
``CALIBER_TEST_POSTGRES_URL`` is set (each run makes its own database and drops it).

Under ``CI=true`` a missing PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text, update

from caliber import migrate
from caliber.accounts.service import AccountService
from caliber.app import create_app
from caliber.config import Settings
from caliber.db import Database, create_engine
from caliber.depots.service import DepotService
from caliber.destruction.service import DestructionService
from caliber.domains import registry
from caliber.items.service import ItemService
from caliber.ledger import merkle
from caliber.ledger.audit import replay
from caliber.ledger.models import LedgerHead
from caliber.ledger.store import Ledger
from caliber.models import metadata
from caliber.stockchecks.service import StockCheckService
from caliber.transfers.service import TransferService
from tests.factories import Factory

POSTGRES_URL = os.environ.get("CALIBER_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
KEEP_TABLES = {"jurisdiction", "ledger_head"}  # seeded by the first migration
TEST_ORIGIN = "testserver.local/ledger"


def _backends() -> list[object]:
    reason = "CALIBER_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped"
    return ["sqlite", pytest.param("postgresql", marks=() if POSTGRES_URL or IN_CI else pytest.mark.skip(reason=reason))]


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture(scope="session", params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database of each backend, for the whole test session."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'caliber.db'}"
        in_thread(migrate.upgrade, url)
        yield url
        return
    if not POSTGRES_URL:
        pytest.fail("CI=true but CALIBER_TEST_POSTGRES_URL is not set: PostgreSQL tests cannot run")
    name = f"caliber_test_{secrets.token_hex(6)}"
    run_sync(admin_sql(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    url = Settings.from_env({"CALIBER_DATABASE_URL": f"{base}/{name}", "CALIBER_SECRET_KEY": "x" * 32}, create=False).database_url
    try:
        in_thread(migrate.upgrade, url)
        yield url
    finally:
        run_sync(admin_sql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def admin_sql(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def in_thread(function: Callable[..., None], *args: Any) -> None:
    """Call ``function`` in a thread of its own: it may start an event loop even while the tests' loop runs."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(function, *args).result()


def run_sync(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` to the end from synchronous code."""
    in_thread(asyncio.run, coroutine)


@pytest.fixture(scope="session")
async def session_db(database_url: str) -> AsyncIterator[Database]:
    """One engine per backend for the whole session."""
    db = Database(create_engine(database_url))
    yield db
    await db.dispose()


@pytest.fixture
async def db(session_db: Database) -> AsyncIterator[Database]:
    """The backend's database, emptied after each test (reference data stays)."""
    yield session_db
    tables = [table.name for table in reversed(metadata.sorted_tables) if table.name not in KEEP_TABLES]
    async with session_db.write() as session:
        if session_db.is_sqlite:
            for name in tables:
                await session.execute(text(f'DELETE FROM "{name}"'))
        else:
            await session.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in tables) + " CASCADE"))
        await session.execute(update(LedgerHead).values(size=0, root=merkle.EMPTY_ROOT, last_leaf=None))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a test deployment in a fresh data dir."""
    env = {
        "CALIBER_DATA_DIR": str(tmp_path / "data"),
        "CALIBER_DATABASE_URL": database_url,
        "CALIBER_BASE_URL": "http://testserver.local",
        "CALIBER_SECRET_KEY": "test-secret-" + "k" * 32,
        "CALIBER_LOG_ORIGIN": TEST_ORIGIN,
    }
    return Settings.from_env(env)


@pytest.fixture
def app(settings: Settings, db: Database) -> Litestar:
    """The web application over the test database."""
    return create_app(settings, database=db)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app in the test's own event loop (cookies kept between requests).

    Litestar's test client runs the app in another thread's loop, which cannot
    share the session's pooled database connections.
    """
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        yield http


@pytest.fixture
def ledger(db: Database) -> Ledger:
    """The custody ledger over the test database."""
    return Ledger(db, TEST_ORIGIN, registry())


@pytest.fixture
def accounts(ledger: Ledger) -> AccountService:
    """The accounts service over the test database."""
    return AccountService(ledger)


@pytest.fixture
def inventory(ledger: Ledger) -> DepotService:
    """The depots service over the test database."""
    return DepotService(ledger)


@pytest.fixture
def items(ledger: Ledger, settings: Settings) -> ItemService:
    """The items and lots service over the test database (photos in the test deployment's data dir)."""
    return ItemService(ledger, settings.data_dir / "photos")


@pytest.fixture
def transfers(ledger: Ledger, items: ItemService) -> TransferService:
    """Transfers between depots over the test database."""
    return TransferService(ledger, items)


@pytest.fixture
def destructions(ledger: Ledger, items: ItemService, settings: Settings) -> DestructionService:
    """Destruction events over the test database (photos in the test deployment's data dir)."""
    return DestructionService(ledger, items, settings.data_dir / "photos", settings.zone)


@pytest.fixture
def stockchecks(ledger: Ledger) -> StockCheckService:
    """Stock checks over the test database."""
    return StockCheckService(ledger)


@pytest.fixture
def factory(accounts: AccountService, inventory: DepotService, items: ItemService) -> Factory:
    """Builds depots, locations, users, items and lots through the services."""
    return Factory(accounts, inventory, items)


@pytest.fixture(scope="session")
def empty_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database file to copy for replays."""
    path = tmp_path_factory.mktemp("replay") / "empty.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return path


async def replay_differences(db: Database, empty_sqlite: Path, folder: Path) -> list[object]:
    """What ``caliber ledger check`` finds: the ledger replayed into an empty database, compared with ``db``."""
    copy = folder / f"replay-{secrets.token_hex(4)}.db"
    await asyncio.to_thread(shutil.copyfile, empty_sqlite, copy)
    empty = Database(create_engine(f"sqlite+aiosqlite:///{copy}"))
    try:
        return list(await replay(db, empty, registry()))
    finally:
        await empty.dispose()


@pytest.fixture
async def ledger_checked(db: Database, empty_sqlite: Path, tmp_path: Path) -> AsyncIterator[None]:
    """After the test, the ledger replays into exactly the live state tables (``caliber ledger check``)."""
    yield
    differences = await replay_differences(db, empty_sqlite, tmp_path)
    assert differences == [], "\n".join(map(str, differences))
