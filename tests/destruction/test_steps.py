"""The steps an actor may take on a destruction now, and why not: the service's answer, and the refusal it raises."""

from __future__ import annotations

import datetime as dt
import re
from uuid import UUID

import pytest

from caliber.accounts.actor import Actor
from caliber.destruction.models import Method, Stage
from caliber.destruction.schemas import AttestationInput, Completion, ResidueCheck, Verification
from caliber.destruction.service import DestructionService
from caliber.errors import Conflict, PermissionDenied
from caliber.steps import Step
from tests.destruction.helpers import approved, cast, photo, plan, right_after_attesting, through_the_day
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def steps(destructions: DestructionService, actor: Actor, event_id: UUID) -> dict[str, Step]:
    view = await destructions.get(actor, event_id)
    stage = Stage.AFTER if view.event.status == "completed" else Stage.BEFORE
    current = await destructions.current_sha256(actor, event_id, stage)
    return {step.name: step for step in destructions.next_steps(actor, view, current)}


def escaped(reason: str) -> str:
    return re.escape(reason)


async def test_a_planned_event_may_be_prepared_by_its_staff_and_approved_by_a_manager_once_it_lists_records(
    factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)
    event = await destructions.plan(day.clerk, plan(day))
    empty = (await steps(destructions, day.manager, event.id))["approve"]
    assert (empty.allowed, empty.reason) == (False, "the manifest is empty: add the records to destroy first")
    with pytest.raises(Conflict, match=empty.reason):
        await destructions.approve(day.manager, event.id)
    clerk = await steps(destructions, day.clerk, event.id)
    assert clerk["manifest"].allowed
    assert isinstance(clerk["approve"].refusal, PermissionDenied)
    assert "needs the role" in clerk["approve"].reason
    outsider = await factory.actor(depots=[await factory.depot()])
    seen = await destructions.get(day.clerk, event.id)
    elsewhere = {step.name: step for step in destructions.next_steps(outsider, seen, None)}["manifest"]
    assert (elsewhere.allowed, elsewhere.reason) == (False, f"the staff of the depot that organises {event.code} prepare its manifest")
    assert not clerk["verify"].allowed
    assert clerk["verify"].reason == f"destruction {event.code} is planned: its manifest must be approved first"


async def test_at_the_site_witnesses_attest_once_every_record_is_verified(factory: Factory, destructions: DestructionService) -> None:
    day = await cast(factory, items=2)
    event = await approved(destructions, day)
    witness = day.witnesses[0]
    now = await steps(destructions, witness, event.id)
    assert now["verify"].allowed
    assert (now["attest"].allowed, now["attest"].reason) == (False, "2 record(s) are not verified yet: verify or withdraw them first")
    digest = await destructions.current_sha256(witness, event.id, Stage.BEFORE)
    with pytest.raises(Conflict, match=now["attest"].reason.replace("(", r"\(").replace(")", r"\)")):
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
    manager = await steps(destructions, day.manager, event.id)
    assert manager["approve"].reason == f"destruction {event.code} is approved: only a planned manifest is approved"
    assert manager["attest"].reason == f"you prepared or approved the manifest of {event.code}: another witness must attest"
    assert not manager["certify"].allowed


async def test_after_the_day_the_residue_then_the_certificate(factory: Factory, destructions: DestructionService) -> None:
    day = await cast(factory, items=2)
    event = await approved(destructions, day)
    await through_the_day(destructions, day, event)
    witness = await steps(destructions, day.witnesses[0], event.id)
    assert witness["residue"].allowed
    assert not witness["complete"].allowed
    assert witness["complete"].reason == f"destruction {event.code} is completed: only one under way is completed"
    assert not witness["manifest"].allowed  # nor any other role: the manifest is closed
    certify = (await steps(destructions, day.manager, event.id))["certify"]
    assert (certify.allowed, certify.waiting, certify.reason) == (False, True, "the residue check is not recorded yet")
    with pytest.raises(Conflict, match=certify.reason):
        await destructions.certify(day.manager, event.id)
    await destructions.check_residue(day.witnesses[1], event.id, ResidueCheck("cut and melted"))
    certify = (await steps(destructions, day.manager, event.id))["certify"]
    assert (certify.allowed, certify.waiting, certify.reason) == (False, True, "0 of 2 witnesses have attested to the result")
    with pytest.raises(Conflict, match=certify.reason):
        await destructions.certify(day.manager, event.id)
    result = await destructions.current_sha256(day.manager, event.id, Stage.AFTER)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.AFTER, result))
    assert (await steps(destructions, day.manager, event.id))["certify"].allowed
    assert not (await steps(destructions, day.witnesses[0], event.id))["residue"].allowed


