"""Request and response structs of the accounts API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from caliber.accounts.models import Role
from caliber.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from caliber.schemas import SECRET, Code, Input, Name, Text

Username = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Jurisdiction = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Password = Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH, extra=SECRET)]


class NewUser(Input, forbid_unknown_fields=True):
    """A user to create; ``depots`` are depot codes, ``jurisdictions`` two-letter codes (RS, AL, ...)."""

    username: Username
    display_name: Name
    role: Role
    password: Password
    organisation: Text = ""
    depots: list[Code] = msgspec.field(default_factory=list)
    jurisdictions: list[Jurisdiction] = msgspec.field(default_factory=list)
    """Inspectors and ministry officials only: the jurisdictions they read (none: every one)."""


class UserUpdate(Input, forbid_unknown_fields=True):
    """Changes to a user; fields left out stay as they are."""

    display_name: Name | None = None
    organisation: Text | None = None
    role: Role | None = None
    depots: list[Code] | None = None
    jurisdictions: list[Jurisdiction] | None = None
    active: bool | None = None


class PasswordReset(Input, forbid_unknown_fields=True):
    """A new password for a user."""

    password: Password


class LoginForm(Input):
    """The login form; ``next`` is where to go afterwards."""

    username: Annotated[str, msgspec.Meta(max_length=64)]
    password: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH, extra=SECRET)]
    next: str = "/"


class UserOut(msgspec.Struct):
    """A user as the API shows it (never the password hash)."""

    id: UUID
    username: str
    display_name: str
    organisation: str
    role: Role
    depots: list[str]
    active: bool
    created_at: dt.datetime
    jurisdictions: list[str] = msgspec.field(default_factory=list)
    """Inspectors and ministry officials: the jurisdictions they read (empty: every one)."""


class NewToken(Input, forbid_unknown_fields=True):
    """An API token to create for the current user."""

    name: Name


class TokenOut(msgspec.Struct):
    """An API token as listed (the secret is never shown again)."""

    id: UUID
    name: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class TokenCreated(msgspec.Struct):
    """A new API token with its secret, shown this once."""

    id: UUID
    name: str
    token: str
