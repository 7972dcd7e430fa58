"""The migrations and the models describe the same schema, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from caliber import migrate
from caliber.db import Database
from caliber.depots.models import Jurisdiction
from caliber.models import include_object, metadata


async def test_autogenerate_finds_no_difference(db: Database) -> None:
    def differences(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": not db.is_sqlite, "include_object": include_object})  # type: ignore[arg-type]
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_database_is_at_the_head_revision(db: Database) -> None:
    assert await migrate.current_revision(db.engine) == migrate.head_revision()


async def test_the_six_roadmap_jurisdictions_are_seeded(db: Database) -> None:
    async with db.read() as session:
        rows = {j.code: j for j in await session.scalars(select(Jurisdiction))}
    assert sorted(rows) == ["AL", "BA", "ME", "MK", "RS", "XK"]
    assert rows["XK"].name == "Kosovo*"
    assert "UNSCR 1244/1999" in (rows["XK"].footnote or "")
