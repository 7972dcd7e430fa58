"""Items and ammunition lots: intake, label codes, duplicates, the lifecycle table, corrections, moves, splits.

Every test here ends with ``caliber ledger check``: the ledger replays into
exactly the live tables.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliber.accounts.models import Role
from caliber.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from caliber.items.lifecycle import TRANSITIONS, Action, IntakeSource, Status
from caliber.items.models import ComponentType, ItemKind
from caliber.items.schemas import Correction, StatusChange
from caliber.items.service import ItemService
from caliber.labels.codes import is_valid
from caliber.ledger.store import Ledger
from tests.factories import OPERATOR, Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def test_intake_issues_label_codes_and_records_one_event_each(factory: Factory, ledger: Ledger) -> None:
    depot = await factory.depot()
    room = await factory.location(depot)
    before = await ledger.size()
    items = await factory.items.register_items(OPERATOR, [factory.new_item(depot, location_id=room.id) for _ in range(3)])
    assert [i.code for i in items] == sorted(i.code for i in items)
    assert all(is_valid(i.code) for i in items)
    assert len({i.code for i in items} | {room.code}) == 4
    assert await ledger.size() == before + 3
    assert {i.status for i in items} == {Status.AWAITING_DECISION}
    kind, found = await factory.items.find(OPERATOR, f"https://caliber.example/s/{items[1].code}")
    assert kind == "item"
    assert found.id == items[1].id


async def test_seized_items_start_on_evidence_hold_and_need_a_case_reference(factory: Factory) -> None:
    depot = await factory.depot()
    with pytest.raises(InvalidInput, match="case reference"):
        await factory.item(depot, intake_source=IntakeSource.SEIZED)
    item = await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="K-123/2026")
    assert item.status == Status.EVIDENCE_HOLD


async def test_duplicate_identity_is_flagged_never_merged_or_refused(factory: Factory) -> None:
    depot = await factory.depot()
    first = await factory.item(depot, serial="AB 1234")
    second = await factory.item(depot, serial="ab1234", manufacturer=" zastava ", model="m70")
    assert second.duplicate_review == "open"
    assert first.duplicate_review is None
    assert [d.code for d in await factory.items.duplicates_of(OPERATOR, second)] == [first.code]
    unreadable = [await factory.item(depot, serial="illegible") for _ in range(2)]
    assert [u.duplicate_review for u in unreadable] == [None, None]
    reviewed = await factory.items.review_duplicate(OPERATOR, second.code, "distinct", "different proof marks")
    assert reviewed.duplicate_review == "cleared"
    with pytest.raises(Conflict, match="no open duplicate review"):
        await factory.items.review_duplicate(OPERATOR, second.code, "distinct", "again")


async def test_components_name_their_type_and_an_existing_parent(factory: Factory) -> None:
    depot = await factory.depot()
    weapon = await factory.item(depot)
    with pytest.raises(InvalidInput, match="needs its type"):
        await factory.item(depot, kind=ItemKind.COMPONENT)
    with pytest.raises(InvalidInput, match="no weapon with label code"):
        await factory.item(depot, kind=ItemKind.COMPONENT, component_type=ComponentType.BARREL, parent_code="0000000000")
    barrel = await factory.item(depot, kind=ItemKind.COMPONENT, component_type=ComponentType.BARREL, parent_code=weapon.code)
    assert barrel.parent_code == weapon.code


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"country_of_manufacture": "QQ"}, "not an ISO 3166-1"),
        ({"year_of_manufacture": 1980, "import_year": 1970}, "before it was made"),
    ],
)
async def test_bad_fields_are_named(factory: Factory, overrides: dict[str, object], says: str) -> None:
    depot = await factory.depot()
    with pytest.raises(InvalidInput, match=says):
        await factory.item(depot, **overrides)


async def test_former_states_are_countries_of_manufacture(factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, country_of_manufacture="YU", year_of_manufacture=1978)
    assert item.country_of_manufacture == "YU"


async def test_depot_staff_take_in_only_for_their_own_depots(factory: Factory) -> None:
    depot, other = await factory.depot(), await factory.depot()
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    assert (await factory.items.register_items(clerk, [factory.new_item(depot)]))[0].depot_id == depot.id
    with pytest.raises(PermissionDenied, match="not assigned"):
        await factory.items.register_items(clerk, [factory.new_item(other)])
    official = await factory.actor(Role.MINISTRY_OFFICIAL)
    with pytest.raises(PermissionDenied):
        await factory.items.register_items(official, [factory.new_item(depot)])


async def test_an_intake_batch_is_all_or_nothing(factory: Factory, ledger: Ledger) -> None:
    depot = await factory.depot()
    before = await ledger.size()
    batch = [factory.new_item(depot), factory.new_item(depot, intake_source=IntakeSource.SEIZED)]
    with pytest.raises(InvalidInput, match="record 2: a seized record"):
        await factory.items.register_items(OPERATOR, batch)
    assert await ledger.size() == before
    page = await factory.items.search(OPERATOR, {"depot_id": depot.id})
    assert page.records == []


# -- the lifecycle table ----------------------------------------------------------------

MANUAL = [action for action, rule in TRANSITIONS.items() if rule.manual]


async def item_in(factory: Factory, status: Status) -> str:
    """An item brought to ``status`` through the allowed path."""
    depot = await factory.depot()
    seized = status is Status.EVIDENCE_HOLD
    item = await factory.item(depot, intake_source=IntakeSource.SEIZED if seized else IntakeSource.FOUND, case_reference="K-1")
    path = {
        Status.AWAITING_DECISION: [],
        Status.EVIDENCE_HOLD: [],
        Status.SURPLUS: [Action.DECLARE_SURPLUS],
        Status.APPROVED_FOR_DESTRUCTION: [Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION],
        Status.RETAINED: [Action.RETAIN],
        Status.MISSING: [Action.REPORT_MISSING],
        Status.RETURNED_TO_OWNER: [Action.RETURN_TO_OWNER],
        Status.VOID: [Action.VOID],
    }[status]
    for action in path:
        await factory.items.change_status(OPERATOR, "item", item.code, StatusChange(action, "test path"))
    return item.code


STATUSES = [
    Status.AWAITING_DECISION,
    Status.EVIDENCE_HOLD,
    Status.SURPLUS,
    Status.APPROVED_FOR_DESTRUCTION,
    Status.RETAINED,
    Status.MISSING,
    Status.RETURNED_TO_OWNER,
    Status.VOID,
]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", MANUAL)
async def test_every_manual_transition_is_allowed_or_refused_by_the_table(factory: Factory, status: Status, action: Action) -> None:
    code = await item_in(factory, status)
    rule = TRANSITIONS[action]
    change = StatusChange(action, "because", court_order="Court order 7/2026" if rule.needs_court_order else "")
    if status in rule.sources:
        item = await factory.items.change_status(OPERATOR, "item", code, change)
        expected = rule.target or Status.AWAITING_DECISION  # report_found returns to where it was
        assert item.status == expected
    else:
        with pytest.raises(Conflict):
            await factory.items.change_status(OPERATOR, "item", code, change)


async def test_a_hold_is_released_only_with_a_court_order_and_blocks_surplus(factory: Factory) -> None:
    code = await item_in(factory, Status.EVIDENCE_HOLD)
    with pytest.raises(Conflict, match="evidence hold"):
        await factory.items.change_status(OPERATOR, "item", code, StatusChange(Action.DECLARE_SURPLUS, "tidy up"))
    with pytest.raises(InvalidInput, match="court order"):
        await factory.items.change_status(OPERATOR, "item", code, StatusChange(Action.RELEASE_HOLD, "case closed"))
    item = await factory.items.change_status(OPERATOR, "item", code, StatusChange(Action.RELEASE_HOLD, "case closed", "Ruling 12/2026"))
    assert (item.status, item.court_order) == (Status.AWAITING_DECISION, "Ruling 12/2026")


async def test_surplus_and_destruction_approval_are_managers_work(factory: Factory) -> None:
    depot = await factory.depot()
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    manager = await factory.actor(Role.DEPOT_MANAGER, depots=[depot])
    item = await factory.item(depot)
    with pytest.raises(PermissionDenied, match="depot_manager"):
        await factory.items.change_status(clerk, "item", item.code, StatusChange(Action.DECLARE_SURPLUS, "old stock"))
    changed = await factory.items.change_status(manager, "item", item.code, StatusChange(Action.DECLARE_SURPLUS, "old stock"))
    assert changed.status == Status.SURPLUS


async def test_work_flow_actions_cannot_be_taken_by_hand(factory: Factory) -> None:
    code = await item_in(factory, Status.APPROVED_FOR_DESTRUCTION)
    with pytest.raises(Conflict, match="work flow"):
        await factory.items.change_status(OPERATOR, "item", code, StatusChange(Action.DESTROY, "shortcut"))


# -- corrections ------------------------------------------------------------------------------


async def test_a_correction_keeps_old_and_new_and_updates_identity(factory: Factory, ledger: Ledger) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, serial="123456")
    corrected = await factory.items.correct(OPERATOR, "item", item.code, Correction("serial", "128456", "misread 3 for 8"))
    assert corrected.serial == "128456"
    assert corrected.serial_key == "128456"
    async with ledger.db.read() as session:
        from caliber.ledger import store

        (last,) = await store.read_entries(session, await ledger.size() - 1, await ledger.size())
    assert last.event["type"] == "item.corrected"
    assert last.event["data"] == {"code": item.code, "field": "serial", "old": "123456", "new": "128456", "reason": "misread 3 for 8"}


@pytest.mark.parametrize(
    ("field", "value", "error", "says"),
    [
        ("status", "destroyed", InvalidInput, "cannot be corrected"),
        ("depot_id", "x", InvalidInput, "cannot be corrected"),
        ("year_of_manufacture", 1700, InvalidInput, "Year of manufacture must be a year from 1800 to 2100"),
        ("year_of_manufacture", "twelve", InvalidInput, "Year of manufacture must be a year"),
        ("un_type", "laser", InvalidInput, "Choose one of the listed UN SALW types"),
        ("manufacturer", "Zastava", Conflict, "already"),
    ],
)
async def test_bad_corrections_are_refused(factory: Factory, field: str, value: object, error: type[Exception], says: str) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    with pytest.raises(error, match=says):
        await factory.items.correct(OPERATOR, "item", item.code, Correction(field, value, "why"))  # type: ignore[arg-type]


# -- moves ----------------------------------------------------------------------------------


async def test_moves_by_location_code_are_one_event_per_record(factory: Factory, ledger: Ledger) -> None:
    depot = await factory.depot()
    room, rack = await factory.location(depot), await factory.location(depot, "Rack 1")
    items = [await factory.item(depot, location_id=room.id) for _ in range(2)]
    lot = await factory.lot(depot)
    before = await ledger.size()
    assert rack.code is not None
    done = await factory.items.move(OPERATOR, [i.code for i in items] + [lot.code], location_code=rack.code)
    assert await ledger.size() == before + 3
    assert sorted(done.codes) == sorted([i.code for i in items] + [lot.code])
    again = await factory.items.move(OPERATOR, [items[0].code], location_code=rack.code)  # there already: no event
    assert again.codes == []
    assert again.location.id == rack.id
    assert await ledger.size() == before + 3
    moved = await factory.items.search(OPERATOR, {"location_id": rack.id})
    assert {i.code for i in moved.records} == {i.code for i in items}
    assert (await factory.items.get(OPERATOR, "lot", lot.code)).location_id == rack.id


async def test_moves_stay_inside_the_depot_and_on_the_shelves(factory: Factory) -> None:
    depot, other = await factory.depot(), await factory.depot()
    elsewhere = await factory.location(other)
    item = await factory.item(depot)
    with pytest.raises(Conflict, match="another depot"):
        await factory.items.move(OPERATOR, [item.code], location_id=elsewhere.id)
    gone = await item_in(factory, Status.RETURNED_TO_OWNER)
    gone_item = await factory.items.get(OPERATOR, "item", gone)
    shelf = await factory.location(await factory.inventory.depot(OPERATOR, gone_item.depot_id))
    with pytest.raises(Conflict, match="only records on the shelves"):
        await factory.items.move(OPERATOR, [gone], location_id=shelf.id)
    with pytest.raises(NotFound, match="0000000000"):
        await factory.items.move(OPERATOR, ["0000000000"], location_id=shelf.id)


# -- search ---------------------------------------------------------------------------------


async def test_search_by_partial_serial_filters_and_keyset_pages(factory: Factory) -> None:
    depot = await factory.depot()
    made = [await factory.item(depot, serial=f"AK-47{n:03d}X") for n in range(7)]
    await factory.item(depot, serial="OTHER1", manufacturer="Fabrika e Gramshit")
    page = await factory.items.search(OPERATOR, {"q": "47 00", "depot_id": depot.id}, limit=3)
    seen = [i.code for i in page.records]
    while page.next_after is not None:
        page = await factory.items.search(OPERATOR, {"q": "47 00", "depot_id": depot.id}, after=page.next_after, limit=3)
        seen += [i.code for i in page.records]
    assert seen == [i.code for i in reversed(made)]
    assert [i.code for i in (await factory.items.search(OPERATOR, {"q": made[2].code})).records] == [made[2].code]
    assert len((await factory.items.search(OPERATOR, {"manufacturer": "Fabrika  e Gramshit"})).records) == 1
    assert (await factory.items.search(OPERATOR, {"q": "%"})).records == []


async def test_search_stays_in_the_actors_depots(factory: Factory) -> None:
    depot, other = await factory.depot(), await factory.depot()
    mine, theirs = await factory.item(depot), await factory.item(other)
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    assert [i.code for i in (await factory.items.search(clerk, {})).records] == [mine.code]
    with pytest.raises(PermissionDenied):
        await factory.items.get(clerk, "item", theirs.code)
    with pytest.raises(PermissionDenied):
        await factory.items.find(clerk, theirs.code)


# -- lots --------------------------------------------------------------------------------


async def test_lot_masses_are_kept_to_the_gram(factory: Factory) -> None:
    depot = await factory.depot()
    lot = await factory.lot(depot, gross_mass_kg="1234.567", net_explosive_mass_kg="0.005")
    assert (lot.gross_mass_g, lot.net_explosive_mass_g) == (1_234_567, 5)
    with pytest.raises(InvalidInput, match="cannot exceed"):
        await factory.lot(depot, gross_mass_kg="1", net_explosive_mass_kg="2")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_splits_conserve_pieces_and_mass_and_never_go_negative(factory: Factory, items: ItemService, data: st.DataObject) -> None:
    depot = await factory.depot()
    quantity = data.draw(st.integers(2, 50_000), label="quantity")
    gross = data.draw(st.integers(1, 10**7), label="gross grams")
    net = data.draw(st.integers(0, gross), label="net grams")
    lot = await factory.lot(depot, quantity=quantity, gross_mass_kg=f"{gross / 1000:.3f}", net_explosive_mass_kg=f"{net / 1000:.3f}")
    lots = [lot]
    for _ in range(data.draw(st.integers(1, 4), label="splits")):
        source = data.draw(st.sampled_from([x for x in lots if x.quantity > 1] or [None]), label="source")
        if source is None:
            break
        take = data.draw(st.integers(1, source.quantity - 1), label="take")
        lots.append(await items.split_lot(OPERATOR, source.code, take, "part to destruction"))
        lots = [await items.get(OPERATOR, "lot", x.code) for x in lots]
    assert sum(x.quantity for x in lots) == quantity
    assert sum(x.gross_mass_g for x in lots) == gross
    assert sum(x.net_explosive_mass_g for x in lots) == net
    assert all(x.quantity > 0 and x.gross_mass_g >= 0 and x.net_explosive_mass_g >= 0 for x in lots)
    assert {x.lot_number for x in lots} == {lot.lot_number}
    for bad in (0, lots[0].quantity, -1):
        with pytest.raises(InvalidInput, match="a split takes"):
            await items.split_lot(OPERATOR, lots[0].code, bad, "too much")


@pytest.mark.parametrize("sha256", ["a\x00b", "0" * 63, "G" * 64, "0" * 64 + "\u202e"])
async def test_the_codes_of_an_import_are_asked_for_by_its_sha256_only(factory: Factory, sha256: str) -> None:
    """The destruction manifest form sends what it is given: a NUL reached PostgreSQL and answered 500."""
    with pytest.raises(InvalidInput, match="64 hexadecimal digits"):
        await factory.items.import_codes(sha256)
    assert await factory.items.import_codes("0" * 64) == []
