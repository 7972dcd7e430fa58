"""The error hierarchy every domain raises from, mapped to HTTP in :mod:`caliber.app`.

Each error's message says what was wrong and, where it helps, what to do.
"""

from __future__ import annotations

__all__ = [
    "CaliberError",
    "Conflict",
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


class InvalidInput(CaliberError):
    """The request is well formed but a value breaks a rule."""

    status_code = 422
    title = "Invalid input"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


CORRECTABLE = (InvalidInput, Conflict)
"""Errors a person fixes by changing what they typed: forms show them beside the form."""
