"""Alembic environment: Caliber's metadata over its async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from caliber.db import create_engine
from caliber.models import include_object, metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=connection.dialect.name != "sqlite",
        render_as_batch=connection.dialect.name == "sqlite",
        user_module_prefix="advanced_alchemy.types.",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(config.attributes["database_url"])
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Caliber runs migrations online only: use `caliber db upgrade`.")
asyncio.run(_run_online())
