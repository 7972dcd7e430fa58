"""People by username, many at once: the full names pages and exports show where events keep usernames."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.models import User

__all__ = ["full_names"]

CHUNK = 500


async def full_names(session: AsyncSession, usernames: Iterable[str | None]) -> dict[str, str]:
    """``username -> full name`` for the users among ``usernames`` (one statement per 500; unknown ones left out)."""
    wanted = sorted({u for u in usernames if u})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = await session.execute(select(User.username, User.display_name).where(User.username.in_(wanted[start : start + CHUNK])))
        found |= {username: name for username, name in rows}  # noqa: C416 (rows, not pairs, to the type checker)
    return found
