"""Who is acting: the principal behind a request or a CLI command."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from caliber.accounts.models import Role
from caliber.errors import PermissionDenied

__all__ = ["Actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    """A logged-in user (or the operator at the CLI) with role and depot scope."""

    id: UUID | None
    username: str
    display_name: str
    role: Role
    depot_ids: frozenset[UUID] = field(default_factory=frozenset)
    jurisdictions: frozenset[str] = field(default_factory=frozenset)
    """The jurisdictions an inspector or ministry official is assigned (empty: every one); ``depot_ids`` are then their depots."""

    @classmethod
    def operator(cls, name: str) -> Actor:
        """The person running ``caliber`` on the server itself, acting as admin."""
        return cls(id=None, username=f"cli:{name}", display_name=f"{name} (command line)", role=Role.ADMIN)

    @property
    def sees_all_depots(self) -> bool:
        """Roles outside depot scope read every depot, unless assigned jurisdictions."""
        return not self.role.is_depot_staff and not self.jurisdictions

    def reads_jurisdiction(self, code: str) -> bool:
        """Whether this actor reads jurisdiction ``code`` (depot staff: only through their depots)."""
        return not self.jurisdictions or code in self.jurisdictions

    def can_see_depot(self, depot_id: UUID) -> bool:
        """Whether this actor may read depot ``depot_id``."""
        return self.sees_all_depots or depot_id in self.depot_ids

    def require_role(self, *roles: Role) -> None:
        """Raise :class:`PermissionDenied` unless the actor has one of ``roles``."""
        if self.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise PermissionDenied(f"this needs the role {allowed}; you are {self.role.value}")

    def require_depot(self, depot_id: UUID, depot_code: str) -> None:
        """Raise :class:`PermissionDenied` unless the depot is in this actor's scope."""
        if not self.can_see_depot(depot_id):
            raise PermissionDenied(f"you are not assigned to depot {depot_code}")
