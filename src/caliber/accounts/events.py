"""The accounts' custody events: users created, changed (role, depots, jurisdictions, active) and given a password.

Each struct is the ``data`` of one event type; ``docs/events.md`` is written from them.
No secret enters the ledger: a password hash is written beside its event, never in it.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from caliber.accounts.models import Role
from caliber.ledger.events import Change, Event

__all__ = ["UserChanged", "UserCreated", "UserPasswordSet"]


class UserCreated(Event, frozen=True, kw_only=True, omit_defaults=True):
    """An admin created a user account with a role and the depots (or jurisdictions) it works in."""

    type = "user.created"
    id: UUID
    """The user's id."""
    username: str
    display_name: str
    """The person's full name, as pages show it."""
    organisation: str
    role: Role
    depots: list[UUID]
    """The ids of the depots assigned (depot staff see and act only there), sorted."""
    jurisdictions: list[str] = msgspec.field(default_factory=list)
    """Inspectors and ministry officials: the codes of the jurisdictions they read, sorted.

    Written only when some are assigned: absent means none, which reads every jurisdiction.
    """


class UserChanged(Event, frozen=True, kw_only=True):
    """An admin changed a user's name, organisation, role, depots, jurisdictions or active flag."""

    type = "user.changed"
    id: UUID
    """The user's id."""
    changes: dict[str, Change]
    """The changed fields, each with its old and new value: ``display_name``, ``organisation``, ``role``,
    ``active``, ``depots`` (lists of depot ids, sorted) and ``jurisdictions`` (lists of codes, sorted)."""


class UserPasswordSet(Event, frozen=True, kw_only=True):
    """A user's password was set (by an admin, or by the user); their login sessions end.

    The event records only that it changed: the hash is kept beside the ledger, never in it.
    """

    type = "user.password_set"
    id: UUID
    """The user's id."""
