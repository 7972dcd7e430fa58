"""Every measure against a straightforward recomputation from the ledger's events, over random histories."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.destruction.models import Method, Stage
from caliber.destruction.schemas import AttestationInput, Completion, ManifestChange, NewDestruction, Verification
from caliber.destruction.service import DestructionService
from caliber.errors import CaliberError
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.records import grams
from caliber.items.schemas import StatusChange
from caliber.ledger import store
from caliber.ledger.store import Ledger
from caliber.reports.periods import Period, parse_period
from caliber.reports.service import JURISDICTIONS, REQUEST_DRILLS, TAKEN_IN, Figures, ReportService, nearest_rank
from caliber.stockchecks.schemas import NewStockCheck, Scan
from caliber.stockchecks.service import StockCheckService
from caliber.tracing.events import Recipient
from caliber.tracing.lifecycle import ExceptionReason, TraceState
from caliber.tracing.schemas import IdentifiersIn, IncomingAnswer, NewIncoming, NewRequest, ResponseIn, StepIn, TraceExceptionIn
from caliber.tracing.service import TracingService
from tests.destruction.helpers import except_untraced, photo
from tests.factories import OPERATOR, Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")
BELGRADE = ZoneInfo("Europe/Belgrade")
EDGE = dt.datetime(2026, 6, 30, 23, 59, 59, tzinfo=dt.UTC)
"""01:59:59 on 1 July in Belgrade: the second half-year there."""
LAST = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
"""The clock stays in the past: a destruction cannot end in the future."""


@dataclass
class Clock:
    """A ledger clock the test moves by hand."""

    now: dt.datetime = dt.datetime(2025, 11, 20, 9, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Fold:
    """One record as the events tell it, folded by hand."""

    kind: str
    category: str
    source: str
    jurisdiction: str
    registered: dt.datetime
    pieces: int = 1
    net: int = 0
    gross: int = 0
    declared: dt.datetime | None = None
    left: dt.datetime | None = None
    destroyed: dt.datetime | None = None
    methods: list[str] = field(default_factory=list)
    holds: list[list[dt.datetime | None]] = field(default_factory=list)
    trace_started: dt.datetime | None = None
    trace_ended: dt.datetime | None = None
    trace_end: str = ""
    """``origin_established``, ``origin_not_established`` or the reason of the exception."""


@dataclass
class Request:
    """A trace request, sent (``code`` is its weapon's) or received, as the events tell it."""

    code: str | None
    jurisdiction: str
    opened: dt.date
    due: dt.date
    answered_on: dt.date | None = None
    answered_at: dt.datetime | None = None


def fold(events: list[dict[str, Any]], requests: dict[str, Request] | None = None) -> dict[str, Fold]:
    """The records (and into ``requests``, the trace requests) as the events say, with the simplest code that can say it."""
    depots: dict[str, str] = {}
    transfers: dict[str, str] = {}
    records: dict[str, Fold] = {}
    requests = {} if requests is None else requests
    for entry in events:
        data, when = entry["data"], dt.datetime.fromisoformat(entry["time"])
        kind = entry["type"]
        if kind == "depot.registered":
            depots[data["id"]] = data["jurisdiction"]
        elif kind in ("item.registered", "lot.registered"):
            item = kind == "item.registered"
            record = Fold(
                data["kind"] if item else "lot",
                (data["component_type"] or data["un_type"]) if item else "ammunition",
                data["intake_source"],
                depots[data["depot_id"]],
                when,
                1 if item else data["quantity"],
                0 if item else grams(data["net_explosive_mass_kg"]),
                0 if item else grams(data["gross_mass_kg"]),
            )
            if data["status"] == "evidence_hold":
                record.holds.append([when, None])
            records[data["code"]] = record
        elif kind in ("item.status_changed", "lot.status_changed"):
            record = records[data["code"]]
            if data["action"] == "declare_surplus" and record.declared is None:
                record.declared = when
            if (
                data["action"] in ("retain", "return_to_owner", "transfer_out", "deactivate", "void")
                and record.declared
                and not record.left
            ):
                record.left = when
            if data["to"] == "evidence_hold":
                record.holds.append([when, None])
            elif data["from"] == "evidence_hold":
                record.holds[-1][1] = when
        elif kind == "transfer.dispatched":
            transfers[data["id"]] = depots[data["to_depot_id"]]
        elif kind == "transfer.received":
            for code in data["received"]:
                records[code].jurisdiction = transfers[data["id"]]
        elif kind == "destruction.destroyed":
            for code in data["codes"]:
                records[code].destroyed, records[code].methods = when, data["methods"]
        elif kind in ("trace.step_recorded", "trace.excepted", "trace.request_sent"):
            record = records[data["code"]]
            record.trace_started = record.trace_started or when
            if kind == "trace.excepted" or data.get("step") in ("origin_established", "origin_not_established"):
                record.trace_ended, record.trace_end = when, data.get("reason") or data["step"]
            if kind == "trace.request_sent":
                due = dt.date.fromisoformat(data["due"])
                requests[data["id"]] = Request(data["code"], "", dt.date.fromisoformat(data["sent_on"]), due)
        elif kind == "trace.request_answered":
            requests[data["id"]].answered_on, requests[data["id"]].answered_at = dt.date.fromisoformat(data["received_on"]), when
        elif kind == "trace.incoming_registered":
            due = dt.date.fromisoformat(data["due"])
            requests[data["id"]] = Request(None, depots[data["depot_id"]], dt.date.fromisoformat(data["received_on"]), due)
        elif kind == "trace.incoming_answered":
            requests[data["id"]].answered_at = when
    for request in requests.values():  # a request sent is where its weapon is
        if request.code is not None:
            request.jurisdiction = records[request.code].jurisdiction
    return records


def expected(records: dict[str, Fold], period: Period, depots: dict[str, int], requests: dict[str, Request]) -> dict[str, Figures]:
    """Every measure, recomputed from the folded records (and the depots each jurisdiction has: no counts here)."""
    out = {j: Figures(depots=depots.get(j, 0)) for j in JURISDICTIONS}
    a, b = period.start, period.end
    first, after = a.astimezone(period.zone).date(), b.astimezone(period.zone).date()  # the periods begin and end at midnights

    def in_stock(r: Fold, at: dt.datetime) -> bool:
        return r.declared is not None and r.declared < at and not (r.destroyed and r.destroyed < at) and not (r.left and r.left < at)

    for r in records.values():
        f = out[r.jurisdiction]
        if r.kind == "lot":
            if r.destroyed and a <= r.destroyed < b:
                f.ammunition_pieces += r.pieces
                f.ammunition_net_g += r.net
                f.ammunition_gross_g += r.gross
            continue
        if r.kind != "weapon":
            continue
        f.declared += bool(r.declared and a <= r.declared < b)
        f.surplus_start += in_stock(r, a)
        f.surplus_end += in_stock(r, b)
        if r.destroyed and a <= r.destroyed < b:
            f.destroyed += 1
            f.destroyed_by_type[r.category] = f.destroyed_by_type.get(r.category, 0) + 1
            for m in r.methods:
                f.destroyed_by_method[m] = f.destroyed_by_method.get(m, 0) + 1
        if r.source in TAKEN_IN and a <= r.registered < b:
            f.taken_in[r.source] = f.taken_in.get(r.source, 0) + 1
            if r.destroyed and r.destroyed < b:
                f.taken_in_destroyed[r.source] = f.taken_in_destroyed.get(r.source, 0) + 1
            if any(start < b and (end is None or end >= b) for start, end in r.holds):
                f.taken_in_held[r.source] = f.taken_in_held.get(r.source, 0) + 1
            t = f.tracing
            t.taken_in += 1
            ended = r.trace_end if r.trace_ended and r.trace_ended < b else ""
            if ended == "origin_established":
                t.established += 1
            elif ended == "origin_not_established":
                t.not_established += 1
            elif ended:
                t.excepted[ended] = t.excepted.get(ended, 0) + 1
            elif r.trace_started and r.trace_started < b:
                t.open += 1
            else:
                t.not_started += 1
        if r.trace_end == "origin_established" and r.trace_ended and a <= r.trace_ended < b:
            f.tracing.origins_established += 1
    for q in requests.values():
        t = out[q.jurisdiction].tracing
        if q.code is not None:
            t.requests_sent += first <= q.opened < after
            if q.answered_on is not None and first <= q.answered_on < after:
                t.requests_answered += 1
                t.requests_answered_late += q.answered_on > q.due
            t.requests_overdue += q.opened < after and q.due < after and (q.answered_on is None or q.answered_on >= after)
        else:
            t.incoming_received += first <= q.opened < after
            t.incoming_answered += q.answered_at is not None and a <= q.answered_at < b
            t.incoming_overdue += q.opened < after and q.due < after and (q.answered_at is None or q.answered_at >= b)
    for f in out.values():
        f.tracing.share = round(100 * f.tracing.established / f.tracing.taken_in, 1) if f.tracing.taken_in else None
    for j, f in out.items():
        gone = [r for r in records.values() if r.kind == "weapon" and r.jurisdiction == j and r.destroyed and a <= r.destroyed < b]
        if gone:
            f.days_from_intake = tuple(
                nearest_rank([(r.destroyed - r.registered).total_seconds() / 86400 for r in gone], s) for s in (0.5, 0.9)
            )  # type: ignore[assignment,operator]
            declared = [(r.destroyed - r.declared).total_seconds() / 86400 for r in gone if r.declared]  # type: ignore[operator]
            f.days_from_declaration = (nearest_rank(declared, 0.5), nearest_rank(declared, 0.9)) if declared else None
    return out


step = st.sampled_from(
    ["take_in", "declare", "approve", "hold", "release", "retain", "destroy", "wait", "edge", "trace", "trace", "trace", "ask"]
)


@settings(
    max_examples=int(os.environ.get("CALIBER_EXAMPLES", "12")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=4, max_size=30), seed=st.integers(0, 10_000))
async def test_every_measure_matches_a_recomputation_from_the_ledger(
    factory: Factory, ledger: Ledger, destructions: DestructionService, steps: list[str], seed: int
) -> None:
    chooser = random.Random(seed)
    clock = Clock()
    ledger.clock = clock
    tracing = TracingService(ledger, BELGRADE)
    depots = [await factory.depot(jurisdiction=j) for j in chooser.sample(JURISDICTIONS, 2)]
    witnesses = [await factory.actor(Role.WITNESS) for _ in range(2)]
    codes: list[tuple[str, str]] = []  # (code, depot index)
    for name in steps:
        if name == "wait":
            clock.now = min(clock.now + dt.timedelta(days=chooser.randint(1, 120), hours=chooser.randint(0, 23)), LAST)
        elif name == "edge":
            clock.now = max(clock.now, EDGE)
        elif name == "take_in" or not codes:
            depot = chooser.randrange(2)
            source = chooser.choice(
                [IntakeSource.SURPLUS, IntakeSource.SEIZED, IntakeSource.FOUND, IntakeSource.SURRENDERED, IntakeSource.COLLECTION_PROGRAMME]
            )
            extra = {"intake_source": source, "case_reference": "K-1/26" if source is IntakeSource.SEIZED else ""}
            made = await (factory.lot(depots[depot], **extra) if chooser.random() < 0.2 else factory.item(depots[depot], **extra))
            codes.append((made.code, depot))
        elif name in ("trace", "ask"):
            await _trace(tracing, chooser, depots, name, chooser.choice(codes)[0], clock)
        else:
            await _act(factory, destructions, depots, witnesses, name, chooser.choice(codes)[0], clock)
        clock.now += dt.timedelta(minutes=chooser.randint(1, 600))
    async with ledger.db.read() as session:
        events = [entry.event for entry in await store.read_entries(session, 0, await ledger.size())]
    requests: dict[str, Request] = {}
    records = fold(events, requests)
    every_depot = frozenset(d.id for d in await factory.inventory.depots(OPERATOR))  # the examples share one database
    staff = Actor(None, "staff", "Staff of every depot", Role.DEPOT_MANAGER, depot_ids=every_depot)
    event(f"{sum(1 for r in records.values() if r.destroyed)} destroyed, {sum(1 for r in records.values() if r.holds)} held")
    event(f"{sum(1 for r in records.values() if r.trace_end)} traces concluded, {len(requests)} requests")
    # Belgrade's periods add up whole months of the counts; UTC's begin and end inside a day and a month of them
    for key, zone in itertools.product(("2025", "2026-H1", "2026-H2", "2026"), (BELGRADE, ZoneInfo("UTC"))):
        period = parse_period(key, zone)
        got = await ReportService(ledger.db).figures(OPERATOR, period)
        held = {}
        for e in events:
            if e["type"] == "depot.registered":
                held[e["data"]["jurisdiction"]] = held.get(e["data"]["jurisdiction"], 0) + 1
        assert got == expected(records, period, held, requests), (key, zone)
        assert await ReportService(ledger.db).figures(staff, period) == got, (key, zone)  # depot staff add up records: the same figures
        await _drills_list_what_is_counted(ReportService(ledger.db), period, got)


async def _drills_list_what_is_counted(reports: ReportService, period: Period, got: dict[str, Figures]) -> None:
    """The records and requests behind each tracing figure are as many as it counts."""
    for jurisdiction, figures in got.items():
        t = figures.tracing
        counted = {
            "traced_established": t.established,
            "traced_not_established": t.not_established,
            "traced_excepted": sum(t.excepted.values()),
            "traced_open": t.open,
            "traced_not_started": t.not_started,
            "origins_established": t.origins_established,
        }
        for measure, n in counted.items():
            assert len(await reports.records(OPERATOR, period, jurisdiction, measure, limit=10_000)) == n, (measure, jurisdiction)
        for measure in REQUEST_DRILLS:
            listed = await reports.requests(OPERATOR, period, jurisdiction, measure, limit=10_000)
            assert len(listed) == getattr(t, measure), (measure, jurisdiction)


async def _trace(tracing: TracingService, chooser: random.Random, depots: list[Any], name: str, code: str, clock: Clock) -> None:
    """A step of a weapon's trace, a request about it or its answer, or a request from another state (refused ones skipped)."""
    today = clock.now.astimezone(BELGRADE).date()
    with contextlib.suppress(CaliberError):
        if name == "ask":
            if chooser.random() < 0.5:
                new = NewIncoming(
                    chooser.choice(depots).id, "DE", "BKA-1", today + dt.timedelta(days=chooser.randint(1, 60)), IdentifiersIn("A1")
                )
                await tracing.register_incoming(OPERATOR, new)
            else:
                _, incoming = await tracing.queue(OPERATOR)
                if incoming:
                    await tracing.answer_incoming(OPERATOR, chooser.choice(incoming).id, IncomingAnswer("not held here"))
            return
        state = (await tracing.trace(OPERATOR, code)).state
        steps = {
            TraceState.NOT_STARTED: ["domestic_check", "domestic_check", "except"],
            TraceState.DOMESTIC_CHECK: ["iarms_query", "iarms_query", "origin_established", "except"],
            TraceState.IARMS_QUERY: ["request", "request", "origin_established", "except"],
        }.get(state, ["request", "answer", "answer", "origin_established", "origin_not_established", "except"])
        chosen = chooser.choice(steps)
        if chosen == "except":
            reason = chooser.choice([ExceptionReason.UNDUE_DELAY, ExceptionReason.INSUFFICIENT_MARKINGS, ExceptionReason.AMNESTY])
            await tracing.record_exception(OPERATOR, code, TraceExceptionIn(reason, "as the rules allow"))
        elif chosen == "request":
            due = today + dt.timedelta(days=chooser.randint(1, 90))
            await tracing.send_request(OPERATOR, code, NewRequest(Recipient.INTERPOL, due, case_reference="T-1/26", sent_on=today))
        elif chosen == "answer":
            for request in (await tracing.trace(OPERATOR, code)).requests:
                if request.status == "open":
                    await tracing.record_response(OPERATOR, request.id, ResponseIn("no record", received_on=today))
                    break
        else:
            origin = "RS" if chosen == "origin_established" else None
            await tracing.record_step(OPERATOR, code, StepIn(chosen, origin_country=origin))  # type: ignore[arg-type]


async def _act(
    factory: Factory, destructions: DestructionService, depots: list[Any], witnesses: list[Any], name: str, code: str, clock: Clock
) -> None:
    """One lifecycle step on one record where the rules allow it (a refused step is skipped: the rules are tested elsewhere)."""
    kind = "lot" if code.startswith("3") else "item"
    actions = {
        "declare": [Action.DECLARE_SURPLUS],
        "approve": [Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION],
        "hold": [Action.PLACE_HOLD],
        "release": [Action.RELEASE_HOLD],
        "retain": [Action.RETAIN],
    }
    for action in actions.get(name, [Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION]):
        with contextlib.suppress(CaliberError):  # not allowed from where it stands: skipped
            await factory.items.change_status(OPERATOR, kind, code, StatusChange(action, "step", court_order="K-9/26"))  # type: ignore[arg-type]
    if name == "destroy":
        await _destroy(destructions, depots, witnesses, code, clock)


async def _destroy(destructions: DestructionService, depots: list[Any], witnesses: list[Any], code: str, clock: Clock) -> None:
    for depot in depots:
        event = await destructions.plan(
            OPERATOR, NewDestruction(depot.id, "Foundry", max(LAST, clock.now).date(), [Method.SMELTING], "1/26", clock.now.date(), "MoI")
        )
        try:
            await destructions.change_manifest(OPERATOR, event.id, ManifestChange(add=[code]))
            break
        except CaliberError:  # in the other depot, or not approved for destruction (on hold, retained, destroyed)
            continue
    else:
        return
    await except_untraced(destructions, OPERATOR, event.id)  # seized and found weapons are traced or excepted first
    await destructions.approve(OPERATOR, event.id)
    await destructions.verify(witnesses[0], event.id, Verification([code]))
    digest = await destructions.current_sha256(OPERATOR, event.id, Stage.BEFORE)
    for witness in witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):
        await destructions.add_photo(OPERATOR, event.id, stage, photo(colour), "image/png")
    started = clock.now  # after the witnesses attested
    await destructions.complete(witnesses[0], event.id, Completion([Method.CUTTING_PLASMA], started, started + dt.timedelta(hours=2)))


