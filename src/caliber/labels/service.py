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

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.db import insert_many, rows_in
from caliber.labels.codes import KINDS, SERIAL_DIGITS, make_code, number_of
from caliber.labels.models import Label

__all__ = ["issue_codes", "kinds", "register_codes", "resolve"]


_HIGHEST = select(func.max(Label.serial)).where(Label.serial > bindparam("above"), Label.serial < bindparam("below"))


async def issue_codes(session: AsyncSession, kind: str, count: int) -> list[str]:
    """``count`` new label codes of ``kind``, after the highest of that kind issued so far (call within a ledger write)."""
    first = KINDS[kind] * 10**SERIAL_DIGITS
    ((highest,),) = await rows_in(session, _HIGHEST, above=first, below=first + 10**SERIAL_DIGITS)
    start = int(highest or first) - first + 1
    return [make_code(kind, serial) for serial in range(start, start + count)]


async def register_codes(session: AsyncSession, kind: str, codes: Iterable[tuple[str, UUID]]) -> None:
    """Enter issued codes in the register (from appliers): ``(code, record id)`` pairs of one kind."""
    rows: list[dict[str, Any]] = [
        {"code": code, "serial": number_of(code), "kind": kind, "record_id": record_id} for code, record_id in codes
    ]
    await insert_many(session, Label.__table__, rows)


async def resolve(session: AsyncSession, code: str) -> Label | None:
    """What a label code was issued for, if anything."""
    return await session.get(Label, code)


async def kinds(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """What each of these codes was issued for (``item``, ``lot``, ``location``); codes never issued are left out."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(select(Label.code, Label.kind).where(Label.code.in_(wanted)))
    return {row.code: row.kind for row in rows}
