"""label printers

Thermal printers an admin registers for a depot (``printer.registered``,
``printer.changed``): print jobs go only to these, never to an address a
request names.

Revision ID: 5d0c8a3e71f4
Revises: 0e72f2c7b964
Create Date: 2026-12-03 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "5d0c8a3e71f4"
down_revision: str | None = "0e72f2c7b964"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_printer",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("depot_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("size", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["depot_id"], ["depot.id"], name=op.f("fk_label_printer_depot_id_depot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_printer")),
        sa.UniqueConstraint("depot_id", "name", name=op.f("uq_label_printer_depot_id")),
    )
    op.create_index(op.f("ix_label_printer_depot_id"), "label_printer", ["depot_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_label_printer_depot_id"), table_name="label_printer")
    op.drop_table("label_printer")
