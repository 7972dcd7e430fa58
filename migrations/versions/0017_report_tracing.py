"""report tracing

The reports' projection of tracing (SDG 16.4.2): when each weapon's trace
started and ended and how (``report_record``), and the trace requests sent and
received (``report_request``). Traces recorded before this revision are not in
it: ``caliber reports rebuild`` projects the whole ledger again (``caliber
ledger check`` names the difference).

Revision ID: 3c9e51d4a7b2
Revises: 7a41c9e2d0b6
Create Date: 2026-12-04 21:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "3c9e51d4a7b2"
down_revision: str | None = "7a41c9e2d0b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = advanced_alchemy.types.DateTimeUTC(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("report_record") as batch:
        batch.add_column(sa.Column("trace_started_at", UTC, nullable=True))
        batch.add_column(sa.Column("trace_ended_at", UTC, nullable=True))
        batch.add_column(sa.Column("trace_end", sa.String(length=32), server_default="", nullable=False))
        batch.add_column(sa.Column("exception_reason", sa.String(length=32), server_default="", nullable=False))
    op.create_index("ix_report_record_trace_ended", "report_record", ["jurisdiction", "trace_ended_at", "trace_end"], unique=False)
    op.create_table(
        "report_request",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("depot_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_request")),
    )
    op.create_index("ix_report_request_opened", "report_request", ["direction", "jurisdiction", "opened_on"], unique=False)
    for column in ("answered_on", "answered_at"):
        op.create_index(
            f"ix_report_request_{column}", "report_request", ["direction", column, "jurisdiction", "due", "opened_on"], unique=False
        )
    op.create_index("ix_report_request_code", "report_request", ["code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_report_request_code", table_name="report_request")
    op.drop_index("ix_report_request_answered_at", table_name="report_request")
    op.drop_index("ix_report_request_answered_on", table_name="report_request")
    op.drop_index("ix_report_request_opened", table_name="report_request")
    op.drop_table("report_request")
    op.drop_index("ix_report_record_trace_ended", table_name="report_record")
    with op.batch_alter_table("report_record") as batch:
        batch.drop_column("exception_reason")
        batch.drop_column("trace_end")
        batch.drop_column("trace_started_at")
        batch.drop_column("trace_ended_at")
