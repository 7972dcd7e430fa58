"""Destruction events: every step allowed and refused, by role and by state, all on the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from caliber.accounts.models import Role
from caliber.db import Database
from caliber.depots.models import DepotKind
from caliber.destruction.certificate import certificate_sha256, statement
from caliber.destruction.manifest import ManifestRefused
from caliber.destruction.models import EventStatus, LineStatus, Method, Stage
from caliber.destruction.queries import manifest_sha256
from caliber.destruction.schemas import AttestationInput, Completion, ManifestChange, ResidueCheck, Verification, Withdrawal
from caliber.destruction.service import DestructionService
from caliber.errors import Conflict, InvalidInput, PermissionDenied
from caliber.items.lifecycle import Action, IntakeSource, Status
from caliber.items.models import Item
from caliber.items.schemas import StatusChange
from caliber.items.service import ItemService
from caliber.labels.codes import MAX_SERIAL, format_code, make_code
from caliber.ledger.models import LedgerEntry
from caliber.ledger.store import Ledger
from caliber.transfers.schemas import NewTransfer
from caliber.transfers.service import TransferService
from tests.destruction.helpers import approved, cast, mistyped, photo, plan, right_after_attesting, through_the_day
from tests.factories import OPERATOR, Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def statuses(db: Database, codes: list[str]) -> set[str]:
    async with db.read() as session:
        return set(await session.scalars(select(Item.status).where(Item.code.in_(codes))))


async def test_a_destruction_runs_from_plan_to_certificate(factory: Factory, destructions: DestructionService, db: Database) -> None:
    day = await cast(factory, items=3, lots=1)
    event = await approved(destructions, day)
    assert event.status == EventStatus.APPROVED
    assert event.manifest_sha256 == manifest_sha256(day.codes)
    await through_the_day(destructions, day, event)
    assert await statuses(db, day.codes[:3]) == {Status.DESTROYED.value}
    await destructions.check_residue(day.witnesses[1], event.id, ResidueCheck("receivers cut through, frames melted"))
    assert await statuses(db, day.codes[:3]) == {Status.VERIFIED_AFTER_DESTRUCTION.value}
    digest = await destructions.current_sha256(day.manager, event.id, Stage.AFTER)
    assert digest == manifest_sha256(day.codes)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.AFTER, digest))
    issued = await destructions.certify(day.manager, event.id)
    assert await statuses(db, day.codes[:3]) == {Status.CERTIFIED.value}
    view = await destructions.get(day.manager, event.id)
    assert view.event.status == EventStatus.CERTIFIED
    assert view.event.certificate_sha256 == issued
    assert view.counts == {LineStatus.CERTIFIED.value: 4}
    async with db.read() as session:
        content = await statement(session, event.id)
        types = list(await session.scalars(select(LedgerEntry.event_type).order_by(LedgerEntry.idx)))
    assert certificate_sha256(content) == issued  # the statement recomputed after certification is the one certified
    assert {w["serial"] for w in content["weapons"]} == {"D-00000", "D-00001", "D-00002"}
    assert len(content["ammunition"]) == 1
    assert len(content["witnesses"]) == 4
    for step in ("planned", "manifest_changed", "approved", "verified", "attested", "photo_added", "destroyed", "completed"):
        assert f"destruction.{step}" in types


async def test_only_records_approved_for_destruction_join_and_each_refusal_says_why(
    factory: Factory, destructions: DestructionService, items: ItemService
) -> None:
    day = await cast(factory, items=2)
    held = await factory.item(day.depot, intake_source=IntakeSource.SEIZED, case_reference="KT-1/26")
    stored = await factory.item(day.depot)
    elsewhere = await factory.item(await factory.depot())
    event = await destructions.plan(day.clerk, plan(day))
    wanted = [*day.codes, held.code, stored.code, elsewhere.code, "1999999990", make_code("weapon", MAX_SERIAL)]
    with pytest.raises(Conflict, match="nothing was changed"):
        await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=wanted))
    assert (await destructions.get(day.clerk, event.id)).on_manifest == 0
    report = await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=wanted, partial=True))
    assert report.added == day.codes
    reasons = {r.code: r.reason for r in report.refused}
    assert "evidence hold" in reasons[held.code]
    assert "awaiting decision" in reasons[stored.code]
    assert "not yours" in reasons[elsewhere.code]
    assert "check digit does not match" in reasons["1999999990"]
    assert "no weapon" in reasons[make_code("weapon", MAX_SERIAL)]
    other = await destructions.plan(day.clerk, plan(day))
    again = await destructions.change_manifest(day.clerk, other.id, ManifestChange(add=day.codes[:1], partial=True))
    assert again.added == []
    assert event.code in again.refused[0].reason


async def test_typed_lines_add_what_can_be_added_and_refuse_each_other_line_as_typed(
    factory: Factory, destructions: DestructionService, db: Database
) -> None:
    day = await cast(factory, items=3, lots=1)
    held = await factory.item(day.depot, intake_source=IntakeSource.SEIZED, case_reference="KT-2/26")
    shelf = await factory.location(day.depot)
    event = await destructions.plan(day.clerk, plan(day))
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes[:1]))
    misread = mistyped(day.codes[1])
    unknown = make_code("weapon", MAX_SERIAL)
    lines = [
        format_code(day.codes[1]),  # grouped, as people read it
        f"https://caliber.example/s/{day.codes[2]}",
        f"{day.codes[3]} x 40",  # part of the lot
        f" {misread} ",
        held.code,
        unknown,
        shelf.code,
        day.codes[0],  # on the manifest already
        "hello",
        "",
    ]
    written = await _ledger_size(db)
    with pytest.raises(ManifestRefused, match="nothing was changed") as refusal:
        await destructions.change_manifest(day.clerk, event.id, ManifestChange(lines=lines))
    assert [r.code for r in refusal.value.refused] == [misread, held.code, unknown, shelf.code, day.codes[0], "hello"]
    assert await _ledger_size(db) == written  # not even the lot's part was split off
    assert (await destructions.get(day.clerk, event.id)).on_manifest == 1

    report = await destructions.change_manifest(day.clerk, event.id, ManifestChange(lines=lines, partial=True))
    assert report.added[:2] == day.codes[1:3]
    assert len(report.added) == 3  # and the lot's new part
    reasons = {r.code: r.reason for r in report.refused}
    assert reasons == {
        misread: "check digit does not match: a digit was mistyped or misread",
        "hello": "no label code (10 digits) in 'hello'",
        held.code: "it is on evidence hold: a court order must release it before it can be destroyed",
        unknown: "no weapon, component or ammunition lot has this label",
        shelf.code: "it is the label of a location: only weapons, components and lots are destroyed",
        day.codes[0]: "it is on this manifest already",
    }
    assert await _ledger_size(db) == written + 2  # the lot's split and one manifest change
    assert (await destructions.get(day.clerk, event.id)).on_manifest == 4


async def test_a_part_of_a_lot_that_cannot_join_is_not_split_off(factory: Factory, destructions: DestructionService, db: Database) -> None:
    day = await cast(factory, items=1)
    stored = await factory.lot(day.depot)
    event = await destructions.plan(day.clerk, plan(day))
    written = await _ledger_size(db)
    report = await destructions.change_manifest(
        day.clerk, event.id, ManifestChange(lines=[day.codes[0], f"{stored.code} x 5"], partial=True)
    )
    assert report.added == day.codes
    assert [(r.code, r.reason) for r in report.refused] == [
        (f"{stored.code} x 5", "it is awaiting decision: only records approved for destruction can be added")
    ]
    assert await _ledger_size(db) == written + 1


async def _ledger_size(db: Database) -> int:
    async with db.read() as session:
        return len(list(await session.scalars(select(LedgerEntry.idx))))


async def test_whoever_prepared_or_approved_cannot_attest_and_one_person_counts_once(
    factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2, witnesses=3)
    event = await destructions.plan(day.clerk, plan(day))
    preparer = await factory.actor(Role.DEPOT_MANAGER, depots=[day.depot])
    await destructions.change_manifest(preparer, event.id, ManifestChange(add=day.codes))
    await destructions.approve(day.manager, event.id)
    await destructions.verify(day.clerk, event.id, Verification(codes=day.codes))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    for party in (preparer, day.manager):
        with pytest.raises(PermissionDenied, match="prepared or approved"):
            await destructions.attest(party, event.id, AttestationInput(Stage.BEFORE, digest))
    with pytest.raises(PermissionDenied):
        await destructions.attest(day.clerk, event.id, AttestationInput(Stage.BEFORE, digest))
    await destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.BEFORE, digest))
    with pytest.raises(Conflict, match="attested before destruction already"):
        await destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.BEFORE, digest))
    view = await destructions.get(day.manager, event.id)
    assert len(view.valid_attestations(Stage.BEFORE, digest)) == 1
    await destructions.add_photo(day.clerk, event.id, Stage.BEFORE, photo(), "image/png")
    await destructions.add_photo(day.clerk, event.id, Stage.AFTER, photo("green"), "image/png")
    with pytest.raises(Conflict, match="1 of 2 witnesses"):
        await destructions.complete(day.witnesses[0], event.id, right_after_attesting([Method.CUTTING_PLASMA]))
    await destructions.attest(day.witnesses[1], event.id, AttestationInput(Stage.BEFORE, digest))
    await destructions.complete(day.witnesses[0], event.id, right_after_attesting([Method.CUTTING_PLASMA]))


async def test_missing_records_block_completion_until_withdrawn(factory: Factory, destructions: DestructionService, db: Database) -> None:
    day = await cast(factory, items=3)
    event = await approved(destructions, day)
    await destructions.verify(day.witnesses[0], event.id, Verification(codes=day.codes[:2]))
    with pytest.raises(Conflict, match="1 record"):
        await destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.BEFORE, "0" * 64))
    with pytest.raises(PermissionDenied):
        await destructions.withdraw(day.clerk, event.id, Withdrawal(day.codes[2:], "not found on the truck", missing=True))
    await destructions.withdraw(day.manager, event.id, Withdrawal(day.codes[2:], "not found on the truck", missing=True))
    assert await statuses(db, day.codes[2:]) == {Status.MISSING.value}
    digest = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    assert digest == manifest_sha256(day.codes[:2])
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
    view = await destructions.get(day.manager, event.id)
    assert (view.remaining, view.on_manifest, view.counts[LineStatus.WITHDRAWN.value]) == (0, 2, 1)


async def test_an_amendment_after_approval_needs_a_reason_and_approval_again(
    factory: Factory, destructions: DestructionService, items: ItemService
) -> None:
    day = await cast(factory, items=3)
    event = await approved(destructions, day, day.codes[:2])
    with pytest.raises(InvalidInput, match="say why"):
        await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes[2:]))
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes[2:], reason="third rifle found in store"))
    view = await destructions.get(day.clerk, event.id)
    assert view.event.status == EventStatus.PLANNED
    assert view.event.manifest_sha256 is None
    with pytest.raises(Conflict, match="approved first"):
        await destructions.verify(day.witnesses[0], event.id, Verification(codes=day.codes))
    with pytest.raises(PermissionDenied):
        await destructions.approve(day.clerk, event.id)
    again = await destructions.approve(day.manager, event.id)
    assert again.manifest_sha256 == manifest_sha256(day.codes)


async def test_a_serial_that_differs_refuses_the_scan_and_an_unexpected_label_is_counted(
    factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)
    stranger = await factory.item(day.depot)
    event = await approved(destructions, day)
    with pytest.raises(Conflict, match="differs"):
        await destructions.verify(day.clerk, event.id, Verification(codes=day.codes[:1], serial_read="D-99999"))
    assert await destructions.verify(day.clerk, event.id, Verification(codes=day.codes[:1], serial_read=" d-00000 ")) == day.codes[:1]
    assert await destructions.verify(day.clerk, event.id, Verification(codes=day.codes[:1])) == []  # scanned twice: once
    with pytest.raises(Conflict, match="not on the manifest"):
        await destructions.verify(day.clerk, event.id, Verification(codes=[stranger.code]))
    await destructions.unexpected(day.clerk, event.id, stranger.code)
    view = await destructions.get(day.clerk, event.id)
    assert view.counts == {"verified": 1, "listed": 1, "unexpected": 1}


async def test_records_not_destroyed_go_back_to_storage_with_a_reason(
    factory: Factory, destructions: DestructionService, db: Database
) -> None:
    day = await cast(factory, items=3)
    event = await approved(destructions, day)
    await destructions.verify(day.witnesses[0], event.id, Verification(codes=day.codes))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
    await destructions.add_photo(day.clerk, event.id, Stage.BEFORE, photo(), "image/png")
    partly = right_after_attesting([Method.SMELTING], returned=day.codes[2:])
    now = partly.started_at
    with pytest.raises(Conflict, match="photographs"):
        await destructions.complete(day.witnesses[0], event.id, partly)
    await destructions.add_photo(day.clerk, event.id, Stage.AFTER, photo("blue"), "image/png")
    with pytest.raises(InvalidInput, match="say why"):
        await destructions.complete(day.witnesses[0], event.id, partly)
    partly.reason = "furnace stopped"
    with pytest.raises(InvalidInput, match="ends after it starts"):
        await destructions.complete(day.witnesses[0], event.id, Completion([Method.SMELTING], started_at=now, ended_at=now))
    await destructions.complete(day.witnesses[0], event.id, partly)
    assert await statuses(db, day.codes[:2]) == {Status.DESTROYED.value}
    assert await statuses(db, day.codes[2:]) == {Status.APPROVED_FOR_DESTRUCTION.value}
    with pytest.raises(PermissionDenied, match="another witness"):
        await destructions.check_residue(day.manager, event.id, ResidueCheck("checked"))
    with pytest.raises(Conflict, match="the residue check is not recorded yet"):
        await destructions.certify(day.manager, event.id)


async def test_depot_staff_act_only_on_their_depots_events(factory: Factory, destructions: DestructionService) -> None:
    day = await cast(factory, items=1)
    outsider = await factory.actor(Role.DEPOT_MANAGER, depots=[await factory.depot()])
    with pytest.raises(PermissionDenied):
        await destructions.plan(outsider, plan(day))
    event = await destructions.plan(day.clerk, plan(day))
    for attempt in (
        destructions.change_manifest(outsider, event.id, ManifestChange(add=day.codes)),
        destructions.approve(outsider, event.id),
        destructions.get(outsider, event.id),
    ):
        with pytest.raises(PermissionDenied):
            await attempt
    inspector = await factory.actor(Role.INSPECTOR)
    assert (await destructions.get(inspector, event.id)).event.code == event.code
    with pytest.raises(PermissionDenied):
        await destructions.verify(inspector, event.id, Verification(codes=day.codes))
    assert [e.code for e in await destructions.list(outsider)] == []


async def test_a_witness_sees_the_events_waiting_for_them(factory: Factory, destructions: DestructionService) -> None:
    day = await cast(factory, items=1)
    event = await approved(destructions, day)
    assert [e.code for e in await destructions.waiting_for(day.witnesses[0])] == [event.code]
    await destructions.verify(day.clerk, event.id, Verification(codes=day.codes))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    await destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.BEFORE, digest))
    assert await destructions.waiting_for(day.witnesses[0]) == []
    assert await destructions.waiting_for(day.manager) == []  # the approver


async def test_a_held_item_released_by_a_court_order_can_then_be_destroyed(factory: Factory, destructions: DestructionService) -> None:
    day = await cast(factory, items=0)
    held = await factory.item(day.depot, intake_source=IntakeSource.SEIZED, case_reference="KT-2/26")
    event = await destructions.plan(day.clerk, plan(day))
    with pytest.raises(Conflict, match="evidence hold"):
        await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=[held.code]))
    for change in (
        StatusChange(Action.RELEASE_HOLD, "case closed", court_order="K-55/26"),
        StatusChange(Action.DECLARE_SURPLUS, "no owner"),
        StatusChange(Action.APPROVE_DESTRUCTION, "destroy"),
    ):
        await factory.items.change_status(OPERATOR, "item", held.code, change)
    assert (await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=[held.code]))).added == [held.code]


async def test_records_travel_to_the_site_as_a_sealed_transfer_and_are_verified_there(
    factory: Factory, destructions: DestructionService, transfers: TransferService
) -> None:
    day = await cast(factory, items=2)
    site = await factory.depot(kind=DepotKind.DESTRUCTION_FACILITY)
    event = await destructions.plan(day.clerk, plan(day, site_depot_id=site.id))
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes))
    await destructions.approve(day.manager, event.id)
    sent = await transfers.dispatch(day.clerk, NewTransfer(day.depot.id, site.id, day.codes, seals=["RS-S-0099"]))
    at_site = await factory.actor(Role.DEPOT_CLERK, depots=[site])
    with pytest.raises(Conflict, match="in transit"):
        await destructions.verify(at_site, event.id, Verification(day.codes))
    await transfers.receive(at_site, sent.transfer.id, day.codes)
    assert await destructions.verify(at_site, event.id, Verification(day.codes)) == day.codes


async def test_a_witness_attests_once_to_each_stage_and_again_only_to_an_amended_manifest(
    factory: Factory, destructions: DestructionService, ledger: Ledger
) -> None:
    day = await cast(factory, items=2)
    witness = day.witnesses[0]
    event = await approved(destructions, day, day.codes[:1])
    await destructions.verify(day.clerk, event.id, Verification(codes=day.codes[:1]))
    first = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, first, "the rifle was there"))
    size = await ledger.size()
    with pytest.raises(Conflict, match=r"you attested before destruction already, at \d{4}-\d\d-\d\d \d\d:\d\d Europe/Belgrade"):
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, first))
    assert await ledger.size() == size
    view = await destructions.get(day.manager, event.id)
    given = view.attestation_by(witness.id, Stage.BEFORE, first)
    assert given is not None
    assert given.statement == "the rifle was there"
    assert view.attestation_by(day.witnesses[1].id, Stage.BEFORE, first) is None
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes[1:], reason="second rifle found"))
    await destructions.approve(day.manager, event.id)
    await destructions.verify(day.clerk, event.id, Verification(codes=day.codes[1:]))
    second = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    assert (await destructions.get(day.manager, event.id)).attestation_by(witness.id, Stage.BEFORE, second) is None
    await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, second))  # to the manifest as it is now


async def test_a_witness_attests_to_the_result_once(factory: Factory, destructions: DestructionService) -> None:
    day = await cast(factory, items=1)
    event = await approved(destructions, day)
    await through_the_day(destructions, day, event)
    digest = await destructions.current_sha256(day.manager, event.id, Stage.AFTER)
    await destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.AFTER, digest))
    with pytest.raises(Conflict, match="you attested after destruction already"):
        await destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.AFTER, digest))
    view = await destructions.get(day.manager, event.id)
    assert len(view.valid_attestations(Stage.AFTER, digest)) == 1


DAY = dt.date(2026, 6, 10)


def at(hour: int, minute: int, day: dt.date = DAY, second: int = 0) -> dt.datetime:
    """A time in Belgrade (the test deployment's zone, UTC+2 in June)."""
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=ZoneInfo("Europe/Belgrade"))


