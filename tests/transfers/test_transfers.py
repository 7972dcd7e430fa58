"""Transfers: a sealed manifest in transit, received by scanning; missing and extra records are discrepancies."""

from __future__ import annotations

import pytest

from caliber.accounts.models import Role
from caliber.depots.models import DepotKind
from caliber.destruction.schemas import ManifestChange
from caliber.destruction.service import DestructionService
from caliber.errors import Conflict, InvalidInput, PermissionDenied
from caliber.items.lifecycle import Action, IntakeSource, Status
from caliber.items.schemas import StatusChange
from caliber.items.service import ItemService
from caliber.transfers.schemas import LotPart, NewTransfer
from caliber.transfers.service import TransferService
from tests.destruction.helpers import cast, plan
from tests.factories import OPERATOR, Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def test_dispatch_then_receive_with_a_missing_and_an_extra(factory: Factory, items: ItemService, transfers: TransferService) -> None:
    here, there = await factory.depot(), await factory.depot()
    room = await factory.location(there)
    sent = [await factory.item(here) for _ in range(3)]
    stray = await factory.item(here)
    await items.change_status(OPERATOR, "item", sent[0].code, StatusChange(Action.DECLARE_SURPLUS, "old"))
    lot = await factory.lot(here, quantity=1000)
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[here])
    view = await transfers.dispatch(
        clerk,
        NewTransfer(here.id, there.id, [i.code for i in sent], [LotPart(lot.code, 400)], seals=["S-001", "S-002"]),
    )
    assert view.transfer.status == "in_transit"
    assert view.transfer.seals == "S-001, S-002"
    assert len(view.lines) == 4
    part_code = next(line.code for line in view.lines if line.kind == "lot")
    assert (await items.get(OPERATOR, "lot", lot.code)).quantity == 600
    for item in sent:
        moved = await items.get(OPERATOR, "item", item.code)
        assert (moved.status, moved.location_id) == (Status.IN_TRANSIT, None)

    receiver = await factory.actor(Role.DEPOT_CLERK, depots=[there])
    with pytest.raises(PermissionDenied):
        await transfers.receive(clerk, view.transfer.id, [sent[0].code])
    done = await transfers.receive(receiver, view.transfer.id, [sent[0].code, sent[1].code, part_code, stray.code], room.id)
    outcomes = {line.code: line.outcome for line in done.lines}
    assert outcomes == {
        sent[0].code: "received",
        sent[1].code: "received",
        sent[2].code: "missing",
        part_code: "received",
        stray.code: "extra",
    }
    first = await items.get(OPERATOR, "item", sent[0].code)
    assert (first.depot_id, first.status, first.location_id) == (there.id, Status.SURPLUS, room.id)
    lost = await items.get(OPERATOR, "item", sent[2].code)
    assert (lost.status, lost.prior_status) == (Status.MISSING, Status.AWAITING_DECISION)
    assert (await items.get(OPERATOR, "item", stray.code)).depot_id == here.id  # an extra is recorded, not moved
    with pytest.raises(Conflict, match="received already"):
        await transfers.receive(receiver, view.transfer.id, [])


async def test_a_manifest_holds_only_records_on_the_shelves_of_the_sending_depot(
    factory: Factory, items: ItemService, transfers: TransferService
) -> None:
    here, there = await factory.depot(), await factory.depot()
    elsewhere = await factory.item(there)
    with pytest.raises(Conflict, match="not in depot"):
        await transfers.dispatch(OPERATOR, NewTransfer(here.id, there.id, [elsewhere.code]))
    gone = await factory.item(here)
    await items.change_status(OPERATOR, "item", gone.code, StatusChange(Action.RETURN_TO_OWNER, "court ruling"))
    with pytest.raises(Conflict, match="returned to owner"):
        await transfers.dispatch(OPERATOR, NewTransfer(here.id, there.id, [gone.code]))
    with pytest.raises(InvalidInput, match="another depot"):
        await transfers.dispatch(OPERATOR, NewTransfer(here.id, here.id, [gone.code]))
    with pytest.raises(InvalidInput, match="empty"):
        await transfers.dispatch(OPERATOR, NewTransfer(here.id, there.id))


async def test_evidence_may_move_between_stores_and_keeps_its_hold(
    factory: Factory, items: ItemService, transfers: TransferService
) -> None:
    here, there = await factory.depot(), await factory.depot()
    held = await factory.item(here, intake_source=IntakeSource.SEIZED, case_reference="K-9")
    view = await transfers.dispatch(OPERATOR, NewTransfer(here.id, there.id, [held.code]))
    await transfers.receive(OPERATOR, view.transfer.id, [held.code])
    assert (await items.get(OPERATOR, "item", held.code)).status == Status.EVIDENCE_HOLD


async def test_a_record_on_an_open_destruction_manifest_goes_only_to_the_destruction_site(
    factory: Factory, destructions: DestructionService, transfers: TransferService, items: ItemService
) -> None:
    day = await cast(factory, items=2, lots=1)
    site = await factory.depot(kind=DepotKind.DESTRUCTION_FACILITY)
    elsewhere = await factory.depot()
    event = await destructions.plan(day.clerk, plan(day, site_depot_id=site.id))
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes))
    await destructions.approve(day.manager, event.id)
    weapon, _, lot = day.codes
    with pytest.raises(Conflict, match=f"{weapon} is on the manifest of destruction {event.code}"):
        await transfers.dispatch(day.clerk, NewTransfer(day.depot.id, elsewhere.id, [weapon]))
    with pytest.raises(Conflict, match=f"{lot} is on the manifest of destruction {event.code}: it is sent whole"):
        await transfers.dispatch(day.clerk, NewTransfer(day.depot.id, site.id, lot_parts=[LotPart(lot, 10)]))
    assert await transfers.list(day.manager) == []
    assert (await items.get(OPERATOR, "item", weapon)).status == Status.APPROVED_FOR_DESTRUCTION
    sent = await transfers.dispatch(day.clerk, NewTransfer(day.depot.id, site.id, day.codes))
    assert len(sent.lines) == 3
