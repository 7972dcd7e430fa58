"""Search: partial serials through trigram indexes (SQLite FTS5, PostgreSQL pg_trgm), case references, makers.

Revision ID: ba92c0cdc53c
Revises: 58f7bcb44564
Create Date: 2026-11-28 11:15:31.935156
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "ba92c0cdc53c"
down_revision: str | None = "58f7bcb44564"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SQLITE_SEARCH = [
    # An external-content FTS5 table over item.serial_key, kept by triggers; the trigram tokenizer answers LIKE '%abc%'.
    "CREATE VIRTUAL TABLE item_serial_search USING fts5(serial_key, content='item', content_rowid='rowid', tokenize='trigram')",
    "INSERT INTO item_serial_search(rowid, serial_key) SELECT rowid, serial_key FROM item",
    "CREATE TRIGGER item_serial_search_insert AFTER INSERT ON item BEGIN "
    "INSERT INTO item_serial_search(rowid, serial_key) VALUES (new.rowid, new.serial_key); END",
    "CREATE TRIGGER item_serial_search_delete AFTER DELETE ON item BEGIN "
    "INSERT INTO item_serial_search(item_serial_search, rowid, serial_key) VALUES ('delete', old.rowid, old.serial_key); END",
    "CREATE TRIGGER item_serial_search_update AFTER UPDATE OF serial_key ON item BEGIN "
    "INSERT INTO item_serial_search(item_serial_search, rowid, serial_key) VALUES ('delete', old.rowid, old.serial_key); "
    "INSERT INTO item_serial_search(rowid, serial_key) VALUES (new.rowid, new.serial_key); END",
]
POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX item_serial_search_trgm ON item USING gin (serial_key gin_trgm_ops)",
]


def upgrade() -> None:
    op.create_index("ix_item_case_reference", "item", ["case_reference"], unique=False)
    op.create_index("ix_item_manufacturer", "item", ["manufacturer", "id"], unique=False)
    for statement in SQLITE_SEARCH if op.get_bind().dialect.name == "sqlite" else POSTGRES_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER item_serial_search_{name}")
        op.execute("DROP TABLE item_serial_search")
    else:
        op.execute("DROP INDEX item_serial_search_trgm")
    op.drop_index("ix_item_manufacturer", table_name="item")
    op.drop_index("ix_item_case_reference", table_name="item")
