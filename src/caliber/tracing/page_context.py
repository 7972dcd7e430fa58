"""What the tracing pages show of a weapon's trace and of a request sent: the steps taken, the next steps the
person may take (or why not, in the lifecycle's words), and the words for recipients and states."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from caliber.accounts.actor import Actor
from caliber.errors import CaliberError
from caliber.items.service import ItemService
from caliber.tracing.events import Identifiers
from caliber.tracing.lifecycle import CONCLUDED, TRACERS, ExceptionReason, TraceState, TraceStep, refusal
from caliber.tracing.progress import standing
from caliber.tracing.service import TracingService, identifiers_of, next_steps

__all__ = ["DONE", "IDENTIFIER_FIELDS", "RECIPIENTS", "STATE_WORDS", "STEP_WORDS", "request_context", "trace_context", "upper"]

RECIPIENTS = [
    ("country_of_manufacture", "Country of manufacture"),
    ("country_of_import", "Country of last import"),
    ("interpol", "INTERPOL"),
    ("manufacturer", "Manufacturer"),
]
"""Whom a trace request may go to, in words."""
DONE = {
    "step": "Step recorded.",
    "exception": "Exception recorded: the trace ends here.",
    "sent": "Trace request recorded as sent.",
    "answered": "Answer recorded.",
    "registered": "Request registered. Search the depot's records for the weapon below.",
    "answered_incoming": "Answer recorded.",
}
"""The notice after each form, by the ``done`` it redirects with."""
IDENTIFIER_FIELDS = (
    "serial",
    "manufacturer",
    "model",
    "calibre",
    "country_of_manufacture",
    "year_of_manufacture",
    "import_country",
    "import_year",
    "other_marks",
)
"""The identifier fields of the form for a request from another state."""
IDENTIFIER_WORDS = {
    "serial": "Serial",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "calibre": "Calibre",
    "country_of_manufacture": "Country of manufacture",
    "year_of_manufacture": "Year of manufacture",
    "import_country": "Import country",
    "import_year": "Import year",
    "other_marks": "Other marks",
}
STEP_WORDS = {
    "domestic_check": "Domestic record check",
    "iarms_query": "iARMS query",
    "request_sent": "Trace request",
    "response_received": "Response received",
    "origin_established": "Origin established",
    "origin_not_established": "Origin not established",
}
"""Each step of a trace, as its form and list name it."""
STATE_WORDS = {
    "not_started": "Not started",
    "domestic_check": "Domestic record check done",
    "iarms_query": "iARMS query done",
    "request_sent": "Trace request sent",
    "response_received": "Response received",
    "origin_established": "Origin established",
    "origin_not_established": "Origin not established",
    "excepted": "Excepted from tracing",
}
"""Where a trace stands, in words."""
STEP_FORMS = (TraceStep.DOMESTIC_CHECK, TraceStep.IARMS_QUERY, TraceStep.ORIGIN_ESTABLISHED, TraceStep.ORIGIN_NOT_ESTABLISHED)
"""The steps recorded with the step form; a request and its answer have their own forms."""


def upper(values: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``values`` with the fields ``names`` (country codes) in capitals."""
    return {k: v.upper() if k in names and isinstance(v, str) else v for k, v in values.items()}


def identifier_rows(identifiers: Identifiers) -> list[tuple[str, str]]:
    """A weapon's identifiers as (words, value) rows, blanks shown as a dash."""
    return [
        (words, "—" if getattr(identifiers, name) in (None, "") else str(getattr(identifiers, name)))
        for name, words in IDENTIFIER_WORDS.items()
    ]


async def trace_context(
    actor: Actor,
    tracing: TracingService,
    items: ItemService,
    code: str,
    *,
    notice: str | None = None,
    error: CaliberError | None = None,
    sent: str | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a weapon's trace page shows."""
    view = await tracing.trace(actor, code)
    item = await items.get(actor, "item", code)
    state, today = view.state, tracing.today()
    offered: list[TraceStep] = []
    refused: dict[str, list[str]] = {}
    for step in next_steps(state):
        if step is TraceStep.RESPONSE_RECEIVED:
            continue  # recorded on the request it answers
        why = refusal(actor.role, state, step, kind=item.kind, intake_source=item.intake_source)
        if why is None:
            offered.append(step)
        else:
            refused.setdefault(why.message, []).append(STEP_WORDS[step.value])
    can_except = False
    if state not in CONCLUDED:
        why = refusal(actor.role, state, None, kind=item.kind, intake_source=item.intake_source)
        if why is None:
            can_except = True
        else:
            refused.setdefault(why.message, []).append("Exception")
    entries = await tracing.steps(actor, code)
    return {
        "item": item,
        "view": view,
        "state": state,
        "concluded": state in CONCLUDED,
        "entries": entries,
        "step_words": STEP_WORDS,
        "state_words": STATE_WORDS,
        "reason_words": {r.value: r.label for r in ExceptionReason},
        "reasons": [(r.value, f"{r.label}: {r.__doc__ or ''}".strip(": ")) for r in ExceptionReason],
        "recipient_words": dict(RECIPIENTS),
        "recipients": RECIPIENTS,
        "step_forms": [s for s in offered if s in STEP_FORMS],
        "can_send": TraceStep.REQUEST_SENT in offered,
        "can_except": can_except,
        "refused": refused,
        "is_tracer": actor.role in TRACERS,
        "requests": [(r, standing(r.due, r.received_on, today)) for r in view.requests],
        "identifiers": identifier_rows(identifiers_of(item)),
        "photos": await items.photos(item),
        "today": today,
        "notice": notice,
        "error": error,
        "sent": sent,
        "values": values or {},
        "states": TraceState,
    }


async def request_context(
    actor: Actor,
    tracing: TracingService,
    items: ItemService,
    request_id: UUID,
    *,
    notice: str | None = None,
    error: CaliberError | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a trace request's page shows."""
    sent = await tracing.request(actor, request_id)
    item = await items.get(actor, "item", sent.code)
    today = tracing.today()
    return {
        "sent": sent,
        "item": item,
        "stands": standing(sent.due, sent.received_on, today),
        "recipient_words": dict(RECIPIENTS),
        "identifiers": identifier_rows(Identifiers(**sent.identifiers)),
        "can_answer": actor.role in TRACERS and sent.status == "open",
        "today": today,
        "notice": notice,
        "error": error,
        "values": values or {},
    }
