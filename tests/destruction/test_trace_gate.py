"""A manifest is approved only once its seized and found weapons are traced or excepted, as the jurisdiction's rule says."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.app import create_app
from caliber.config import Settings
from caliber.db import Database
from caliber.depots.models import Depot
from caliber.destruction.models import DestructionEvent, EventStatus
from caliber.destruction.schemas import ManifestChange
from caliber.destruction.service import DestructionService
from caliber.destruction.trace_rule import RULE_FILE, TraceRuleError, load_trace_rule, shipped_rule_file
from caliber.errors import Conflict
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.schemas import StatusChange
from caliber.items.service import ItemService
from caliber.ledger.store import Ledger
from caliber.tracing.events import Recipient
from caliber.tracing.lifecycle import ExceptionReason
from caliber.tracing.schemas import NewRequest, StepIn, TraceExceptionIn
from caliber.tracing.service import TracingService
from tests.conftest import TEST_ORIGIN
from tests.destruction.helpers import Day, except_untraced, plan
from tests.destruction.test_routes import form_value
from tests.factories import OPERATOR, Factory, login

pytestmark = pytest.mark.usefixtures("ledger_checked")

SIX = ("AL", "BA", "XK", "ME", "MK", "RS")
SHIPPED_AL = '[jurisdiction.AL]\nsources = ["seized", "found"]\n'


async def approvable(factory: Factory, depot: Depot, source: IntakeSource) -> str:
    """A weapon of ``source`` taken in at ``depot`` and approved for destruction (a seized one released by a court first)."""
    seized = source is IntakeSource.SEIZED
    item = await factory.item(depot, intake_source=source, case_reference="K-7/26" if seized else "")
    for action in [*([Action.RELEASE_HOLD] if seized else []), Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION]:
        await factory.items.change_status(OPERATOR, "item", item.code, StatusChange(action, "decision 4/26", court_order="K-7/26"))
    return item.code


async def day_of(factory: Factory, sources: list[IntakeSource], jurisdiction: str = "RS") -> Day:
    """A depot in ``jurisdiction`` with a clerk, a manager and weapons of ``sources`` approved for destruction."""
    depot = await factory.depot(jurisdiction=jurisdiction)
    codes = [await approvable(factory, depot, source) for source in sources]
    clerk = await factory.actor(Role.DEPOT_CLERK, depots=[depot])
    return Day(depot, clerk, await factory.actor(Role.DEPOT_MANAGER, depots=[depot]), [], codes)


async def listed(destructions: DestructionService, day: Day) -> DestructionEvent:
    """A planned destruction with the day's weapons on its manifest."""
    event = await destructions.plan(day.clerk, plan(day))
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes))
    return event


def write_rule(data_dir: Path, **sources: list[str]) -> None:
    """A tracing rule in the data dir: the shipped sources but for the jurisdictions named."""
    blocks = [f"[jurisdiction.{code}]\nsources = {sources.get(code, ['seized', 'found'])!r}\n".replace("'", '"') for code in SIX]
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / RULE_FILE).write_text("\n".join(blocks), encoding="utf-8")


def edited(settings: Settings, ledger: Ledger, items: ItemService) -> DestructionService:
    """The destruction service of a deployment that reads its data dir's rule (as the app does)."""
    return DestructionService(ledger, items, settings.data_dir / "photos", settings.zone, load_trace_rule(settings.data_dir))


async def test_untraced_seized_and_found_weapons_hold_the_approval_back_and_nothing_is_written(
    factory: Factory, destructions: DestructionService, ledger: Ledger
) -> None:
    day = await day_of(factory, [IntakeSource.SEIZED, IntakeSource.FOUND, IntakeSource.FOUND, IntakeSource.SURPLUS])
    seized, found, queried, surplus = day.codes
    tracing = TracingService(ledger, dt.UTC)
    await tracing.record_step(day.clerk, queried, StepIn("domestic_check"))
    await tracing.record_step(day.clerk, queried, StepIn("iarms_query", finding="no hit"))
    event = await listed(destructions, day)
    size = await ledger.size()
    with pytest.raises(Conflict) as refused:
        await destructions.approve(day.manager, event.id)
    message = refused.value.message
    named = ", ".join(
        f"{code} ({state})" for code, state in sorted([(seized, "not started"), (found, "not started"), (queried, "iARMS query")])
    )
    assert message == (
        f"3 seized or found weapons are not yet traced or excepted: {named}. Finish tracing them (origin established or not "
        "established), or have a depot manager record an exception, or take them off the manifest"
    )
    assert surplus not in message
    assert await ledger.size() == size  # no ledger entry
    view = await destructions.get(day.manager, event.id)
    assert (view.event.status, view.event.manifest_sha256, view.counts) == (EventStatus.PLANNED.value, None, {"listed": 4})
    (step,) = [s for s in destructions.next_steps(day.manager, view, None) if s.name == "approve"]
    assert (step.allowed, step.waiting, step.reason) == (False, True, message)