async def test_the_result_waits_for_every_record_verified_the_witnesses_and_the_photographs_as_the_service_does(
    factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)
    event = await approved(destructions, day)
    witness = day.witnesses[0]
    await destructions.verify(witness, event.id, Verification(codes=day.codes[:1]))
    completion = right_after_attesting([Method.SMELTING])
    for reason in (
        "1 record(s) are not verified: verify them, or withdraw them with a reason",
        "0 of 2 witnesses have attested to the verified manifest",
        "add photographs before and after destruction first",
    ):
        step = (await steps(destructions, witness, event.id))["complete"]
        assert (step.allowed, step.waiting, step.reason) == (False, True, reason)
        with pytest.raises(Conflict, match=escaped(reason)):
            await destructions.complete(witness, event.id, completion)
        if reason.startswith("1 record"):
            await destructions.verify(witness, event.id, Verification(codes=day.codes[1:]))
        elif reason.startswith("0 of 2"):
            digest = await destructions.current_sha256(witness, event.id, Stage.BEFORE)
            for one in day.witnesses:
                await destructions.attest(one, event.id, AttestationInput(Stage.BEFORE, digest))
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):
        await destructions.add_photo(day.clerk, event.id, stage, photo(colour), "image/png")
    assert (await steps(destructions, witness, event.id))["complete"].allowed
    clerk = (await steps(destructions, day.clerk, event.id))["complete"]
    assert isinstance(clerk.refusal, PermissionDenied)
    assert not clerk.waiting


async def test_the_residue_waits_for_the_recorded_end_of_the_destruction(factory: Factory, destructions: DestructionService) -> None:
    day = await cast(factory, items=1)
    event = await approved(destructions, day)
    await destructions.verify(day.witnesses[0], event.id, Verification(codes=day.codes))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):
        await destructions.add_photo(day.clerk, event.id, stage, photo(colour), "image/png")
    now = dt.datetime.now(dt.UTC)
    ends = now + dt.timedelta(minutes=4)
    await destructions.complete(day.witnesses[0], event.id, Completion([Method.SMELTING], started_at=now, ended_at=ends))
    residue = (await steps(destructions, day.witnesses[0], event.id))["residue"]
    assert (residue.allowed, residue.waiting) == (False, True)
    assert f"before the destruction ended at {destructions.local(ends)}" in residue.reason
    with pytest.raises(Conflict, match="before the destruction ended at"):
        await destructions.check_residue(day.witnesses[0], event.id, ResidueCheck("cut and melted"))
    party = (await steps(destructions, day.manager, event.id))["residue"]
    assert isinstance(party.refusal, PermissionDenied)
    assert not party.waiting


async def test_one_photograph_cannot_be_both_the_before_and_the_after(factory: Factory, destructions: DestructionService) -> None:
    """The same bytes for the other stage once said "Photo added." and recorded nothing; completion then asked for photos."""
    day = await cast(factory)
    event = await approved(destructions, day)
    await destructions.verify(day.witnesses[0], event.id, Verification(codes=day.codes))
    same = photo("green")
    await destructions.add_photo(day.clerk, event.id, Stage.BEFORE, same, "image/png")
    await destructions.add_photo(day.clerk, event.id, Stage.BEFORE, same, "image/png")  # the same again: nothing new
    with pytest.raises(Conflict, match="already added as the before photo: take one after destruction"):
        await destructions.add_photo(day.clerk, event.id, Stage.AFTER, same, "image/png")
    view = await destructions.get(day.manager, event.id)
    assert [p.stage for p in view.photos] == ["before"]
