"""A component names the weapon it comes from: at intake and in a correction, the same checks (a weapon, in a depot
the person works in, not the component itself), and the same refusal whether the code is unknown or hidden."""

from __future__ import annotations

import pytest

from caliber.errors import InvalidInput
from caliber.items.models import ComponentType, ItemKind
from caliber.items.schemas import Correction
from caliber.ledger.store import Ledger
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")
BARREL = {"kind": ItemKind.COMPONENT, "component_type": ComponentType.BARREL}


async def test_intake_refuses_a_parent_in_a_depot_the_clerk_does_not_work_in(factory: Factory, ledger: Ledger) -> None:
    mine, theirs = await factory.depot(), await factory.depot()
    clerk = await factory.actor(depots=[mine])
    hidden = await factory.item(theirs)
    size = await ledger.size()
    refusals = []
    for parent in (hidden.code, "1000000000"):
        with pytest.raises(InvalidInput) as refused:
            await factory.items.register_items(clerk, [factory.new_item(mine, parent_code=parent, **BARREL)])
        refusals.append(refused.value.message.replace(parent, "CODE"))
    assert refusals == ["no weapon with label code CODE in the depots you work in"] * 2  # hidden reads as unknown
    assert await ledger.size() == size


async def test_a_correction_of_the_parent_makes_the_intake_checks(factory: Factory, ledger: Ledger) -> None:
    mine, theirs = await factory.depot(), await factory.depot()
    clerk = await factory.actor(depots=[mine])
    weapon, other_weapon = await factory.item(mine), await factory.item(mine)
    (barrel,) = await factory.items.register_items(clerk, [factory.new_item(mine, parent_code=weapon.code, **BARREL)])
    lot, hidden = await factory.lot(mine), await factory.item(theirs)
    size = await ledger.size()
    for parent, says in [
        ("1000000000", "no weapon with label code 1000000000"),
        (lot.code, f"no weapon with label code {lot.code}"),
        (barrel.code, "cannot be its own parent"),
        (hidden.code, f"no weapon with label code {hidden.code} in the depots you work in"),
    ]:
        with pytest.raises(InvalidInput, match=says) as refused:
            await factory.items.correct(clerk, "item", barrel.code, Correction("parent_code", parent, "misread"))
        assert refused.value.errors[0].field == "value"
    assert await ledger.size() == size
    corrected = await factory.items.correct(clerk, "item", barrel.code, Correction("parent_code", other_weapon.code, "misread"))
    assert corrected.parent_code == other_weapon.code
