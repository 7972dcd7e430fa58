"""The trace state machine: a Hypothesis model of the service against the pure table, replayed at the end."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.errors import CaliberError, Conflict, PermissionDenied
from caliber.tracing.events import Recipient
from caliber.tracing.lifecycle import CONCLUDED, ExceptionReason, TraceState, TraceStep, after, after_response
from caliber.tracing.schemas import NewRequest, ResponseIn, StepIn, TraceExceptionIn
from caliber.tracing.service import TracingService
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")

ROLES = [Role.DEPOT_CLERK, Role.DEPOT_MANAGER, Role.ADMIN, Role.WITNESS, Role.INSPECTOR]
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["domestic_check", "iarms_query", "origin_established", "origin_not_established", "send", "answer", "except"]),
        st.sampled_from(ROLES),
    ),
    min_size=1,
    max_size=12,
)


def expected(state: TraceState, action: str, role: Role, open_requests: int) -> TraceState | None:
    """What the pure table says: the next state, or None when refused."""
    managers = role in (Role.DEPOT_MANAGER, Role.ADMIN)
    staff = managers or role is Role.DEPOT_CLERK
    try:
        if action == "except":
            return after(state, None) if managers else None
        if action == "answer":
            return after_response(state) if staff and open_requests else None
        step = TraceStep.REQUEST_SENT if action == "send" else TraceStep(action)
        concluding = step in (TraceStep.ORIGIN_ESTABLISHED, TraceStep.ORIGIN_NOT_ESTABLISHED)
        return after(state, step) if (managers if concluding else staff) else None
    except Conflict:
        return None


def test_a_concluded_trace_takes_no_step() -> None:
    for state in CONCLUDED:
        for step in [*TraceStep, None]:
            with pytest.raises(Conflict, match="concluded"):
                after(state, step)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
async def test_the_service_follows_the_table(actions: list[tuple[str, Role]], factory: Factory, tracing: TracingService) -> None:
    """Any sequence of steps by any roles: the service takes exactly those the table allows, and lands where it says."""
    depot = await factory.depot()
    code = (await factory.item(depot, year_of_manufacture=1980)).code
    state, open_requests = TraceState.NOT_STARTED, []
    for action, role in actions:
        actor = Actor(None, f"model-{role.value}", "Model", role, depot_ids=frozenset({depot.id}))
        want = expected(state, action, role, len(open_requests))
        refused = ""
        try:
            if action == "except":
                view = await tracing.record_exception(actor, code, TraceExceptionIn(ExceptionReason.UNDUE_DELAY, "the furnace is booked"))
            elif action == "send":
                sent = await tracing.send_request(actor, code, NewRequest(Recipient.INTERPOL, dt.date(2099, 1, 1), case_reference="K 1"))
                open_requests.append(sent.id)
            elif action == "answer":
                if not open_requests:
                    continue
                await tracing.record_response(actor, open_requests[0], ResponseIn("no record"))
                open_requests.pop(0)
            else:
                origin = "RS" if action == "origin_established" else None
                await tracing.record_step(actor, code, StepIn(action, origin_country=origin))  # type: ignore[arg-type]
        except (PermissionDenied, Conflict) as exc:
            refused = exc.message
        except CaliberError as exc:
            raise AssertionError(f"{action} by {role.value}: {exc}") from exc
        assert (want is None) == bool(refused), f"{action} by {role.value} at {state}: refused {refused!r}, expected {want}"
        state = want or state
        view = await tracing.trace(Actor(None, "admin", "Admin", Role.ADMIN), code)
        assert view.state is state
