"""What an actor may do next in a work flow, and why not: the answer a service gives its pages and its own checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.errors import CaliberError, PermissionDenied

__all__ = ["Step", "first_refusal", "role_refusal"]


@dataclass(frozen=True)
class Step:
    """One step of a work flow for one actor: allowed, or refused with the error that says why."""

    name: str
    refusal: CaliberError | None = None
    waiting: bool = False
    """Refused only until something else is done first: the actor's turn has come, the page says what is missing."""

    @property
    def allowed(self) -> bool:
        """Whether the actor may take the step now."""
        return self.refusal is None

    @property
    def reason(self) -> str:
        """Why not (empty when allowed)."""
        return self.refusal.message if self.refusal is not None else ""

    def require(self) -> None:
        """Raise the refusal when the step is not allowed (what the service does before taking it)."""
        if self.refusal is not None:
            raise self.refusal


def first_refusal(name: str, refusals: Iterable[CaliberError | None], waiting: Iterable[CaliberError | None] = ()) -> Step:
    """The step ``name``, refused by the first of ``refusals``, then of ``waiting``, that is not None (checked in order).

    A refusal from ``waiting`` marks the step :attr:`Step.waiting`: it is the actor's to take once that is done.
    """
    if refused := next((r for r in refusals if r is not None), None):
        return Step(name, refused)
    pending = next((r for r in waiting if r is not None), None)
    return Step(name, pending, waiting=pending is not None)


def role_refusal(actor: Actor, roles: Iterable[Role]) -> PermissionDenied | None:
    """The refusal :meth:`Actor.require_role` would raise, or None when the actor has one of ``roles``."""
    try:
        actor.require_role(*roles)
    except PermissionDenied as exc:
        return exc
    return None
