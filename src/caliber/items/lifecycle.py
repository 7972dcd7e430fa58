"""The lifecycle of items and ammunition lots: statuses, and every allowed transition, in one table.

registered -> in storage (evidence hold | awaiting decision | declared surplus)
-> approved for destruction -> in transit (sealed) -> verified at site ->
destroyed -> verified after destruction -> certified; side branches missing,
transferred out, returned to owner, deactivated, retained, and void (a record
made in error, never deleted). Transfers and stock checks move records in and
out of "in transit" and "missing" and back to the status they left.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from caliber.accounts.models import Role
from caliber.errors import Conflict, InvalidInput, PermissionDenied

__all__ = [
    "COUNTABLE",
    "EVENT_FIELDS",
    "IN_STORAGE",
    "TRANSITIONS",
    "Action",
    "IntakeSource",
    "Status",
    "Transition",
    "intake_status",
    "leads_to",
    "transition",
]


class Status(enum.StrEnum):
    """Where a record stands in its lifecycle."""

    EVIDENCE_HOLD = "evidence_hold"
    AWAITING_DECISION = "awaiting_decision"
    SURPLUS = "surplus"
    APPROVED_FOR_DESTRUCTION = "approved_for_destruction"
    IN_TRANSIT = "in_transit"
    VERIFIED_AT_SITE = "verified_at_site"
    DESTROYED = "destroyed"
    VERIFIED_AFTER_DESTRUCTION = "verified_after_destruction"
    CERTIFIED = "certified"
    MISSING = "missing"
    TRANSFERRED_OUT = "transferred_out"
    RETURNED_TO_OWNER = "returned_to_owner"
    DEACTIVATED = "deactivated"
    RETAINED = "retained"
    VOID = "void"

    @property
    def label(self) -> str:
        """The status as people write it."""
        return self.value.replace("_", " ").capitalize()


IN_STORAGE = frozenset({Status.EVIDENCE_HOLD, Status.AWAITING_DECISION, Status.SURPLUS, Status.APPROVED_FOR_DESTRUCTION})
"""In a depot's custody and on its way through the process."""
COUNTABLE = IN_STORAGE | {Status.RETAINED}
"""What a stock check expects to find on the shelves."""


class IntakeSource(enum.StrEnum):
    """How a record came into custody (DOMAIN.md, "Intake sources")."""

    SURPLUS = "surplus"
    SEIZED = "seized"
    FOUND = "found"
    SURRENDERED = "voluntarily_surrendered"
    COLLECTION_PROGRAMME = "collection_programme"
    LEGALISATION_TURN_IN = "legalisation_turn_in"
    RETURNED_FROM_DEACTIVATION = "returned_from_deactivation"

    @property
    def label(self) -> str:
        """The source as people write it."""
        return self.value.replace("_", " ").capitalize()


def intake_status(source: IntakeSource) -> Status:
    """Seized records stay on evidence hold until a court order releases them; everything else awaits a decision."""
    return Status.EVIDENCE_HOLD if source is IntakeSource.SEIZED else Status.AWAITING_DECISION


class Action(enum.StrEnum):
    """A change of status, each recorded as one event with who, when and why."""

    PLACE_HOLD = "place_hold"
    RELEASE_HOLD = "release_hold"
    DECLARE_SURPLUS = "declare_surplus"
    APPROVE_DESTRUCTION = "approve_destruction"
    WITHDRAW_APPROVAL = "withdraw_approval"
    RETAIN = "retain"
    RETURN_TO_OWNER = "return_to_owner"
    TRANSFER_OUT = "transfer_out"
    DEACTIVATE = "deactivate"
    VOID = "void"
    REPORT_MISSING = "report_missing"
    REPORT_FOUND = "report_found"
    DISPATCH = "dispatch"
    RECEIVE = "receive"
    VERIFY_AT_SITE = "verify_at_site"
    DESTROY = "destroy"
    VERIFY_DESTROYED = "verify_destroyed"
    CERTIFY = "certify"
    RETURN_TO_STORAGE = "return_to_storage"

    @property
    def label(self) -> str:
        """The action as a button says it."""
        return self.value.replace("_", " ").capitalize()


