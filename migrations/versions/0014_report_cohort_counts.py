"""report taken-in cohort counts

The counts gain, for weapons taken in (seized, found, voluntarily surrendered),
``taken_destroyed`` (when destroyed) and ``held`` (+1 when an evidence hold
begins, -1 when it ends), each under ``YYYY-MM|source`` (the local month of
registration and the intake source). This fills them for the records already
projected, as the projections now keep them.

Revision ID: 0e72f2c7b964
Revises: 7fb01a113b9c
Create Date: 2026-11-28 19:03:07.249913
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0e72f2c7b964"
down_revision: str | None = "7fb01a113b9c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAKEN_IN = ("seized", "found", "voluntarily_surrendered")
BUCKET_ZONE = ZoneInfo("Europe/Belgrade")
UTC = advanced_alchemy.types.DateTimeUTC(timezone=True)
RECORD = sa.table(
    "report_record",
    *(sa.column(name, sa.String()) for name in ("code", "kind", "intake_source", "jurisdiction")),
    *(sa.column(name, UTC) for name in ("registered_at", "destroyed_at")),
)
HOLD = sa.table("report_hold", sa.column("code", sa.String()), sa.column("held_at", UTC), sa.column("released_at", UTC))
COUNTS = ("jurisdiction", "measure", "detail", "n", "pieces", "net_g", "gross_g")
VALUES = ["detail", "n", "pieces", "net_g", "gross_g"]
"""The rest of a count row: the indexes by measure hold it, so a sum reads no table row."""
DAY = sa.table("report_day", sa.column("day"), *(sa.column(n) for n in COUNTS))
MONTH = sa.table("report_month", sa.column("month"), *(sa.column(n) for n in COUNTS))


def upgrade() -> None:
    op.create_index("ix_report_hold_released_at", "report_hold", ["released_at"], unique=False)
    op.drop_index("ix_report_day_measure", table_name="report_day")
    op.create_index("ix_report_day_measure", "report_day", ["measure", "jurisdiction", "day", *VALUES], unique=False)
    op.create_index(
        "ix_report_month_measure",
        "report_month",
        ["measure", "jurisdiction", "month", *VALUES],
        unique=False,
    )
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    taken = sa.and_(RECORD.c.kind == "weapon", RECORD.c.intake_source.in_(TAKEN_IN))
    parts: list[tuple[str, object, str, str, int]] = []
    records = sa.select(RECORD.c.jurisdiction, RECORD.c.intake_source, RECORD.c.registered_at, RECORD.c.destroyed_at)
    for jurisdiction, source, registered, destroyed in bind.execute(records.where(taken, RECORD.c.destroyed_at.is_not(None))):
        parts.append((jurisdiction, destroyed, "taken_destroyed", _cohort(source, registered), 1))
    holds = sa.select(RECORD.c.jurisdiction, RECORD.c.intake_source, RECORD.c.registered_at, HOLD.c.held_at, HOLD.c.released_at)
    for jurisdiction, source, registered, held, released in bind.execute(
        holds.join_from(HOLD, RECORD, HOLD.c.code == RECORD.c.code).where(taken)
    ):
        parts.append((jurisdiction, held, "held", _cohort(source, registered), 1))
        if released is not None:
            parts.append((jurisdiction, released, "held", _cohort(source, registered), -1))
    counts: dict[tuple[str, str, object, str, str], int] = {}
    for jurisdiction, moment, measure, detail, n in parts:
        day = moment.astimezone(BUCKET_ZONE).date()
        for table, when in ((DAY.name, day), (MONTH.name, day.replace(day=1))):
            key = (table, jurisdiction, when, measure, detail)
            counts[key] = counts.get(key, 0) + n
    for table, period in ((DAY, "day"), (MONTH, "month")):
        rows = [
            {"jurisdiction": j, period: when, "measure": m, "detail": d, "n": n, "pieces": 0, "net_g": 0, "gross_g": 0}
            for (name, j, when, m, d), n in counts.items()
            if name == table.name and n
        ]
        if rows:
            bind.execute(sa.insert(table), rows)


def _cohort(source: str, registered: object) -> str:
    return f"{registered.astimezone(BUCKET_ZONE):%Y-%m}|{source}"  # type: ignore[attr-defined]


def downgrade() -> None:
    op.execute(sa.delete(DAY).where(DAY.c.measure.in_(("taken_destroyed", "held"))))
    op.execute(sa.delete(MONTH).where(MONTH.c.measure.in_(("taken_destroyed", "held"))))
    op.drop_index("ix_report_month_measure", table_name="report_month")
    op.drop_index("ix_report_day_measure", table_name="report_day")
    op.create_index("ix_report_day_measure", "report_day", ["measure", "jurisdiction", "day"], unique=False)
    op.drop_index("ix_report_hold_released_at", table_name="report_hold")