async def test_excepted_and_concluded_weapons_pass(factory: Factory, destructions: DestructionService, ledger: Ledger) -> None:
    day = await day_of(factory, [IntakeSource.SEIZED, IntakeSource.FOUND, IntakeSource.FOUND])
    excepted, established, not_established = day.codes
    tracing = TracingService(ledger, dt.UTC)
    await tracing.record_exception(day.manager, excepted, TraceExceptionIn(ExceptionReason.INSUFFICIENT_MARKINGS, "serial ground off"))
    await tracing.record_step(day.clerk, established, StepIn("domestic_check", finding="in the police register, lost in 1997"))
    await tracing.record_step(day.manager, established, StepIn("origin_established", origin_country="RS"))
    await tracing.record_step(day.clerk, not_established, StepIn("domestic_check"))
    await tracing.record_step(day.clerk, not_established, StepIn("iarms_query"))
    due = dt.date.today() + dt.timedelta(days=30)
    await tracing.send_request(day.clerk, not_established, NewRequest(Recipient.INTERPOL, due, case_reference="T-1/26"))
    await tracing.record_step(day.manager, not_established, StepIn("origin_not_established"))
    event = await listed(destructions, day)
    assert (await destructions.get(day.manager, event.id)).untraced.count == 0
    assert (await destructions.approve(day.manager, event.id)).status == EventStatus.APPROVED.value


async def test_surplus_and_surrendered_weapons_are_not_held_back_by_the_shipped_rule(
    factory: Factory, destructions: DestructionService
) -> None:
    day = await day_of(factory, [IntakeSource.SURPLUS, IntakeSource.SURRENDERED, IntakeSource.COLLECTION_PROGRAMME])
    event = await listed(destructions, day)
    assert (await destructions.approve(day.manager, event.id)).status == EventStatus.APPROVED.value


async def test_the_data_dirs_rule_changes_what_is_held_back(
    factory: Factory, ledger: Ledger, items: ItemService, settings: Settings
) -> None:
    write_rule(settings.data_dir, ME=[], RS=["seized", "found", "voluntarily_surrendered"])
    service = edited(settings, ledger, items)
    assert service.trace_rule.source == settings.data_dir / RULE_FILE
    montenegro = await day_of(factory, [IntakeSource.SEIZED, IntakeSource.FOUND], jurisdiction="ME")
    event = await listed(service, montenegro)
    assert (await service.approve(montenegro.manager, event.id)).status == EventStatus.APPROVED.value  # no sources: nothing held back
    serbia = await day_of(factory, [IntakeSource.SURRENDERED, IntakeSource.SURPLUS])
    event = await listed(service, serbia)
    with pytest.raises(
        Conflict, match=rf"^1 voluntarily surrendered weapon is not yet traced or excepted: {serbia.codes[0]} \(not started\)\. "
    ):
        await service.approve(serbia.manager, event.id)
    assert await except_untraced(service, serbia.manager, event.id) == serbia.codes[:1]
    assert (await service.approve(serbia.manager, event.id)).status == EventStatus.APPROVED.value


async def test_each_weapon_follows_the_rule_of_its_depots_jurisdiction(
    factory: Factory, ledger: Ledger, items: ItemService, settings: Settings
) -> None:
    write_rule(settings.data_dir, BA=[])
    service = edited(settings, ledger, items)
    serbia = await day_of(factory, [IntakeSource.FOUND])
    found_in_bosnia = await approvable(factory, await factory.depot(jurisdiction="BA"), IntakeSource.FOUND)
    admin = Actor.operator("test")  # staff of both depots
    event = await service.plan(admin, plan(serbia))
    await service.change_manifest(admin, event.id, ManifestChange(add=[*serbia.codes, found_in_bosnia]))
    with pytest.raises(Conflict, match=rf"^1 found weapon is not yet traced or excepted: {serbia.codes[0]} \(not started\)\. "):
        await service.approve(admin, event.id)


async def test_a_long_list_names_the_first_five_and_counts_the_rest(factory: Factory, destructions: DestructionService) -> None:
    day = await day_of(factory, [IntakeSource.FOUND] * 7)
    event = await listed(destructions, day)
    with pytest.raises(Conflict) as refused:
        await destructions.approve(day.manager, event.id)
    first = ", ".join(f"{code} (not started)" for code in sorted(day.codes)[:5])
    assert refused.value.message.startswith(f"7 found weapons are not yet traced or excepted: {first} and 2 more. ")
    view = await destructions.get(day.manager, event.id)
    assert [code for code, _ in view.untraced.first] == sorted(day.codes)  # the page lists them all (up to 50)


