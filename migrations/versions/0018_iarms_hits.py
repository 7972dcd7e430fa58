"""iARMS hits

The hits of iARMS queries linked to the weapons they concern (``trace.iarms_hit``): one row per iARMS
reference.

Revision ID: 3c5e9b1d7f20
Revises: 3c9e51d4a7b2
Create Date: 2026-12-04 21:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "3c5e9b1d7f20"
down_revision: str | None = "3c9e51d4a7b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "iarms_hit",
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("serial", sa.String(length=80), nullable=False),
        sa.Column("make", sa.String(length=120), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("calibre", sa.String(length=40), nullable=False),
        sa.Column("reporting_country", sa.String(length=2), nullable=False),
        sa.Column("reported_as", sa.String(length=16), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("queried_on", sa.Date(), nullable=False),
        sa.Column("matched_by", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["code"], ["item.code"], name=op.f("fk_iarms_hit_code_item")),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_iarms_hit")),
    )
    op.create_index(op.f("ix_iarms_hit_code"), "iarms_hit", ["code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_iarms_hit_code"), table_name="iarms_hit")
    op.drop_table("iarms_hit")
