"""Which event types the ledger knows and what applies them: each domain declares its own, the app joins them.

A domain module holds one :class:`Appliers` and registers each of its
event structs with the function that applies it to the state tables::

    appliers = Appliers("inventory", tables=["depot", "location"])

    @appliers.on(DepotRegistered)
    async def _depot_registered(session, event: Recorded[DepotRegistered]) -> None: ...

A domain that keeps a view of another's events (the reports) registers a
:meth:`~Appliers.projection`. ``caliber.domains`` joins every domain into one
:class:`Registry`, which the app and the command line hand to the
:class:`~caliber.ledger.store.Ledger`; the ledger itself imports no domain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from caliber.ledger.events import Event, Recorded

__all__ = ["Appliers", "Handler", "Registry", "UnknownEventType"]

E = TypeVar("E", bound=Event)
Apply = Callable[[AsyncSession, Any], Awaitable[None]]
"""Applies one :class:`Recorded` event, or with ``batch=True`` a list of them (in log order)."""
Batch = Callable[[AsyncSession, list[Recorded[Any]]], Awaitable[None]]
Handler = Callable[[AsyncSession, Sequence[dict[str, Any]]], Awaitable[None]]
"""Applies logged envelopes (dicts, as read from the log) of one type: decoded, then applied."""


class UnknownEventType(LookupError):
    """An event type no domain of this registry declares."""


def _each(function: Apply) -> Batch:
    async def each(session: AsyncSession, events: list[Recorded[Any]]) -> None:
        for event in events:
            await function(session, event)

    return each


class Appliers:
    """One domain's event types, the function applying each, its views of other domains' events, and its tables."""

    def __init__(self, domain: str, *, tables: Iterable[str] = ()) -> None:
        self.domain = domain
        self.tables = list(tables)
        """The state tables this domain's events build (compared on replay)."""
        self.events: dict[str, type[Event]] = {}
        self.appliers: dict[str, Batch] = {}
        self.projections: dict[str, Batch] = {}

    def on(self, event: type[E], *, batch: bool = False) -> Callable[[Apply], Apply]:
        """Register ``event``'s struct and the function that applies it (one event, or with ``batch`` a list)."""

        def register(function: Apply) -> Apply:
            if event.type in self.events:
                raise ValueError(f"{self.domain} applies {event.type} twice")
            self.events[event.type] = event
            self.appliers[event.type] = function if batch else _each(function)
            return function

        return register

    def projection(self, event: type[E], *, batch: bool = False) -> Callable[[Apply], Apply]:
        """Register a view this domain keeps of another domain's ``event``; it runs after that event's applier."""

        def register(function: Apply) -> Apply:
            if event.type in self.projections:
                raise ValueError(f"{self.domain} projects {event.type} twice")
            self.projections[event.type] = function if batch else _each(function)
            return function

        return register


class Registry:
    """Every event type of the given domains, with its struct, its applier and the projections after it."""

    def __init__(self, domains: Iterable[Appliers]) -> None:
        self.domains = list(domains)
        self.events: dict[str, type[Event]] = {}
        self._appliers: dict[str, Batch] = {}
        self._projections: dict[str, list[Batch]] = {}
        for domain in self.domains:
            for name, event in domain.events.items():
                if name in self.events:
                    raise ValueError(f"two domains declare {name}")
                self.events[name] = event
                self._appliers[name] = domain.appliers[name]
        for domain in self.domains:
            for name, view in domain.projections.items():
                if name not in self.events:
                    raise ValueError(f"{domain.domain} projects {name}, which no domain of this registry declares")
                self._projections.setdefault(name, []).append(view)

    @property
    def tables(self) -> list[str]:
        """The state tables the events build, in the order of the domains."""
        return [table for domain in self.domains for table in domain.tables]

    @property
    def event_types(self) -> list[str]:
        """Every declared event type, sorted."""
        return sorted(self.events)

    def event(self, name: str) -> type[Event]:
        """The struct of event type ``name``."""
        try:
            return self.events[name]
        except KeyError:
            raise UnknownEventType(f"no domain declares the event type {name!r}") from None

    def decode(self, envelope: dict[str, Any]) -> Recorded[Any]:
        """A logged envelope as its applier sees it (its ``data`` checked against its struct)."""
        return Recorded(
            type=envelope["type"],
            time=envelope["time"],
            actor=envelope["actor"],
            subjects=envelope["subjects"],
            data=self.event(envelope["type"]).decode(envelope["data"]),
            seq=envelope.get("seq"),
        )

    async def apply(self, session: AsyncSession, events: list[Recorded[Any]]) -> None:
        """Apply recorded events of one type: the applier, then every projection of that type."""
        if not events:
            return
        name = events[0].type
        if name not in self._appliers:
            raise UnknownEventType(f"no domain declares the event type {name!r}")
        await self._appliers[name](session, events)
        for view in self._projections.get(name, []):
            await view(session, events)

    def handler(self, name: str) -> Handler:
        """Applies logged envelopes of type ``name`` (replay): decoded, then as :meth:`apply`."""
        self.event(name)

        async def handle(session: AsyncSession, envelopes: Sequence[dict[str, Any]]) -> None:
            await self.apply(session, [self.decode(envelope) for envelope in envelopes])

        return handle

    def projections_of(self, name: str) -> Handler | None:
        """Applies logged envelopes of type ``name`` to the projections only (rebuilding a view), or ``None``."""
        views = self._projections.get(name, [])
        if not views:
            return None

        async def project(session: AsyncSession, envelopes: Sequence[dict[str, Any]]) -> None:
            events = [self.decode(envelope) for envelope in envelopes]
            for view in views:
                await view(session, events)

        return project

    def with_domains(self, *more: Appliers) -> Registry:
        """This registry and ``more`` (tests and benchmarks add event types of their own)."""
        return Registry([*self.domains, *more])
