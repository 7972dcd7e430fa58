"""iARMS hits linked to weapons: by label code, by serial and maker in any spelling, never across depots; once each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import Database
from caliber.errors import PermissionDenied
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.schemas import StatusChange
from caliber.ledger import store
from caliber.ledger.store import Ledger
from caliber.tracing import hits
from caliber.tracing.events import HitMatch
from caliber.tracing.hits import HitsReport
from caliber.tracing.hits_file import read_hits
from caliber.tracing.lifecycle import ExceptionReason, TraceState
from caliber.tracing.models import IarmsHit
from caliber.tracing.schemas import StepIn, TraceExceptionIn
from caliber.tracing.service import TracingService
from tests.factories import OPERATOR, Factory
from tests.tracing.hits_csv import hit, hits_csv

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def _import(tracing: TracingService, actor: Actor, rows: list[dict[str, str]]) -> HitsReport:
    return await tracing.record_iarms_hits(actor, read_hits(hits_csv(rows).splitlines(keepends=True), dt.date(2026, 12, 4)))


async def _hits(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(IarmsHit)) or 0)


async def test_hits_are_linked_by_code_and_by_serial_and_maker_in_any_spelling(factory: Factory, tracing: TracingService) -> None:
    depot = await factory.depot()
    clerk = await factory.actor(Role.DEPOT_CLERK, [depot])
    by_code = await factory.item(depot, serial="K-100")
    dashed = await factory.item(depot, serial="AB-12 34", manufacturer="Zastava")
    cyrillic = await factory.item(depot, serial="777", manufacturer="Crvena Zastava")
    other_maker = await factory.item(depot, serial="777", manufacturer="Tokarev Works")
    report = await _import(
        tracing,
        clerk,
        [
            hit("IA-1", "k100", record_reference=by_code.code),
            hit("IA-2", "ab1234", make="ZASTAVA ARMS"),
            hit("IA-3", "7 7-7", make="Застава"),
        ],
    )
    assert [(h.row, h.code, h.matched_by) for h in report.linked] == [
        (2, by_code.code, HitMatch.CODE),
        (3, dashed.code, HitMatch.SERIAL),
        (4, cyrillic.code, HitMatch.SERIAL),
    ]
    assert report.unmatched == report.ambiguous == report.known == []
    assert other_maker.code not in {h.code for h in report.linked}
    view = await tracing.trace(clerk, dashed.code)
    assert [(h.reference, h.reporting_country, h.reported_as, h.make) for h in view.hits] == [("IA-2", "DE", "stolen", "ZASTAVA ARMS")]
    assert view.state is TraceState.NOT_STARTED  # a hit alone does not start a trace


async def test_unmatched_ambiguous_and_other_depots_are_reported_not_linked(
    factory: Factory, tracing: TracingService, db: Database
) -> None:
    depot, elsewhere = await factory.depot(), await factory.depot()
    clerk = await factory.actor(Role.DEPOT_CLERK, [depot])
    twins = [await factory.item(depot, serial="TWIN-1"), await factory.item(depot, serial="twin1")]
    far = await factory.item(elsewhere, serial="FAR-1")
    shown = await factory.item(depot, serial="SHOWN-1")
    report = await _import(
        tracing,
        clerk,
        [
            hit("IA-1", "TWIN1"),
            hit("IA-2", "FAR-1"),
            hit("IA-3", "FAR-1", record_reference=far.code),
            hit("IA-4", "NOPE"),
            hit("IA-5", "OTHER-9", record_reference=shown.code),
            hit("IA-6", "SHOWN-1", make="Tokarev Works"),
        ],
    )
    assert report.linked == []
    assert [(a.row, a.codes) for a in report.ambiguous] == [(2, tuple(sorted(t.code for t in twins)))]
    reasons = {u.row: u.reason for u in report.unmatched}
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert reasons[3] == "no weapon of Zastava with serial FAR-1 in your depots"
    assert reasons[4] == f"no weapon with label code {far.code} in your depots"
    assert reasons[6] == f"the weapon with label code {shown.code} has serial SHOWN-1, not OTHER-9"
    assert await _hits(db) == 0
    admin = await _import(tracing, await factory.actor(Role.ADMIN), [hit("IA-2", "FAR-1")])
    assert [h.code for h in admin.linked] == [far.code]  # an admin's scope is every depot


async def test_a_hit_imported_again_is_already_known_and_recorded_once(
    factory: Factory, tracing: TracingService, ledger: Ledger, db: Database
) -> None:
    depot = await factory.depot()
    clerk = await factory.actor(Role.DEPOT_MANAGER, [depot])
    item = await factory.item(depot, serial="ONCE-1")
    first = await _import(tracing, clerk, [hit("IA-1", "ONCE-1"), hit("IA-2", "ONCE-1", reported_as="smuggled")])
    assert [h.code for h in first.linked] == [item.code, item.code]
    size = await ledger.size()
    again = await _import(tracing, clerk, [hit("IA-1", "ONCE-1"), hit("IA-2", "ONCE-1"), hit("IA-3", "NOPE")])
    assert again.linked == []
    assert [(k.row, k.reference, k.code) for k in again.known] == [(2, "IA-1", item.code), (3, "IA-2", item.code)]
    assert [u.row for u in again.unmatched] == [4]
    assert await ledger.size() == size
    assert await _hits(db) == 2


async def test_a_trace_at_the_domestic_check_records_the_iarms_query_with_its_first_hit(factory: Factory, tracing: TracingService) -> None:
    depot = await factory.depot()
    clerk = await factory.actor(Role.DEPOT_CLERK, [depot])
    checked = await factory.item(depot, serial="DC-1", intake_source=IntakeSource.FOUND)
    excepted = await factory.item(depot, serial="EX-1", intake_source=IntakeSource.FOUND)
    fresh = await factory.item(depot, serial="NS-1", intake_source=IntakeSource.FOUND)
    surplus = await factory.item(depot, serial="SP-1", intake_source=IntakeSource.SURPLUS)
    await tracing.record_step(clerk, checked.code, StepIn("domestic_check", reference="MUP 1"))
    manager = await factory.actor(Role.DEPOT_MANAGER, [depot])
    await tracing.record_step(manager, excepted.code, StepIn("domestic_check"))
    await tracing.record_exception(manager, excepted.code, TraceExceptionIn(ExceptionReason.UNDUE_DELAY, "destruction is due"))
    report = await _import(
        tracing,
        clerk,
        [
            hit("IA-1", "DC-1", reporting_country="AT", reported_as="trafficked", reported_on="2021-05-02"),
            hit("IA-2", "DC-1"),
            hit("IA-3", "EX-1"),
            hit("IA-4", "NS-1"),
            hit("IA-5", "SP-1"),
        ],
    )
    assert [(h.reference, h.queried) for h in report.linked] == [
        ("IA-1", True),
        ("IA-2", False),
        ("IA-3", False),
        ("IA-4", False),
        ("IA-5", False),
    ]
    assert report.queried == 1
    view = await tracing.trace(clerk, checked.code)
    assert view.state is TraceState.IARMS_QUERY
    assert [h.reference for h in view.hits] == ["IA-1", "IA-2"]
    assert (await tracing.trace(clerk, excepted.code)).state is TraceState.EXCEPTED
    assert (await tracing.trace(clerk, fresh.code)).state is TraceState.NOT_STARTED
    assert (await tracing.trace(clerk, surplus.code)).state is TraceState.NOT_STARTED
    async with tracing.db.read() as session:
        entries = await store.read_indexes(session, await store.subject_indexes(session, checked.code))
    events = [
        (e.event["type"], e.event["data"].get("step"), e.event["data"].get("hit", e.event["data"])["reference"]) for e in entries[-3:]
    ]
    assert events == [
        ("trace.iarms_hit", None, "IA-1"),
        ("trace.iarms_hit", None, "IA-2"),
        ("trace.step_recorded", "iarms_query", "IA-1"),
    ]
    assert entries[-1].event["data"]["finding"] == "hit: reported trafficked by AT on 2021-05-02"


async def test_only_depot_staff_and_admins_import_hits(factory: Factory, tracing: TracingService) -> None:
    for role in (Role.INSPECTOR, Role.MINISTRY_OFFICIAL, Role.WITNESS):
        with pytest.raises(PermissionDenied):
            await _import(tracing, await factory.actor(role), [hit("IA-1", "X1")])


async def test_a_weapon_voided_or_moved_between_matching_and_writing_gets_no_hit(
    factory: Factory, tracing: TracingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    depot = await factory.depot()
    clerk = await factory.actor(Role.DEPOT_CLERK, [depot])
    voided = await factory.item(depot, serial="VOID-1")
    kept = await factory.item(depot, serial="KEPT-1")
    write = hits._record_batch

    async def void_first(*args: Any) -> None:  # another clerk voids the record once the import has matched it
        await factory.items.change_status(OPERATOR, "item", voided.code, StatusChange(Action.VOID, "entered twice"))
        await write(*args)

    monkeypatch.setattr(hits, "_record_batch", void_first)
    report = await _import(tracing, clerk, [hit("IA-V", "void1"), hit("IA-K", "kept1")])
    assert [h.code for h in report.linked] == [kept.code]
    assert [(u.row, u.reason) for u in report.unmatched] == [(2, f"the record {voided.code} was voided during the import")]
    assert await _hits(tracing.db) == 1
