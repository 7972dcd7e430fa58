"""Tables of users, their depots, login sessions, API tokens and login failures."""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

from advanced_alchemy.base import BigIntBase, DefaultBase, UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["ApiToken", "LoginFailure", "LoginSession", "Role", "User", "UserDepot"]


class Role(enum.StrEnum):
    """What a user may do; see the README's tour of roles."""

    ADMIN = "admin"
    DEPOT_CLERK = "depot_clerk"
    DEPOT_MANAGER = "depot_manager"
    WITNESS = "witness"
    INSPECTOR = "inspector"
    MINISTRY_OFFICIAL = "ministry_official"

    @property
    def label(self) -> str:
        """The role as people write it."""
        return self.value.replace("_", " ").capitalize()

    @property
    def reads_by_jurisdiction(self) -> bool:
        """Inspectors and ministry officials may be assigned jurisdictions (none assigned: every jurisdiction)."""
        return self in {Role.INSPECTOR, Role.MINISTRY_OFFICIAL}

    @property
    def is_depot_staff(self) -> bool:
        """Depot staff see and act only in the depots they are assigned to."""
        return self in {Role.DEPOT_CLERK, Role.DEPOT_MANAGER}


class User(UUIDv7AuditBase):
    """A person who logs in to Caliber."""

    __tablename__ = "user_account"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    jurisdictions: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """Inspectors and ministry officials: the jurisdiction codes they read, comma-separated (empty: every one)."""


class UserDepot(DefaultBase):
    """A depot a user is assigned to (depot scope)."""

    __tablename__ = "user_depot"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"), primary_key=True, index=True)


class LoginSession(UUIDv7AuditBase):
    """A browser's login; the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "login_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class ApiToken(UUIDv7AuditBase):
    """A machine client's bearer token; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class LoginFailure(BigIntBase):
    """One failed login, counted for throttling by user and by address."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)

    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
