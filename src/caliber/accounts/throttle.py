"""Login throttling: failed logins slow down their username and their address, never someone else's address.

Failures are counted twice, by client address (those of the last hour) and by username (of the last day):

- An **address** that has failed ``ADDRESS_FREE_FAILURES`` times waits before each further attempt, whatever the
  username: ``FIRST_DELAY`` after its last failure, doubling with each failure up to ``LONGEST_DELAY``.
- A **username** that has failed ``USERNAME_FREE_FAILURES`` times gets the same growing delay, but only for attempts
  from addresses that have themselves failed ``ADDRESS_TYPOS`` times in the last hour. An address with fewer
  always has its password checked: an attacker hammering ``admin`` from their addresses slows themselves down,
  never the real admin logging in from their own, even after a typo or two. Every new address buys an attacker
  ``ADDRESS_TYPOS`` guesses an hour, whatever the username. The day-long memory keeps a username under a long
  attack at the longest delay.

IPv6 clients are counted by their /64, the network a single subscriber is given. A refused attempt checks no
password and counts as no failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.models import LoginFailure
from caliber.errors import TooManyAttempts

__all__ = [
    "ADDRESS_FREE_FAILURES",
    "ADDRESS_MEMORY",
    "ADDRESS_TYPOS",
    "FIRST_DELAY",
    "LONGEST_DELAY",
    "USERNAME_FREE_FAILURES",
    "USERNAME_MEMORY",
    "LoginKeys",
    "delay_after",
    "failures_of",
    "refuse_if_throttled",
]

ADDRESS_MEMORY = dt.timedelta(hours=1)
USERNAME_MEMORY = dt.timedelta(days=1)
USERNAME_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
ADDRESS_TYPOS = 3
"""Failures of its own after which an address waits for a username under attack (fewer: a person's typos)."""
FIRST_DELAY = dt.timedelta(seconds=5)
LONGEST_DELAY = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class LoginKeys:
    """The ``login_failure`` keys a login attempt counts under."""

    username: str
    address: str

    @classmethod
    def of(cls, username: str, address: str) -> LoginKeys:
        """The keys of ``username`` (already normalised) trying from the client ``address``."""
        return cls(f"user:{username}", f"addr:{_address_group(address)}")


def delay_after(failures: int, free: int) -> dt.timedelta:
    """How long after its last failure a key with ``failures`` waits: nothing within ``free``, then doubling to a cap."""
    if failures < free:
        return dt.timedelta(0)
    delay: dt.timedelta = min(LONGEST_DELAY, FIRST_DELAY * 2 ** min(failures - free, 16))
    return delay


async def refuse_if_throttled(session: AsyncSession, keys: LoginKeys, now: dt.datetime) -> None:
    """Raise :class:`TooManyAttempts` if the attempt must wait; hold the keys' locks until the attempt is recorded."""
    await _lock(session, keys)
    rows = await session.execute(
        select(LoginFailure.key, func.count(), func.max(LoginFailure.at))
        .where(
            or_(
                and_(LoginFailure.key == keys.address, LoginFailure.at > now - ADDRESS_MEMORY),
                and_(LoginFailure.key == keys.username, LoginFailure.at > now - USERNAME_MEMORY),
            )
        )
        .group_by(LoginFailure.key)
    )
    counted = {key: (count, last) for key, count, last in rows}
    address_count, address_last = counted.get(keys.address, (0, now))
    username_count, username_last = counted.get(keys.username, (0, now))
    ready_at = address_last + delay_after(address_count, ADDRESS_FREE_FAILURES)
    if address_count >= ADDRESS_TYPOS:  # only an address that has failed itself waits for the username
        ready_at = max(ready_at, username_last + delay_after(username_count, USERNAME_FREE_FAILURES))
    if ready_at > now:
        retry_after = max(1, math.ceil((ready_at - now).total_seconds()))
        raise TooManyAttempts(f"too many failed logins: try again in {retry_after} seconds", retry_after)
    await session.execute(delete(LoginFailure).where(LoginFailure.at < now - USERNAME_MEMORY))


def failures_of(keys: LoginKeys, now: dt.datetime) -> list[LoginFailure]:
    """The rows that record one failed attempt."""
    return [LoginFailure(key=keys.username, at=now), LoginFailure(key=keys.address, at=now)]


async def _lock(session: AsyncSession, keys: LoginKeys) -> None:
    """On PostgreSQL, one transaction at a time per key, so that parallel attempts cannot all pass one count.

    SQLite's writers already take turns (``BEGIN IMMEDIATE``). Locks are taken in one order: no deadlock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for lock_id in sorted(_lock_id(key) for key in (keys.username, keys.address)):
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"caliber login {key}".encode()).digest()[:8], "big", signed=True)


def _address_group(address: str) -> str:
    """An address as throttling counts it: IPv6 by its /64, an IPv4 address (mapped or not) as itself."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
