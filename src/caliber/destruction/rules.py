"""What may be done next on a destruction event, by whom, and why not: the rules the service enforces and the pages show.

Each function is pure: it reads the event (and what the service has read of it)
and answers with a :class:`~caliber.steps.Step`. The service raises the step's
refusal before it records anything; the event page offers the steps allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.destruction.models import Attestation, DestructionEvent, EventStatus, LineStatus, Stage
from caliber.errors import Conflict, PermissionDenied
from caliber.items.access import DEPOT_STAFF, MANAGERS
from caliber.steps import Step, first_refusal, role_refusal

if TYPE_CHECKING:
    from caliber.destruction.queries import EventView
    from caliber.tracing.untraced import Untraced

__all__ = [
    "AT_SITE",
    "MANAGERS",
    "SITE_STAFF",
    "STAFF",
    "WITNESSES",
    "approve",
    "at_site",
    "attest",
    "before",
    "certify",
    "complete",
    "manifest",
    "residue",
    "untraced_refusal",
]

STAFF = DEPOT_STAFF
WITNESSES = (Role.WITNESS, *MANAGERS)
SITE_STAFF = (Role.WITNESS, *DEPOT_STAFF)
AT_SITE = (EventStatus.APPROVED, EventStatus.IN_PROGRESS)
"""Statuses in which the manifest is worked through at the site."""


def _is(event: DestructionEvent) -> str:
    return f"destruction {event.code} is {EventStatus(event.status).label.lower()}"


def manifest(actor: Actor, event: DestructionEvent) -> Step:
    """Change the manifest: staff of the organising depot, until the destruction is completed."""
    done = EventStatus(event.status) in (EventStatus.COMPLETED, EventStatus.CERTIFIED)
    return first_refusal(
        "manifest",
        [
            role_refusal(actor, STAFF),
            None
            if actor.can_see_depot(event.depot_id)
            else PermissionDenied(f"the staff of the depot that organises {event.code} prepare its manifest"),
            Conflict(f"{_is(event)}: its manifest cannot change") if done else None,
        ],
    )


def approve(actor: Actor, view: EventView) -> Step:
    """Freeze the manifest: a manager, a planned event with records on its manifest, none of them a weapon whose trace
    the jurisdiction's rule waits for (:mod:`caliber.destruction.trace_rule`)."""
    event = view.event
    return first_refusal(
        "approve",
        [
            role_refusal(actor, MANAGERS),
            Conflict(f"{_is(event)}: only a planned manifest is approved") if event.status != EventStatus.PLANNED else None,
            Conflict("the manifest is empty: add the records to destroy first") if not view.open_records else None,
        ],
        [untraced_refusal(view.untraced)],
    )


SHOWN = 5
"""How many weapons a refusal names."""


def untraced_refusal(untraced: Untraced) -> Conflict | None:
    """Why weapons whose trace has not ended hold an approval back, naming the first few with their trace state (None: none do)."""
    if not untraced.count:
        return None
    sources = " or ".join(source.label.lower() for source in untraced.sources)
    named = ", ".join(f"{code} ({state})" for code, state in untraced.named(SHOWN))
    more = f" and {untraced.count - SHOWN:,} more" if untraced.count > SHOWN else ""
    weapons = "weapon is" if untraced.count == 1 else "weapons are"
    them = "it" if untraced.count == 1 else "them"
    return Conflict(
        f"{untraced.count:,} {sources} {weapons} not yet traced or excepted: {named}{more}. "
        f"Finish tracing {them} (origin established or not established), or have a depot manager record an exception, "
        f"or take {them} off the manifest"
    )


def at_site(name: str, actor: Actor, event: DestructionEvent, roles: Iterable[Role], also: tuple[EventStatus, ...] = ()) -> Step:
    """A step at the site (verify, withdraw, photos): once the manifest is approved, and while under way (or ``also``)."""
    working = EventStatus(event.status) in (*AT_SITE, *also)
    return first_refusal(
        name, [role_refusal(actor, roles), None if working else Conflict(f"{_is(event)}: its manifest must be approved first")]
    )