async def refused(ledger: Ledger, attempt: Awaitable[object], error: type[Exception], says: str) -> None:
    """``attempt`` is refused with ``error`` saying ``says``, and nothing joins the ledger."""
    size = await ledger.size()
    with pytest.raises(error) as caught:
        await attempt
    assert says in str(caught.value)
    assert await ledger.size() == size


async def test_each_step_of_the_day_refuses_a_time_before_the_one_it_follows(
    factory: Factory, destructions: DestructionService, ledger: Ledger
) -> None:
    clock = [at(8, 0)]
    ledger.clock = lambda: clock[0]
    day = await cast(factory, items=2)
    event = await destructions.plan(day.clerk, plan(day, planned_date=DAY, authority_date=DAY - dt.timedelta(days=10)))
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes))
    clock[0] = at(8, 30)
    await destructions.approve(day.manager, event.id)
    clock[0] = at(8, 10)
    says = "records cannot be verified at 2026-06-10 08:10 Europe/Belgrade, before the manifest was approved at 2026-06-10 08:30"
    await refused(ledger, destructions.verify(day.clerk, event.id, Verification(day.codes)), Conflict, says)
    clock[0] = at(9, 0)
    await destructions.verify(day.clerk, event.id, Verification(day.codes))
    before = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    clock[0] = at(8, 50)
    says = "an attestation at 2026-06-10 08:50 Europe/Belgrade cannot come before the last verification at the site at 2026-06-10 09:00"
    await refused(ledger, destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.BEFORE, before)), Conflict, says)
    clock[0] = at(9, 40, second=15)  # a start typed as 09:40 follows it: times are typed to the minute
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, before))
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):
        await destructions.add_photo(day.clerk, event.id, stage, photo(colour), "image/png")
    clock[0] = at(11, 5)
    early = Completion([Method.SMELTING], started_at=at(9, 10), ended_at=at(11, 0))
    says = (
        "the destruction cannot start at 2026-06-10 09:10 Europe/Belgrade before the last before-destruction attestation "
        "at 2026-06-10 09:40 Europe/Belgrade"
    )
    await refused(ledger, destructions.complete(day.witnesses[0], event.id, early), InvalidInput, says)
    unauthorised = Completion([Method.SMELTING], started_at=at(9, 50, DAY - dt.timedelta(days=11)), ended_at=at(11, 0))
    says = "cannot start at 2026-05-30 09:50 Europe/Belgrade, before the legal authority of 2026-05-31"
    await refused(ledger, destructions.complete(day.witnesses[0], event.id, unauthorised), InvalidInput, says)
    assert (await destructions.get(day.manager, event.id)).event.status == EventStatus.IN_PROGRESS
    await destructions.complete(day.witnesses[0], event.id, Completion([Method.SMELTING], started_at=at(9, 40), ended_at=at(11, 0)))
    after = await destructions.current_sha256(day.manager, event.id, Stage.AFTER)
    clock[0] = at(10, 55)
    says = "an attestation at 2026-06-10 10:55 Europe/Belgrade cannot come before the destruction ended at 2026-06-10 11:00"
    await refused(ledger, destructions.attest(day.witnesses[0], event.id, AttestationInput(Stage.AFTER, after)), Conflict, says)
    says = "the residue cannot be checked at 2026-06-10 10:55 Europe/Belgrade, before the destruction ended at 2026-06-10 11:00"
    await refused(ledger, destructions.check_residue(day.witnesses[1], event.id, ResidueCheck("frames melted")), Conflict, says)
    clock[0] = at(11, 30)
    await destructions.check_residue(day.witnesses[1], event.id, ResidueCheck("frames melted"))
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.AFTER, after))
    clock[0] = at(11, 20)
    says = "cannot be issued at 2026-06-10 11:20 Europe/Belgrade, before the last attestation of the result at 2026-06-10 11:30"
    await refused(ledger, destructions.certify(day.manager, event.id), Conflict, says)
    clock[0] = at(12, 0)
    await destructions.certify(day.manager, event.id)
    async with ledger.db.read() as session:
        content = await statement(session, event.id)
    minutes = sorted(w["attested_at"][:16] for w in content["witnesses"])  # to the minute, as the certificate prints them
    assert minutes[1] <= content["started_at"][:16] < content["ended_at"][:16] <= minutes[2]
