"""The error hierarchy every domain raises from, mapped to HTTP in :mod:`caliber.app`.

Each error's message says what was wrong and, where it helps, what to do.
"""

from __future__ import annotations

import errno
from typing import NamedTuple

__all__ = [
    "CaliberError",
    "Conflict",
    "FieldError",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "TooManyAttempts",
]


class CaliberError(Exception):
    """Base of every error Caliber reports to a user."""

    status_code = 400
    title = "Bad request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FieldError(NamedTuple):
    """One field's refusal as a form shows it beside the field: ``message`` is a plain sentence naming it."""

    field: str
    message: str


class InvalidInput(CaliberError):
    """The request is well formed but a value breaks a rule; ``errors`` lists every field refused (one for ``field``
    alone, its message as the sentence)."""

    status_code = 422
    title = "Invalid input"

    def __init__(self, message: str, field: str | None = None, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.errors = errors if errors is not None else ([FieldError(field, message)] if field else [])


class NotFound(CaliberError):
    """The named record does not exist."""

    status_code = 404
    title = "Not found"


class Conflict(CaliberError):
    """The change collides with existing records (a duplicate code, a stale state)."""

    status_code = 409
    title = "Conflict"


class NotAuthenticated(CaliberError):
    """No valid login session or API token."""

    status_code = 401
    title = "Login required"


class PermissionDenied(CaliberError):
    """The user's role or depot scope does not allow this."""

    status_code = 403
    title = "Not allowed"


class TooManyAttempts(CaliberError):
    """Too many failed logins; retry after ``retry_after`` seconds."""

    status_code = 429
    title = "Too many attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(CaliberError):
    """The database cannot be reached for now: try again after ``retry_after`` seconds."""

    status_code = 503
    title = "Database unavailable"
    retry_after = 5

    def __init__(self, message: str = "the database cannot be reached; try again shortly") -> None:
        super().__init__(message)


class StorageFull(CaliberError):
    """The disk of the data dir or of the database is full: nothing was written."""

    status_code = 507
    title = "Storage full"

    def __init__(self, message: str = "the server's disk is full, so nothing was written; tell the administrator") -> None:
        super().__init__(message)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or the driver error inside it) says a disk is full: SQLite's SQLITE_FULL, PostgreSQL's
    53100 disk_full, or the operating system's ENOSPC/EDQUOT."""
    inner = getattr(exc, "orig", None) or exc
    if isinstance(inner, OSError) and inner.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return getattr(inner, "sqlstate", None) == "53100" or "disk is full" in str(inner) or "No space left on device" in str(inner)


CORRECTABLE = (InvalidInput, Conflict)
"""Errors a person fixes by changing what they typed: forms show them beside the form."""
