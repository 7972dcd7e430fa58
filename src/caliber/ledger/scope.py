"""Who may read which custody events: the same scope as the records the events concern.

Each subject of an event is a record (a label code or a record key such as
``depot:…``). The domain that owns a kind of record says where each of its
records is now (:data:`ScopeOf`); this module holds the rules. An actor reads
an event when they may read at least one of its subjects:

- admins read every event;
- a depot record (weapon, component, lot, shelf, depot, location, transfer,
  stock check, destruction, label printer, trace request) is read by whoever reads one of the depots it is in
  now: depot staff their depots, inspectors and ministry officials the depots of
  their jurisdictions (none assigned: all), witnesses all depots;
- a user account (``user:…``) is read by that user, and by inspectors and
  ministry officials with no jurisdiction assigned;
- a record of one jurisdiction (a KPI target, ``target:JJ:…``) by inspectors and
  ministry officials who read that jurisdiction;
- every other record (witness keys, label layouts) by
  inspectors and ministry officials.

Reading a record's current scope means that staff of a depot an item was
transferred into read its whole history, as the item's page shows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import Database

__all__ = ["READERS", "LedgerScope", "ScopeOf", "SubjectScope", "keyed_scopes", "reads", "reads_everything", "subject_id"]

READERS = frozenset({Role.INSPECTOR, Role.MINISTRY_OFFICIAL})
"""The roles that read beyond depots: records of no depot, within their jurisdictions where one is named."""


@dataclass(frozen=True, slots=True)
class SubjectScope:
    """Whose record a subject is: the depots it is in now, the jurisdiction it concerns, or the user it is."""

    depots: frozenset[UUID] | None = None
    """A depot record: the depots it is in now (empty: a record no table holds)."""
    jurisdiction: str | None = None
    user: UUID | None = None

    @classmethod
    def in_depots(cls, depots: Iterable[UUID | None]) -> SubjectScope:
        """A depot record in ``depots`` (``None`` values are left out)."""
        return cls(depots=frozenset(depot for depot in depots if depot is not None))


ScopeOf = Callable[[AsyncSession, Sequence[str]], Awaitable[Mapping[str, SubjectScope]]]
"""A domain's answer for the subjects it owns among those given (it leaves the others out), a few queries for any
number of subjects."""


class LedgerScope:
    """Which events and subjects an actor may read, from the scopes the record-owning domains give."""

    def __init__(self, db: Database, scopes_of: Sequence[ScopeOf]) -> None:
        self.db = db
        self.scopes_of = tuple(scopes_of)

    async def readable(self, actor: Actor, events: Sequence[dict[str, Any]]) -> list[bool]:
        """For each event, whether ``actor`` may read it (one look-up per owning domain for all of them)."""
        if reads_everything(actor):
            return [True] * len(events)
        scopes = await self.scopes(sorted({subject for event in events for subject in event.get("subjects", [])}))
        return [any(reads(actor, scopes.get(subject)) for subject in event.get("subjects", [])) for event in events]

    async def reads_subject(self, actor: Actor, subject: str) -> bool:
        """Whether ``actor`` may read the custody chain of ``subject``."""
        if reads_everything(actor):
            return True
        return reads(actor, (await self.scopes([subject])).get(subject))

    async def scopes(self, subjects: Sequence[str]) -> dict[str, SubjectScope]:
        """The scope of each subject some domain owns, in one read transaction."""
        found: dict[str, SubjectScope] = {}
        if not subjects:
            return found
        async with self.db.read() as session:
            for scopes_of in self.scopes_of:
                found.update(await scopes_of(session, [s for s in subjects if s not in found]))
        return found


def reads_everything(actor: Actor) -> bool:
    """Admins, and inspectors and ministry officials with no jurisdiction assigned, read the whole log."""
    return actor.role is Role.ADMIN or (actor.role in READERS and not actor.jurisdictions)


def reads(actor: Actor, scope: SubjectScope | None) -> bool:
    """Whether ``actor`` may read a record of ``scope`` (``None``: a record of no depot, jurisdiction or user)."""
    if reads_everything(actor):
        return True
    if scope is None:
        return actor.role in READERS
    if scope.depots is not None:
        return actor.sees_all_depots or not scope.depots.isdisjoint(actor.depot_ids)
    if scope.user is not None:
        return scope.user == actor.id
    if scope.jurisdiction is not None:
        return actor.role in READERS and actor.reads_jurisdiction(scope.jurisdiction)
    return False


async def keyed_scopes(_session: AsyncSession, subjects: Sequence[str]) -> dict[str, SubjectScope]:
    """The subjects whose key names their scope: ``user:{id}`` (a user account) and ``target:{jurisdiction}:…``
    (a Roadmap KPI target)."""
    found: dict[str, SubjectScope] = {}
    for subject in subjects:
        kind, _, rest = subject.partition(":")
        if kind == "user":
            found[subject] = SubjectScope(user=subject_id(subject))
        elif kind == "target":
            found[subject] = SubjectScope(jurisdiction=rest.partition(":")[0])
    return found


def subject_id(subject: str) -> UUID | None:
    """The record id a record key ``kind:{uuid}`` names (None: no id there)."""
    try:
        return UUID(subject.partition(":")[2])
    except ValueError:
        return None
