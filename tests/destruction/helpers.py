"""A destruction day's cast and records, built through the services."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from uuid import UUID

from PIL import Image

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.depots.models import Depot
from caliber.destruction.models import DestructionEvent, Method, Stage
from caliber.destruction.schemas import AttestationInput, Completion, ManifestChange, NewDestruction, Verification
from caliber.destruction.service import DestructionService
from caliber.items.lifecycle import Action
from caliber.items.schemas import StatusChange
from caliber.tracing.lifecycle import ExceptionReason
from caliber.tracing.schemas import TraceExceptionIn
from caliber.tracing.service import TracingService
from tests.factories import OPERATOR, Factory


def photo(colour: str = "red") -> bytes:
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format="PNG")
    return out.getvalue()


def mistyped(code: str) -> str:
    """``code`` with its check digit misread (one more): the Damm check catches it."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


@dataclass
class Day:
    """The people of one destruction and the records approved for it."""

    depot: Depot
    clerk: Actor
    manager: Actor
    witnesses: list[Actor]
    codes: list[str]


async def cast(factory: Factory, *, items: int = 4, lots: int = 0, witnesses: int = 2) -> Day:
    """A depot with a clerk, a manager, witnesses, and records approved for destruction."""
    depot = await factory.depot()
    codes = [(await factory.item(depot, serial=f"D-{n:05d}")).code for n in range(items)]
    lot_codes = [(await factory.lot(depot)).code for _ in range(lots)]
    for kind, group in (("item", codes), ("lot", lot_codes)):
        if group:
            for action in (Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION):
                await factory.items.change_status_many(OPERATOR, kind, group, StatusChange(action, "surplus to needs"))  # type: ignore[arg-type]
    return Day(
        depot=depot,
        clerk=await factory.actor(Role.DEPOT_CLERK, depots=[depot]),
        manager=await factory.actor(Role.DEPOT_MANAGER, depots=[depot]),
        witnesses=[await factory.actor(Role.WITNESS) for _ in range(witnesses)],
        codes=codes + lot_codes,
    )


def plan(day: Day, **overrides: object) -> NewDestruction:
    """A plan for smelting at a foundry next week."""
    values: dict[str, object] = {
        "depot_id": day.depot.id,
        "site_name": "Foundry Zelezara",
        "planned_date": dt.date.today() + dt.timedelta(days=7),
        "methods": [Method.SMELTING],
        "authority_number": "Decision 01-234/26",
        "authority_date": dt.date.today(),
        "organiser": "Ministry of Interior",
    }
    values.update(overrides)
    return NewDestruction(**values)  # type: ignore[arg-type]


async def approved(destructions: DestructionService, day: Day, codes: list[str] | None = None) -> DestructionEvent:
    """A planned and approved event with ``codes`` (default: all the day's records) on its manifest."""
    event = await destructions.plan(day.clerk, plan(day))
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=codes if codes is not None else day.codes))
    return await destructions.approve(day.manager, event.id)


async def through_the_day(destructions: DestructionService, day: Day, event: DestructionEvent, *, verify: bool = True) -> None:
    """Verify everything (unless done already), have the witnesses attest, photograph, and complete."""
    if verify:
        await destructions.verify(day.witnesses[0], event.id, Verification(codes=day.codes))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
    await destructions.add_photo(day.clerk, event.id, Stage.BEFORE, photo("red"), "image/png")
    await destructions.add_photo(day.clerk, event.id, Stage.AFTER, photo("blue"), "image/png")
    await destructions.complete(day.witnesses[0], event.id, right_after_attesting([Method.SMELTING]))


async def except_untraced(destructions: DestructionService, manager: Actor, event_id: UUID) -> list[str]:
    """Except from tracing, through the tracing service, every weapon the event's approval waits for; their codes."""
    tracing = TracingService(destructions.ledger, dt.UTC)
    excepted: list[str] = []
    while waiting := (await destructions.get(manager, event_id)).untraced.first:
        for code, _ in waiting:
            await tracing.record_exception(manager, code, TraceExceptionIn(ExceptionReason.UNDUE_DELAY, "the furnace is booked"))
            excepted.append(code)
    return excepted


def right_after_attesting(methods: list[Method], **more: object) -> Completion:
    """A destruction that starts now, after the witnesses attested, and is over by the time the next step is recorded."""
    now = dt.datetime.now(dt.UTC)
    return Completion(methods, started_at=now, ended_at=now + dt.timedelta(milliseconds=1), **more)  # type: ignore[arg-type]