def attest(actor: Actor, view: EventView, stage: Stage, given: Attestation | None, local: Callable[..., str]) -> Step:
    """Attest to ``stage``: a witness under their own account who is no party to the manifest, once, at the right time.

    ``given``: the attestation the actor already gave to this stage of the manifest as it is now.
    """
    event, status = view.event, EventStatus(view.event.status)
    if stage is Stage.BEFORE:
        timing = [
            Conflict(f"{_is(event)}: attest before destruction") if status not in AT_SITE else None,
            Conflict(f"{view.remaining} record(s) are not verified yet: verify or withdraw them first") if view.remaining else None,
        ]
    else:
        timing = [Conflict("the result is attested after the destruction is completed") if status is not EventStatus.COMPLETED else None]
    again = (
        f"you attested {stage.value} destruction already, at {local(given.attested_at)}: a witness attests once to each stage"
        if given
        else ""
    )
    return first_refusal(
        "attest",
        [
            role_refusal(actor, WITNESSES),
            PermissionDenied("witnesses attest under their own account, not from the command line") if actor.id is None else None,
            PermissionDenied(f"you prepared or approved the manifest of {event.code}: another witness must attest")
            if actor.id in view.parties
            else None,
            *timing,
            Conflict(again) if again else None,
        ],
    )


def complete(actor: Actor, view: EventView, verified_sha256: str) -> Step:
    """Record the day's result: a witness, while under way, once every record is verified and attested to, with photographs.

    ``verified_sha256``: the hash of the verified records (the manifest the witnesses attest to before destruction).
    """
    event = view.event
    under_way = event.status == EventStatus.IN_PROGRESS
    attested = len(view.valid_attestations(Stage.BEFORE, verified_sha256))
    photographed = {p.stage for p in view.photos} == {Stage.BEFORE.value, Stage.AFTER.value}
    return first_refusal(
        "complete",
        [role_refusal(actor, WITNESSES), None if under_way else Conflict(f"{_is(event)}: only one under way is completed")],
        [
            Conflict(f"{view.remaining} record(s) are not verified: verify them, or withdraw them with a reason")
            if view.remaining
            else None,
            None if view.counts.get(LineStatus.VERIFIED.value) else Conflict("nothing is left to destroy: every record was withdrawn"),
            Conflict(f"{attested} of {event.required_witnesses} witnesses have attested to the verified manifest")
            if attested < event.required_witnesses
            else None,
            None if photographed else Conflict("add photographs before and after destruction first"),
        ],
    )


def residue(actor: Actor, view: EventView, now: dt.datetime, local: Callable[[dt.datetime], str]) -> Step:
    """Check the residue: a witness who is no party to the manifest, once, after the destruction is completed and has ended."""
    event = view.event
    pending = event.status == EventStatus.COMPLETED and not event.residue_verified_by
    ended = event.ended_at
    return first_refusal(
        "residue",
        [
            role_refusal(actor, WITNESSES),
            PermissionDenied(f"you prepared or approved the manifest of {event.code}: another witness checks the residue")
            if actor.id in view.parties
            else None,
            None if pending else Conflict("the residue is checked once, after the destruction is completed"),
        ],
        [
            Conflict(f"the residue cannot be checked at {local(now)}, before the destruction ended at {local(ended)}")
            if ended is not None and before(now, ended)
            else None
        ],
    )


def certify(actor: Actor, view: EventView, destroyed_sha256: str, now: dt.datetime, local: Callable[[dt.datetime], str]) -> Step:
    """Issue the certificate: a manager, once the destruction is completed, its residue checked and its result attested to.

    ``destroyed_sha256``: the hash of the destroyed records (the result the witnesses attest to after destruction).
    """
    event = view.event
    attested = len(view.valid_attestations(Stage.AFTER, destroyed_sha256))
    last = view.last_attested(Stage.AFTER, destroyed_sha256)
    return first_refusal(
        "certify",
        [
            role_refusal(actor, MANAGERS),
            None
            if event.status == EventStatus.COMPLETED
            else Conflict("a certificate is issued once the destruction is completed and its residue checked"),
        ],
        [
            None if event.residue_verified_by else Conflict("the residue check is not recorded yet"),
            Conflict(f"{attested} of {event.required_witnesses} witnesses have attested to the result")
            if attested < event.required_witnesses
            else None,
            Conflict(f"the certificate cannot be issued at {local(now)}, before the last attestation of the result at {local(last)}")
            if last is not None and before(now, last)
            else None,
        ],
    )


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(second=0, microsecond=0)


def before(moment: dt.datetime, bound: dt.datetime) -> bool:
    """Whether ``moment`` falls in a minute before ``bound``'s (times are typed and printed to the minute)."""
    return _minute(moment) < _minute(bound)