async def test_a_declaration_at_the_end_of_june_utc_counts_in_the_second_half_year_in_belgrade(factory: Factory, ledger: Ledger) -> None:
    clock = Clock(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    ledger.clock = clock
    depot = await factory.depot(jurisdiction="RS")
    weapon = await factory.item(depot, intake_source=IntakeSource.SURPLUS)
    clock.now = EDGE
    await factory.items.change_status(OPERATOR, "item", weapon.code, StatusChange(Action.DECLARE_SURPLUS, "surplus to needs"))
    reports = ReportService(ledger.db)
    first = await reports.figures(OPERATOR, parse_period("2026-H1", BELGRADE), ["RS"])
    second = await reports.figures(OPERATOR, parse_period("2026-H2", BELGRADE), ["RS"])
    assert (first["RS"].declared, first["RS"].surplus_end) == (0, 0)
    assert (second["RS"].declared, second["RS"].surplus_start, second["RS"].surplus_end) == (1, 0, 1)
    in_utc = await reports.figures(OPERATOR, parse_period("2026-H1", ZoneInfo("UTC")), ["RS"])
    assert in_utc["RS"].declared == 1


async def test_a_weapon_seized_in_the_first_hour_of_a_belgrade_year_belongs_to_the_year_before_in_utc(
    factory: Factory, ledger: Ledger, destructions: DestructionService
) -> None:
    """The counts keep weapons taken in by the local month they were registered: a period in UTC that begins inside that
    month leaves out those registered before it began (and what happened to them), and counts the rest."""
    clock = Clock(dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC))  # 00:30 on 1 January 2026 in Belgrade
    ledger.clock = clock
    depot = await factory.depot(jurisdiction="RS")
    early = [await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="K-1/26") for _ in range(2)]
    clock.now = dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.UTC)
    later = [await factory.item(depot, intake_source=IntakeSource.SEIZED, case_reference="K-2/26") for _ in range(2)]
    witnesses = [await factory.actor(Role.WITNESS) for _ in range(2)]
    clock.now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    for weapon in (early[0], later[0]):  # seized: on evidence hold from intake; these released and destroyed, the others held
        await factory.items.change_status(
            OPERATOR, "item", weapon.code, StatusChange(Action.RELEASE_HOLD, "case closed", court_order="K-9/26")
        )
        await _act(factory, destructions, [depot], witnesses, "destroy", weapon.code, clock)
        clock.now += dt.timedelta(days=1)
    reports = ReportService(ledger.db)
    for zone, taken in ((BELGRADE, 4), (ZoneInfo("UTC"), 2)):
        serbia = (await reports.figures(OPERATOR, parse_period("2026", zone), ["RS"]))["RS"]
        assert serbia.taken_in == {"seized": taken}, zone
        assert serbia.taken_in_destroyed == {"seized": taken // 2}, zone
        assert serbia.taken_in_held == {"seized": taken // 2}, zone


async def test_stockpile_security_counts_full_checks_discrepancies_and_what_is_missing(
    factory: Factory, ledger: Ledger, stockchecks: StockCheckService
) -> None:
    depot, idle = await factory.depot(jurisdiction="ME"), await factory.depot(jurisdiction="ME")
    here, lost = await factory.item(depot), await factory.item(depot)
    counter = await factory.actor(Role.DEPOT_MANAGER, depots=[depot])
    confirmer = await factory.actor(Role.DEPOT_MANAGER, depots=[depot])
    check = await stockchecks.open(counter, NewStockCheck(depot.id))
    await stockchecks.scan(counter, check.check.id, [Scan(here.code)])
    await stockchecks.finish_counting(counter, check.check.id)
    await stockchecks.close(confirmer, check.check.id)
    year = parse_period(str(dt.datetime.now(dt.UTC).year), BELGRADE)
    montenegro = (await ReportService(ledger.db).figures(OPERATOR, year, ["ME"]))["ME"]
    assert (montenegro.depots, montenegro.depots_counted, montenegro.discrepancies, montenegro.missing_now) == (2, 1, 1, 1)
    assert idle.code != depot.code
    assert lost.code in {line.code for line in (await stockchecks.get(OPERATOR, check.check.id)).lines}
