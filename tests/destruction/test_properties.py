"""Random manifests and random orders of scans, withdrawals and attestations, against a model of the rules."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliber.destruction.models import Method, Stage
from caliber.destruction.queries import manifest_sha256
from caliber.destruction.schemas import AttestationInput, Verification, Withdrawal
from caliber.destruction.service import DestructionService
from caliber.errors import Conflict
from tests.destruction.helpers import approved, cast, photo, right_after_attesting
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")

step = st.one_of(
    st.tuples(st.just("verify"), st.integers(0, 5)),
    st.tuples(st.just("withdraw"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("attest"), st.integers(0, 2)),
    st.tuples(st.just("complete")),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(1, 6), steps=st.lists(step, min_size=1, max_size=14))
async def test_an_event_completes_only_when_every_record_is_verified_or_withdrawn(
    factory: Factory, destructions: DestructionService, size: int, steps: list[tuple[object, ...]]
) -> None:
    day = await cast(factory, items=size, witnesses=3)
    event = await approved(destructions, day)
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):
        await destructions.add_photo(day.clerk, event.id, stage, photo(colour), "image/png")
    lines = dict.fromkeys(day.codes, "listed")
    attested: dict[int, str] = {}  # witness -> the hash they attested to
    completed = False
    for kind, *args in steps:
        if completed:
            break
        if kind == "verify":
            code = day.codes[int(args[0]) % size]
            if lines[code] == "withdrawn":
                with pytest.raises(Conflict):
                    await destructions.verify(day.witnesses[0], event.id, Verification([code]))
            else:
                await destructions.verify(day.witnesses[0], event.id, Verification([code]))
                lines[code] = "verified"
        elif kind == "withdraw":
            code = day.codes[int(args[0]) % size]
            if lines[code] == "withdrawn":
                continue
            await destructions.withdraw(day.manager, event.id, Withdrawal([code], "not on the truck", missing=bool(args[1])))
            lines[code] = "withdrawn"
        elif kind == "attest":
            current = manifest_sha256([c for c, s in lines.items() if s != "withdrawn"])
            if "listed" in lines.values():
                with pytest.raises(Conflict, match="not verified yet"):
                    await destructions.attest(day.witnesses[int(args[0])], event.id, AttestationInput(Stage.BEFORE, current))
            elif attested.get(int(args[0])) == current:
                with pytest.raises(Conflict, match="already"):
                    await destructions.attest(day.witnesses[int(args[0])], event.id, AttestationInput(Stage.BEFORE, current))
            else:
                await destructions.attest(day.witnesses[int(args[0])], event.id, AttestationInput(Stage.BEFORE, current))
                attested[int(args[0])] = current
        else:
            verified = [c for c, s in lines.items() if s == "verified"]
            valid = sum(1 for digest in attested.values() if digest == manifest_sha256(verified))
            completion = right_after_attesting([Method.CRUSHING])
            if "listed" in lines.values() or valid < 2 or not verified:
                with pytest.raises(Conflict):
                    await destructions.complete(day.witnesses[0], event.id, completion)
            else:
                await destructions.complete(day.witnesses[0], event.id, completion)
                completed = True
        view = await destructions.get(day.manager, event.id)
        expected = {status: sum(1 for s in lines.values() if s == status) for status in set(lines.values())}
        if completed:
            expected = {"destroyed" if s == "verified" else s: n for s, n in expected.items()}
        assert view.counts == expected
        assert sum(view.counts.values()) == size
        assert view.remaining == expected.get("listed", 0)