async def test_the_api_and_the_page_refuse_and_explain(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await day_of(factory, [IntakeSource.FOUND, IntakeSource.SURPLUS])
    found, surplus = day.codes
    event = await listed(destructions, day)
    manager = await factory.user(Role.DEPOT_MANAGER, depots=[day.depot])
    token = {"authorization": f"Bearer {await factory.token(manager)}"}
    reason = f"1 found weapon is not yet traced or excepted: {found} (not started). Finish tracing it"
    answer = await client.post(f"/api/destructions/{event.id}/approve", headers=token)
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"].startswith(reason)
    await login(client, manager.user.username)
    url = f"/destructions/{event.id}"
    page = (await client.get(url)).text
    assert f"Approve the manifest: not yet, {reason}" in page
    assert f'action="{url}/approve"' not in page
    assert f'href="/tracing/weapons/{found}"' in page
    assert f'href="/tracing/weapons/{surplus}"' not in page
    posted = await client.post(f"{url}/approve", data={"_csrf_token": form_value(page, "_csrf_token")})
    assert posted.status_code == 409
    assert reason in posted.text
    assert (await destructions.get(day.manager, event.id)).event.status == EventStatus.PLANNED.value


async def test_the_command_line_refuses_and_explains(
    factory: Factory, destructions: DestructionService, settings: Settings, database_url: str
) -> None:
    day = await day_of(factory, [IntakeSource.SEIZED])
    event = await listed(destructions, day)
    env = {
        **os.environ,
        "CALIBER_DATA_DIR": str(settings.data_dir),
        "CALIBER_DATABASE_URL": database_url,
        "CALIBER_SECRET_KEY": settings.secret_key,
        "CALIBER_LOG_ORIGIN": TEST_ORIGIN,
    }
    command = [sys.executable, "-m", "caliber", "destruction", "approve", event.code]
    refused = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.strip() == (
        f"caliber: 1 seized weapon is not yet traced or excepted: {day.codes[0]} (not started). Finish tracing it (origin "
        "established or not established), or have a depot manager record an exception, or take it off the manifest"
    )
    assert (await destructions.get(day.manager, event.id)).event.status == EventStatus.PLANNED.value
    await except_untraced(destructions, day.manager, event.id)
    approved = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == f"approved the manifest of destruction {event.code}: 1 records"
    assert (await destructions.get(day.manager, event.id)).event.status == EventStatus.APPROVED.value


@pytest.mark.parametrize(
    ("block", "complaint"),
    [
        ("", r"jurisdiction AL is missing: give it sources = \[\] to hold nothing back there"),
        ("[jurisdiction.XX]\nsources = []\n", "jurisdiction 'XX' is not one of AL, BA, XK, ME, MK, RS"),
        ("[rule]\n", "unknown entry 'rule'"),
        ('[jurisdiction.AL]\nsources = ["surplus"]\n', "jurisdiction AL: 'surplus' has a known origin and is never traced"),
        ('[jurisdiction.AL]\nsources = ["stolen"]\n', "jurisdiction AL: 'stolen' is no intake source"),
        ('[jurisdiction.AL]\nsources = "seized"\n', "jurisdiction AL needs sources = a list of intake sources"),
        ('[jurisdiction.AL]\nsource = ["seized"]\n', "jurisdiction AL: unknown key 'source'"),
        ("[jurisdiction.AL\n", "Expected ']'"),
    ],
)
def test_a_wrong_rule_file_is_refused_naming_the_file_the_entry_and_what_is_wrong(tmp_path: Path, block: str, complaint: str) -> None:
    shipped = shipped_rule_file().read_text(encoding="utf-8")
    assert SHIPPED_AL in shipped
    (tmp_path / RULE_FILE).write_text(shipped.replace(SHIPPED_AL, block), encoding="utf-8")
    with pytest.raises(TraceRuleError, match=f"^{re.escape(str(tmp_path / RULE_FILE))}: .*{complaint}"):
        load_trace_rule(tmp_path)


def test_the_app_does_not_start_on_a_wrong_rule_file(settings: Settings, db: Database) -> None:
    write_rule(settings.data_dir, AL=["surplus"])
    with pytest.raises(TraceRuleError, match=f"^{re.escape(str(settings.data_dir / RULE_FILE))}: jurisdiction AL: 'surplus'"):
        create_app(settings, database=db)


def test_the_shipped_rule_holds_back_seized_and_found_weapons_everywhere(tmp_path: Path) -> None:
    rule = load_trace_rule(tmp_path)  # no file in the data dir: the shipped one
    assert rule.source == shipped_rule_file()
    assert {code: rule.gated(code) for code in SIX} == {code: frozenset({IntakeSource.SEIZED, IntakeSource.FOUND}) for code in SIX}
