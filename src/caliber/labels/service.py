"""Issuing label codes and resolving scanned ones.

Codes are issued inside the caller's ledger write transaction, which holds the
log's lock, so two writers never issue the same serial; the register row is
written by the applier of the event that carries the code, so replaying the
ledger rebuilds the register.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import insert_many
from caliber.labels.codes import make_code, number_of
from caliber.labels.models import Label

__all__ = ["issue_codes", "register_codes", "resolve"]


async def issue_codes(session: AsyncSession, count: int) -> list[str]:
    """``count`` new label codes, following the highest serial issued so far (call within a ledger write)."""
    highest = await session.scalar(select(func.max(Label.serial)))
    start = int(highest or 0) + 1
    return [make_code(serial) for serial in range(start, start + count)]


async def register_codes(session: AsyncSession, kind: str, codes: Iterable[tuple[str, UUID]]) -> None:
    """Enter issued codes in the register (from appliers): ``(code, record id)`` pairs of one kind."""
    rows: list[dict[str, Any]] = [
        {"code": code, "serial": number_of(code), "kind": kind, "record_id": record_id} for code, record_id in codes
    ]
    await insert_many(session, Label.__table__, rows)


async def resolve(session: AsyncSession, code: str) -> Label | None:
    """What a label code was issued for, if anything."""
    return await session.get(Label, code)
