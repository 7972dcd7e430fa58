"""tracing

The trace of each weapon (``trace.step_recorded``, ``trace.excepted``), trace
requests sent about weapons and their answers (``trace.request_sent``,
``trace.request_answered``), and requests from other states
(``trace.incoming_registered``, ``trace.incoming_answered``).

Revision ID: 7a41c9e2d0b6
Revises: 5d0c8a3e71f4
Create Date: 2026-12-10 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "7a41c9e2d0b6"
down_revision: str | None = "5d0c8a3e71f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audit() -> list[sa.Column[int]]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "weapon_trace",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("exception_reason", sa.String(length=32), nullable=True),
        sa.Column("origin_country", sa.String(length=2), nullable=True),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("changed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["code"], ["item.code"], name=op.f("fk_weapon_trace_code_item")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_weapon_trace")),
    )
    op.create_table(
        "trace_request",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("addressee", sa.String(length=200), nullable=False),
        sa.Column("case_reference", sa.String(length=120), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_by", sa.String(length=200), nullable=False),
        sa.Column("sent_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(["code"], ["item.code"], name=op.f("fk_trace_request_code_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_request")),
    )
    op.create_index(op.f("ix_trace_request_code"), "trace_request", ["code"], unique=False)
    op.create_index("ix_trace_request_status_due", "trace_request", ["status", "due"], unique=False)
    op.create_table(
        "incoming_trace",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("depot_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("requesting_state", sa.String(length=2), nullable=False),
        sa.Column("their_reference", sa.String(length=120), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("answered_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(["depot_id"], ["depot.id"], name=op.f("fk_incoming_trace_depot_id_depot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_trace")),
    )
    op.create_index(op.f("ix_incoming_trace_depot_id"), "incoming_trace", ["depot_id"], unique=False)
    op.create_index("ix_incoming_trace_status_due", "incoming_trace", ["status", "due"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_incoming_trace_status_due", table_name="incoming_trace")
    op.drop_index(op.f("ix_incoming_trace_depot_id"), table_name="incoming_trace")
    op.drop_table("incoming_trace")
    op.drop_index("ix_trace_request_status_due", table_name="trace_request")
    op.drop_index(op.f("ix_trace_request_code"), table_name="trace_request")
    op.drop_table("trace_request")
    op.drop_table("weapon_trace")