MANAGERS = frozenset({Role.DEPOT_MANAGER, Role.ADMIN})
DEPOT_STAFF = frozenset({Role.DEPOT_CLERK, Role.DEPOT_MANAGER, Role.ADMIN})
WITNESSES = frozenset({Role.WITNESS, Role.DEPOT_MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class Transition:
    """Which statuses an action leaves from, where it goes, who may take it, and what it needs."""

    sources: frozenset[Status]
    target: Status | None
    """None: back to the status the record had before (``prior_status``)."""
    roles: frozenset[Role]
    needs_court_order: bool = False
    manual: bool = True
    """False for actions only a work flow takes (transfers, stock checks, destruction)."""
    also_from: frozenset[Status] = frozenset()
    """Further statuses a work flow (never a person) leaves from."""

    def leaves_from(self, status: Status, *, work_flow: bool) -> bool:
        """Whether the action may be taken on a record of ``status`` (by a work flow, or by a person)."""
        return status in self.sources or (work_flow and status in self.also_from)


TRANSITIONS: dict[Action, Transition] = {
    Action.PLACE_HOLD: Transition(frozenset({Status.AWAITING_DECISION, Status.SURPLUS}), Status.EVIDENCE_HOLD, MANAGERS),
    Action.RELEASE_HOLD: Transition(frozenset({Status.EVIDENCE_HOLD}), Status.AWAITING_DECISION, MANAGERS, needs_court_order=True),
    Action.DECLARE_SURPLUS: Transition(frozenset({Status.AWAITING_DECISION}), Status.SURPLUS, MANAGERS),
    Action.APPROVE_DESTRUCTION: Transition(frozenset({Status.SURPLUS}), Status.APPROVED_FOR_DESTRUCTION, MANAGERS),
    Action.WITHDRAW_APPROVAL: Transition(frozenset({Status.APPROVED_FOR_DESTRUCTION}), Status.SURPLUS, MANAGERS),
    Action.RETAIN: Transition(frozenset({Status.AWAITING_DECISION, Status.SURPLUS}), Status.RETAINED, MANAGERS),
    Action.RETURN_TO_OWNER: Transition(frozenset({Status.AWAITING_DECISION}), Status.RETURNED_TO_OWNER, MANAGERS),
    Action.TRANSFER_OUT: Transition(
        frozenset({Status.AWAITING_DECISION, Status.SURPLUS, Status.RETAINED}), Status.TRANSFERRED_OUT, MANAGERS
    ),
    Action.DEACTIVATE: Transition(frozenset({Status.AWAITING_DECISION, Status.SURPLUS}), Status.DEACTIVATED, MANAGERS),
    Action.VOID: Transition(COUNTABLE | {Status.MISSING}, Status.VOID, MANAGERS),
    Action.REPORT_MISSING: Transition(COUNTABLE, Status.MISSING, MANAGERS, also_from=frozenset({Status.IN_TRANSIT})),
    Action.REPORT_FOUND: Transition(frozenset({Status.MISSING}), None, MANAGERS),
    Action.DISPATCH: Transition(COUNTABLE, Status.IN_TRANSIT, DEPOT_STAFF, manual=False),
    Action.RECEIVE: Transition(frozenset({Status.IN_TRANSIT}), None, DEPOT_STAFF, manual=False),
    Action.VERIFY_AT_SITE: Transition(
        frozenset({Status.APPROVED_FOR_DESTRUCTION}), Status.VERIFIED_AT_SITE, WITNESSES | DEPOT_STAFF, manual=False
    ),
    Action.DESTROY: Transition(frozenset({Status.VERIFIED_AT_SITE}), Status.DESTROYED, WITNESSES, manual=False),
    Action.VERIFY_DESTROYED: Transition(frozenset({Status.DESTROYED}), Status.VERIFIED_AFTER_DESTRUCTION, WITNESSES, manual=False),
    Action.CERTIFY: Transition(frozenset({Status.VERIFIED_AFTER_DESTRUCTION}), Status.CERTIFIED, MANAGERS, manual=False),
    Action.RETURN_TO_STORAGE: Transition(frozenset({Status.VERIFIED_AT_SITE}), Status.APPROVED_FOR_DESTRUCTION, WITNESSES, manual=False),
}

EVENT_FIELDS = ("action", "from", "to", "reason", "court_order")
"""What a status-change event carries in ``data`` besides the record's code."""


def transition(
    action: Action, status: Status, prior: Status | None, role: Role, *, code: str, court_order: str = "", work_flow: bool = False
) -> Status:
    """The status ``action`` leads to from ``status``; :class:`Conflict` or :class:`InvalidInput` say why not.

    Role checks for people are made by the caller's guard and here; work flows
    (transfers, stock checks, destruction) pass the role of whoever runs them.
    """
    rule = TRANSITIONS[action]
    if role not in rule.roles:
        allowed = ", ".join(sorted(r.value for r in rule.roles))
        raise PermissionDenied(f"{action.label.lower()} needs the role {allowed}; you are {role.value}")
    target = leads_to(action, status, prior, code=code, work_flow=work_flow)
    if rule.needs_court_order and not court_order.strip():
        raise InvalidInput("releasing an evidence hold needs the court order that releases it", field="court_order")
    return target


def leads_to(action: Action, status: Status, prior: Status | None, *, code: str, work_flow: bool = False) -> Status:
    """The status ``action`` leads to from ``status`` (``prior``: the one remembered), whoever takes it; :class:`Conflict` if none.

    The rule of the transition table alone: :func:`transition` adds who may
    take the action; the state tables' appliers check recorded events with it.
    """
    rule = TRANSITIONS[action]
    if not rule.leaves_from(status, work_flow=work_flow):
        if status is Status.EVIDENCE_HOLD:
            raise Conflict(f"{code} is on evidence hold: a manager must record the court order that releases it first")
        raise Conflict(f"{code} is {status.label.lower()}: it cannot be {_past(action)}")
    if rule.target is None:
        if prior is None:
            raise Conflict(f"{code} has no earlier status to return to")
        return prior
    return rule.target


def _past(action: Action) -> str:
    words = {
        Action.PLACE_HOLD: "put on hold",
        Action.RELEASE_HOLD: "released from hold",
        Action.DECLARE_SURPLUS: "declared surplus",
        Action.APPROVE_DESTRUCTION: "approved for destruction",
        Action.WITHDRAW_APPROVAL: "withdrawn from destruction",
        Action.RETAIN: "retained",
        Action.RETURN_TO_OWNER: "returned to its owner",
        Action.TRANSFER_OUT: "transferred out",
        Action.DEACTIVATE: "deactivated",
        Action.VOID: "voided",
        Action.REPORT_MISSING: "reported missing",
        Action.REPORT_FOUND: "reported found",
        Action.DISPATCH: "dispatched",
        Action.RECEIVE: "received",
        Action.VERIFY_AT_SITE: "verified at the site",
        Action.DESTROY: "destroyed",
        Action.VERIFY_DESTROYED: "verified as destroyed",
        Action.CERTIFY: "certified",
        Action.RETURN_TO_STORAGE: "returned to storage",
    }
    return words[action]
