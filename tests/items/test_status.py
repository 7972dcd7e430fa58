"""One function moves records between statuses: every work flow's event is refused and placed the same way."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from uuid import uuid4

import pytest

from caliber.accounts.models import Role
from caliber.destruction.events import DestructionDestroyed
from caliber.destruction.models import Method
from caliber.destruction.service import DestructionService
from caliber.errors import Conflict
from caliber.items.events import ItemStatusChanged
from caliber.items.lifecycle import Action, Status, leads_to, transition
from caliber.items.schemas import StatusChange
from caliber.items.service import ItemService
from caliber.items.status import Arrival, apply_transition
from caliber.ledger.events import Event
from caliber.ledger.store import Ledger
from caliber.stockchecks.events import StockCheckClosed
from caliber.stockchecks.schemas import NewStockCheck
from caliber.stockchecks.service import StockCheckService
from caliber.transfers.events import TransferDispatched
from tests.destruction.helpers import cast, plan
from tests.factories import OPERATOR, Factory

MOMENT = dt.datetime(2026, 6, 30, 9, 0, tzinfo=dt.UTC)


def _record(status: Status, prior: Status | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        code="1234567890", status=status.value, prior_status=prior.value if prior else None, depot_id=None, location_id=uuid4()
    )


async def test_a_move_the_rules_refuse_is_refused_the_same_way_by_every_path(
    factory: Factory,
    ledger: Ledger,
    items: ItemService,
    stockchecks: StockCheckService,
    destructions: DestructionService,
) -> None:
    day = await cast(factory, items=0)
    here, there = day.depot, await factory.depot()
    void = await factory.item(here)
    await items.change_status(OPERATOR, "item", void.code, StatusChange(Action.VOID, "recorded twice"))
    check = await stockchecks.open(OPERATOR, NewStockCheck(there.id))
    destruction = await destructions.plan(day.clerk, plan(day))
    code = void.code
    refused: dict[str, Event] = {
        "declared surplus": ItemStatusChanged(
            code=code, action=Action.DECLARE_SURPLUS, from_=Status.AWAITING_DECISION, to=Status.SURPLUS, reason="", court_order=""
        ),
        "dispatched": TransferDispatched(
            id=uuid4(), from_depot_id=here.id, to_depot_id=there.id, items=[code], lots=[], seals=[], notes=""
        ),
        "reported missing": StockCheckClosed(
            id=check.check.id, found=0, missing=[code], gone_since=[], wrong_location=[], unknown=[], lot_differences=[]
        ),
        "destroyed": DestructionDestroyed(id=destruction.id, codes=[code], methods=[Method.SMELTING]),
    }
    for past, event in refused.items():  # recorded as they stand, past the services' own checks: the applier refuses
        with pytest.raises(Conflict, match=f"^{code} is void: it cannot be {past}$"):
            async with ledger.write(OPERATOR) as tx:
                await tx.record(event, [code])
    kept = await items.get(OPERATOR, "item", code)
    assert (kept.status, kept.prior_status) == (Status.VOID, None)


def test_going_in_transit_or_missing_remembers_the_status_left_and_clears_the_location() -> None:
    for action, target in ((Action.DISPATCH, Status.IN_TRANSIT), (Action.REPORT_MISSING, Status.MISSING)):
        record = _record(Status.SURPLUS)
        assert apply_transition(record, action, MOMENT) is target
        assert (record.status, record.prior_status, record.location_id) == (target, Status.SURPLUS, None)
        assert record.status_changed_at == MOMENT


def test_missing_from_transit_remembers_the_status_it_travelled_in() -> None:
    record = _record(Status.IN_TRANSIT, prior=Status.RETAINED)
    apply_transition(record, Action.REPORT_MISSING, MOMENT)
    assert (record.status, record.prior_status) == (Status.MISSING, Status.RETAINED)
    apply_transition(record, Action.REPORT_FOUND, MOMENT)
    assert (record.status, record.prior_status) == (Status.RETAINED, None)


def test_an_arrival_puts_the_record_in_its_new_depot_and_location() -> None:
    record = _record(Status.IN_TRANSIT, prior=Status.SURPLUS)
    depot, shelf = uuid4(), uuid4()
    apply_transition(record, Action.RECEIVE, MOMENT, arrival=Arrival(depot, shelf))
    assert (record.status, record.prior_status, record.depot_id, record.location_id) == (Status.SURPLUS, None, depot, shelf)


def test_a_step_that_stays_on_the_shelves_keeps_the_location() -> None:
    record = _record(Status.APPROVED_FOR_DESTRUCTION)
    shelf = record.location_id
    apply_transition(record, Action.VERIFY_AT_SITE, MOMENT)
    assert (record.status, record.location_id) == (Status.VERIFIED_AT_SITE, shelf)
    apply_transition(record, Action.DESTROY, MOMENT)
    assert (record.status, record.location_id) == (Status.DESTROYED, None)


def test_a_person_cannot_report_missing_what_is_in_transit_but_a_transfer_can() -> None:
    with pytest.raises(Conflict, match="in transit: it cannot be reported missing"):
        transition(Action.REPORT_MISSING, Status.IN_TRANSIT, Status.SURPLUS, Role.DEPOT_MANAGER, code="1234567890")
    assert leads_to(Action.REPORT_MISSING, Status.IN_TRANSIT, Status.SURPLUS, code="1234567890", work_flow=True) is Status.MISSING
