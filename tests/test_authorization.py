"""The authorisation matrix: every route × every role (and anonymous) gets the expected answer.

This table is the one place where who may do what is written down for tests;
every later route is added here (a test fails while a route is missing).
Depot staff are assigned to ``depot``; ``other`` cases use a depot outside their scope.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from caliber.accounts.models import Role
from caliber.depots.models import Depot
from caliber.destruction.models import Method
from caliber.destruction.schemas import ManifestChange, NewDestruction
from caliber.destruction.service import DestructionService
from caliber.imports.service import ImportJobs
from caliber.items.lifecycle import Action
from caliber.items.schemas import StatusChange
from caliber.labels.schemas import NewPrinter
from caliber.ledger import store
from caliber.stockchecks.schemas import NewStockCheck
from caliber.stockchecks.service import StockCheckService
from caliber.tracing.events import Recipient
from caliber.tracing.schemas import IdentifiersIn, NewIncoming, NewRequest, StepIn
from caliber.tracing.service import TracingService
from caliber.transfers.schemas import NewTransfer
from caliber.transfers.service import TransferService
from tests.factories import OPERATOR, Factory

ANON = "anonymous"
ROLES = [ANON, *(role.value for role in Role)]
USERS = [role.value for role in Role]
STAFF = {Role.DEPOT_CLERK.value, Role.DEPOT_MANAGER.value}


def answers(ok: int, allowed: set[str] | None = None, *, denied: int = 403, anonymous: int = 401, **special: int) -> dict[str, int]:
    """Expected status per role: ``ok`` for ``allowed`` (default every user), ``denied`` for the rest."""
    allowed = set(USERS) if allowed is None else allowed
    expected = {role: ok if role in allowed else denied for role in USERS}
    expected[ANON] = anonymous
    expected.update(special)
    return expected


def page(ok: int, allowed: set[str] | None = None, *, denied: int = 403, post: bool = False) -> dict[str, int]:
    """Pages send anonymous visitors to the login page; an anonymous form post fails its CSRF check first."""
    return answers(ok, allowed, denied=denied, anonymous=403 if post else 302)


ADMIN = {Role.ADMIN.value}
LOCATION_EDITORS = {Role.ADMIN.value, Role.DEPOT_MANAGER.value}
MANAGERS = LOCATION_EDITORS
DEPOT_WORK = {Role.ADMIN.value, *STAFF}
IARMS_READERS = {Role.ADMIN.value, Role.DEPOT_MANAGER.value, Role.INSPECTOR.value, Role.MINISTRY_OFFICIAL.value}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
ITEM_BODY = {
    "depot_id": "{depot_id}",
    "manufacturer": "Zastava",
    "model": "M70",
    "calibre": "7.62x39mm",
    "serial": "MATRIX",
    "un_type": "assault_rifle",
    "intake_source": "found",
    "kind": "weapon",
    "condition": "serviceable",
}
TRANSFER_BODY = {"from_depot_id": "{depot_id}", "to_depot_id": "{other_depot_id}", "codes": ["{transfer_item}"]}
PAGE_TRANSFER_BODY = {"from_depot_id": "{depot_id}", "to_depot_id": "{other_depot_id}", "codes": "{page_transfer_item}"}
CSV = b"serial,manufacturer,model,calibre,un_type,intake_source\nM1,Zastava,M70,7.62x39mm,assault_rifle,found\n"
HITS = b"hit_reference,serial_number,make,reporting_country,reported_as,reported_on,queried_on\nIA-M1,NONE-HELD,Zastava,DE,stolen,2019-03-08,2026-01-05\n"
LOT_BODY = {
    "depot_id": "{depot_id}",
    "lot_number": "L-1",
    "manufacturer": "PPU",
    "calibre": "9x19mm",
    "nature": "ball",
    "quantity": 100,
    "gross_mass_kg": "2",
    "net_explosive_mass_kg": "0.1",
    "hazard_division": "1.4",
    "compatibility_group": "S",
    "intake_source": "surplus",
    "condition": "serviceable",
}
OUT_OF_SCOPE = dict.fromkeys(STAFF, 403)
HIDDEN = dict.fromkeys(STAFF, 404)
"""Out of scope and answered as unknown: ledger timelines reveal not even that a record exists."""
WITNESSING = {Role.WITNESS.value, Role.DEPOT_MANAGER.value, Role.ADMIN.value}
AT_SITE = {Role.WITNESS.value, *DEPOT_WORK}
PLAN_BODY = {
    "depot_id": "{depot_id}",
    "site_name": "Foundry",
    "planned_date": "2030-06-01",
    "methods": ["smelting"],
    "authority_number": "Decision 1/30",
    "authority_date": "2030-05-01",
    "organiser": "Ministry",
}
COMPLETION = {"methods_used": ["smelting"], "started_at": "2026-01-01T09:00:00Z", "ended_at": "2026-01-01T12:00:00Z"}
PAGE_COMPLETION = {"methods_used": "smelting", "started_at": "2026-01-01T09:00", "ended_at": "2026-01-01T12:00"}
PRINTER_BODY = {"depot_id": "{depot_id}", "name": "Matrix printer", "host": "127.0.0.1", "model": "Zebra ZD421", "dpi": 203, "size": "2x1"}
ZPL_JOB = {"codes": ["{item_code}"], "output": "zpl", "reason": "matrix"}
TRACE_EXCEPTION = {"reason": "insufficient_markings", "explanation": "serial ground off"}
TRACE_REQUEST = {"recipient": "interpol", "due": "2099-01-01", "case_reference": "KU 12/26"}
INCOMING_BODY = {
    "depot_id": "{depot_id}",
    "requesting_state": "AT",
    "their_reference": "BK-1",
    "due": "2099-01-01",
    "identifiers": {"serial": "X1"},
}
PAGE_INCOMING = {"depot_id": "{depot_id}", "requesting_state": "AT", "their_reference": "BK-2", "due": "2099-01-01", "serial": "X2"}
NOT_YET = dict.fromkeys(ROLES, 404)
PUBLIC = dict.fromkeys(ROLES, 200)


@dataclass(frozen=True)
class Case:
    """One request and the status each role must get."""

    method: str
    path: str
    expected: dict[str, int]
    body: dict[str, Any] | list[Any] | None = None
    form: bool = False
    raw: tuple[str, bytes] | None = None
    """A content type and a body sent as they are (uploads)."""
    files: dict[str, tuple[str, bytes, str]] | None = None
    """Files sent as a multipart form (page uploads)."""
    scope: str = "depot"
    ids: dict[str, str] = field(default_factory=dict)
    """Values for this case's own placeholders (they win over the run's)."""


_n = itertools.count()


def new_user_body() -> dict[str, Any]:
    return {"username": f"matrix{next(_n)}", "display_name": "Matrix User", "role": "witness", "password": "long enough password"}


def new_depot_body() -> dict[str, Any]:
    return {"code": f"MX-{next(_n)}", "name": "Matrix depot", "kind": "army_depot", "jurisdiction": "AL"}


CASES: list[Case] = [
    # site
    Case("GET", "/", page(200)),
    Case("GET", "/health", PUBLIC),
    Case("GET", "/ready", PUBLIC),
    Case("GET", "/login", PUBLIC),
    Case("POST", "/login", answers(401, anonymous=403), {"username": "nobody", "password": "wrong"}, form=True),
    Case("GET", "/static/{file_path:path}", PUBLIC),
    Case("POST", "/logout", answers(302, anonymous=403)),
    # accounts: pages
    Case("GET", "/users/", page(200, ADMIN)),
    Case("GET", "/users/new", page(200, ADMIN)),
    Case("POST", "/users/new", page(302, ADMIN, post=True), new_user_body(), form=True),
    Case("GET", "/users/{user_id:uuid}", page(200, ADMIN)),
    Case("POST", "/users/{user_id:uuid}", page(302, ADMIN, post=True), {"display_name": "Renamed", "role": "witness"}, form=True),
    Case("POST", "/users/{user_id:uuid}/password", page(302, ADMIN, post=True), {"password": "another long password"}, form=True),
    Case("GET", "/account/", page(200)),
    Case("POST", "/account/tokens", page(200, post=True), {"name": "matrix"}, form=True),
    Case("POST", "/account/tokens/{token_id:uuid}/revoke", page(302, ADMIN, denied=404, post=True), {}, form=True),
    Case("POST", "/account/password", page(302, post=True), {"password": "another long password"}, form=True),
    # accounts: API
    Case("GET", "/api/users/me", answers(200)),
    Case("GET", "/api/users", answers(200, ADMIN)),
    Case("POST", "/api/users", answers(201, ADMIN), new_user_body()),
    Case("GET", "/api/users/{user_id:uuid}", answers(200, ADMIN)),
    Case("PATCH", "/api/users/{user_id:uuid}", answers(200, ADMIN), {"display_name": "Renamed"}),
    Case("POST", "/api/users/{user_id:uuid}/password", answers(204, ADMIN), {"password": "another long password"}),
    Case("GET", "/api/tokens", answers(200)),
    Case("POST", "/api/tokens", answers(201), {"name": "matrix"}),
    Case("POST", "/api/tokens/{token_id:uuid}/revoke", answers(201, ADMIN, denied=404)),
    # inventory: pages
    Case("GET", "/depots/", page(200)),
    Case("GET", "/depots/new", page(200, ADMIN)),
    Case("POST", "/depots/new", page(302, ADMIN, post=True), new_depot_body(), form=True),
    Case("GET", "/depots/{depot_id:uuid}", page(200)),
    Case("GET", "/depots/{depot_id:uuid}", {**page(200), **OUT_OF_SCOPE}, scope="other"),
    Case("GET", "/depots/{depot_id:uuid}/edit", page(200, ADMIN)),
    Case("POST", "/depots/{depot_id:uuid}/edit", page(302, ADMIN, post=True), {"name": "Renamed", "active": "on"}, form=True),
    Case("POST", "/depots/{depot_id:uuid}/locations", page(302, LOCATION_EDITORS, post=True), {"kind": "room", "name": "R"}, form=True),
    Case(
        "POST",
        "/depots/{depot_id:uuid}/locations",
        {**page(302, LOCATION_EDITORS, post=True), **OUT_OF_SCOPE},
        {"kind": "room", "name": "R"},
        form=True,
        scope="other",
    ),
    Case("POST", "/depots/{depot_id:uuid}/locations/{location_id:uuid}", page(302, LOCATION_EDITORS, post=True), {"name": "L2"}, form=True),
    # ledger: hashes for every role; events only within the scope of the records they concern
    Case("GET", "/api/ledger/checkpoint", answers(200)),
    Case("GET", "/api/ledger/key", answers(200)),
    Case("GET", "/api/ledger/entries", answers(200)),
    Case("GET", "/api/ledger/entries/{index:int}", answers(200)),
    Case("GET", "/api/ledger/proof/inclusion?index=0&size=1", answers(200)),
    Case("GET", "/api/ledger/proof/consistency?old=1&new=2", answers(200)),
    Case("GET", "/api/ledger/witnesses", answers(200)),
    Case("GET", "/api/ledger/entries/{index:int}", answers(200), scope="other"),  # its event withheld from staff: see below
    Case("GET", "/api/ledger/subjects/{subject:str}/timeline", answers(200)),
    Case("GET", "/api/ledger/subjects/{subject:str}/timeline", {**answers(200), **HIDDEN}, scope="other"),
    Case("GET", "/ledger/timeline?subject=depot:{depot_id:uuid}", page(200)),
    Case("GET", "/ledger/timeline?subject=depot:{depot_id:uuid}", {**page(200), **HIDDEN}, scope="other"),
    Case("GET", "/ledger/timeline?subject={item_code}", {**page(200), **HIDDEN}, scope="other"),
    Case("GET", "/ledger/", page(200)),
    Case("GET", "/ledger/entries/{index:int}", page(200)),
    Case("GET", "/ledger/entries/{index:int}", page(200), scope="other"),  # its event withheld from staff
    Case("GET", "/ledger/entries/{index:int}/proof", page(200), scope="other"),
    Case("GET", "/ledger/bundle", page(200)),  # what each reader may read, the rest as leaf hashes
    Case("POST", "/api/ledger/witnesses", answers(422, ADMIN), {"vkey": "name+0000+notakeyatall"}),
    Case("POST", "/api/ledger/witness/add-checkpoint", answers(422, {Role.INSPECTOR.value}), {"x": 1}),
    # inventory: API
    Case("GET", "/api/jurisdictions", answers(200)),
    Case("GET", "/api/depots", answers(200)),
    Case("POST", "/api/depots", answers(201, ADMIN), new_depot_body()),
    Case("GET", "/api/depots/{depot_id:uuid}", answers(200)),
    Case("GET", "/api/depots/{depot_id:uuid}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("PATCH", "/api/depots/{depot_id:uuid}", answers(200, ADMIN), {"address": "Somewhere"}),
    Case("GET", "/api/depots/{depot_id:uuid}/locations", answers(200)),
    Case("GET", "/api/depots/{depot_id:uuid}/locations", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/api/depots/{depot_id:uuid}/locations", answers(201, LOCATION_EDITORS), {"kind": "room", "name": "A"}),
    Case(
        "POST",
        "/api/depots/{depot_id:uuid}/locations",
        {**answers(201, LOCATION_EDITORS), **OUT_OF_SCOPE},
        {"kind": "room", "name": "A"},
        scope="other",
    ),
    Case("PATCH", "/api/locations/{location_id:uuid}", answers(200, LOCATION_EDITORS), {"name": "Renamed"}),
    Case(
        "PATCH", "/api/locations/{location_id:uuid}", {**answers(200, LOCATION_EDITORS), **OUT_OF_SCOPE}, {"name": "Renamed"}, scope="other"
    ),
    # items and lots: API
    Case("POST", "/api/items", answers(201, DEPOT_WORK), ITEM_BODY),
    Case("POST", "/api/items", {**answers(201, DEPOT_WORK), **OUT_OF_SCOPE}, ITEM_BODY, scope="other"),
    Case("POST", "/api/items/batch", answers(201, DEPOT_WORK), [ITEM_BODY, ITEM_BODY]),
    Case("GET", "/api/items", answers(200)),
    Case("GET", "/api/items/export.csv", answers(200)),
    Case("GET", "/api/items/iarms.csv", answers(200, IARMS_READERS)),
    Case("GET", "/api/items/iarms.xml", answers(200, IARMS_READERS)),
    Case("GET", "/api/items/{code:str}", answers(200)),
    Case("GET", "/api/items/{code:str}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("GET", "/api/items/{code:str}/timeline", answers(200)),
    Case("GET", "/api/items/{code:str}/timeline", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("GET", "/api/items/{code:str}/photos/{sha256:str}", answers(200)),
    Case("POST", "/api/items/{code:str}/status", answers(200, MANAGERS), {"action": "declare_surplus", "reason": "old stock"}),
    Case("POST", "/api/items/{code:str}/corrections", answers(200, DEPOT_WORK), {"field": "notes", "value": "matrix", "reason": "r"}),
    Case("POST", "/api/items/{code:str}/duplicate-review", answers(200, MANAGERS), {"decision": "distinct", "reason": "r"}),
    Case("POST", "/api/items/{code:str}/photos", answers(201, DEPOT_WORK), raw=("image/png", PNG + b"2")),
    Case(
        "POST", "/api/items/{code:str}/photos", {**answers(201, DEPOT_WORK), **OUT_OF_SCOPE}, raw=("image/png", PNG + b"3"), scope="other"
    ),
    Case("POST", "/api/lots", answers(201, DEPOT_WORK), LOT_BODY),
    Case("GET", "/api/lots", answers(200)),
    Case("GET", "/api/lots/export.csv", answers(200)),
    Case("GET", "/api/lots/{code:str}", answers(200)),
    Case("GET", "/api/lots/{code:str}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/api/lots/{code:str}/status", answers(200, MANAGERS), {"action": "declare_surplus", "reason": "old stock"}),
    Case("POST", "/api/lots/{code:str}/corrections", answers(200, DEPOT_WORK), {"field": "nature", "value": "tracer", "reason": "r"}),
    Case("POST", "/api/lots/{code:str}/split", answers(201, DEPOT_WORK), {"quantity": 10, "reason": "part to destruction"}),
    Case("POST", "/api/moves", answers(200, DEPOT_WORK), {"codes": ["{item_code}"], "location_id": "{location_id}"}),
    Case(
        "POST",
        "/api/moves",
        {**answers(200, DEPOT_WORK), **OUT_OF_SCOPE},
        {"codes": ["{item_code}"], "location_id": "{location_id}"},
        scope="other",
    ),
    Case("GET", "/api/scan?code={item_code}", answers(200)),
    Case("GET", "/api/scan?code={item_code}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    # items and lots: pages (they work on records of their own, apart from the API's)
    Case("GET", "/items/", page(200)),
    Case("GET", "/items/new", page(200, DEPOT_WORK)),
    Case("POST", "/items/new", page(302, DEPOT_WORK, post=True), ITEM_BODY, form=True),
    Case("GET", "/items/intake", page(200, DEPOT_WORK)),
    Case("POST", "/items/intake", page(200, DEPOT_WORK, post=True), ITEM_BODY, form=True),
    Case("GET", "/items/{code:str}", page(200)),
    Case("GET", "/items/{code:str}", {**page(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/items/{code:str}/status", page(302, MANAGERS, post=True), {"action": "declare_surplus", "reason": "old"}, form=True),
    Case("POST", "/items/{code:str}/correct", page(302, DEPOT_WORK, post=True), {"field": "notes", "value": "p", "reason": "r"}, form=True),
    Case("POST", "/items/{code:str}/move", page(302, DEPOT_WORK, post=True), {"location_id": "{location_id}"}, form=True),
    Case("POST", "/items/{code:str}/duplicate-review", page(302, MANAGERS, post=True), {"decision": "distinct", "reason": "r"}, form=True),
    Case("POST", "/items/{code:str}/photos", page(302, DEPOT_WORK, post=True), files={"photo": ("p.png", PNG + b"4", "image/png")}),
    Case("GET", "/lots/", page(200)),
    Case("GET", "/lots/new", page(200, DEPOT_WORK)),
    Case("POST", "/lots/new", page(302, DEPOT_WORK, post=True), LOT_BODY, form=True),
    Case("GET", "/lots/{code:str}", page(200)),
    Case("GET", "/lots/{code:str}", {**page(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/lots/{code:str}/status", page(302, MANAGERS, post=True), {"action": "declare_surplus", "reason": "old"}, form=True),
    Case(
        "POST", "/lots/{code:str}/correct", page(302, DEPOT_WORK, post=True), {"field": "nature", "value": "HE", "reason": "r"}, form=True
    ),
    Case("POST", "/lots/{code:str}/move", page(302, DEPOT_WORK, post=True), {"location_id": "{location_id}"}, form=True),
    Case("POST", "/lots/{code:str}/split", page(302, DEPOT_WORK, post=True), {"quantity": "5", "reason": "to destroy"}, form=True),
    Case("GET", "/scan", page(200)),
    Case("POST", "/scan", page(200, post=True), {"scan": "{item_code}"}, form=True),
    Case("GET", "/labels/{filename:str}", page(200)),
    Case("POST", "/api/labels/print", answers(200, DEPOT_WORK), {"codes": ["{item_code}"], "reason": "matrix"}),
    Case(
        "POST", "/api/labels/print", {**answers(200, DEPOT_WORK), **OUT_OF_SCOPE}, {"codes": ["{item_code}"], "reason": "m"}, scope="other"
    ),
    Case("GET", "/api/labels/layouts", answers(200)),
    Case("POST", "/api/labels/layouts/{key:str}/calibration", answers(200, ADMIN), {"dx_mm": "0.5", "dy_mm": "-1"}),
    Case("GET", "/print", page(200, DEPOT_WORK)),
    Case("POST", "/print", page(200, DEPOT_WORK, post=True), {"codes": "{item_code}", "reason": "matrix"}, form=True),
    Case("GET", "/print/test/{key:str}", page(200, DEPOT_WORK)),
    # printers: admins register them; staff print only to their depots' printers
    Case("GET", "/api/printers", answers(200, DEPOT_WORK)),
    Case("POST", "/api/printers", answers(201, ADMIN), PRINTER_BODY),
    Case("GET", "/api/printers/{printer_id:uuid}", answers(200, DEPOT_WORK)),
    Case("GET", "/api/printers/{printer_id:uuid}", {**answers(200, DEPOT_WORK), **OUT_OF_SCOPE}, scope="other"),
    Case("PATCH", "/api/printers/{printer_id:uuid}", answers(200, ADMIN), {"model": "Zebra ZT411"}),
    Case("POST", "/api/labels/print", answers(200, DEPOT_WORK), {**ZPL_JOB, "printer_id": "{printer_id}"}),
    Case("POST", "/api/labels/print", {**answers(200, DEPOT_WORK), **OUT_OF_SCOPE}, {**ZPL_JOB, "printer_id": "{other_printer_id}"}),
    Case("POST", "/print", page(200, DEPOT_WORK, post=True), {**ZPL_JOB, "codes": "{item_code}", "printer_id": "{printer_id}"}, form=True),
    Case("GET", "/printers", page(200, ADMIN)),
    Case("GET", "/printers/new", page(200, ADMIN)),
    Case("POST", "/printers/new", page(302, ADMIN, post=True), {**PRINTER_BODY, "name": "Form printer"}, form=True),
    Case("GET", "/printers/{printer_id:uuid}/edit", page(200, ADMIN)),
    Case("POST", "/printers/{printer_id:uuid}/edit", page(302, ADMIN, post=True), {"model": "ZT411", "active": "on"}, form=True),
    Case("GET", "/labels/{filename:str}", {**page(200), **OUT_OF_SCOPE}, scope="other"),
    Case("GET", "/s/{code:str}", page(302)),
    Case("GET", "/s/{code:str}", {**page(302), **OUT_OF_SCOPE}, scope="other"),
    # imports
    Case("GET", "/imports", page(200, DEPOT_WORK)),
    Case(
        "POST",
        "/imports",
        page(302, DEPOT_WORK, post=True),
        {"depot": "{depot_code}"},
        form=True,
        files={"file": ("w.csv", CSV, "text/csv")},
    ),
    Case("GET", "/imports/template.csv", page(200)),
    Case("GET", "/imports/template.xlsx", page(200)),
    Case("GET", "/imports/{sha256:str}", page(200, DEPOT_WORK)),
    Case("GET", "/imports/{sha256:str}", {**page(200, DEPOT_WORK), **OUT_OF_SCOPE}, scope="other"),
    Case("GET", "/imports/{sha256:str}/progress", page(200, DEPOT_WORK)),
    Case("POST", "/imports/{sha256:str}/run", page(302, DEPOT_WORK, post=True), {}, form=True),
    Case("POST", "/api/imports?depot={depot_code}", answers(201, DEPOT_WORK), raw=("text/csv", CSV)),
    Case("POST", "/api/imports?depot={depot_code}", {**answers(201, DEPOT_WORK), **OUT_OF_SCOPE}, raw=("text/csv", CSV), scope="other"),
    Case("GET", "/api/imports/{sha256:str}", answers(200, DEPOT_WORK)),
    Case("POST", "/api/imports/{sha256:str}/run", answers(202, DEPOT_WORK)),
    # tracing: the weapon's trace, requests out and in (staff of other depots refused)
    Case("GET", "/api/tracing/weapons/{code:str}", answers(200)),
    Case("GET", "/api/tracing/weapons/{code:str}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/api/tracing/weapons/{code:str}/steps", answers(200, DEPOT_WORK), {"step": "domestic_check"}),
    Case(
        "POST",
        "/api/tracing/weapons/{code:str}/steps",
        {**answers(200, DEPOT_WORK), **OUT_OF_SCOPE},
        {"step": "domestic_check"},
        scope="other",
    ),
    Case("POST", "/api/tracing/weapons/{code:str}/exception", answers(200, MANAGERS), TRACE_EXCEPTION, ids={"code": "{excepted_item}"}),
    Case("POST", "/api/tracing/weapons/{code:str}/requests", answers(201, DEPOT_WORK), TRACE_REQUEST, ids={"code": "{queried_item}"}),
    Case("GET", "/api/tracing/requests/{request_id:uuid}", answers(200)),
    Case("GET", "/api/tracing/requests/{request_id:uuid}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/api/tracing/requests/{request_id:uuid}/response", answers(200, DEPOT_WORK), {"answer": "no record"}),
    Case("POST", "/api/tracing/incoming", answers(201, DEPOT_WORK), INCOMING_BODY),
    Case("POST", "/api/tracing/incoming", {**answers(201, DEPOT_WORK), **OUT_OF_SCOPE}, INCOMING_BODY, scope="other"),
    Case("GET", "/api/tracing/incoming/{incoming_id:uuid}", answers(200)),
    Case("GET", "/api/tracing/incoming/{incoming_id:uuid}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/api/tracing/incoming/{incoming_id:uuid}/answer", answers(200, DEPOT_WORK), {"answer": "none held"}),
    Case(
        "POST",
        "/api/tracing/incoming/{incoming_id:uuid}/answer",
        {**answers(200, DEPOT_WORK), **OUT_OF_SCOPE},
        {"answer": "none held"},
        scope="other",
    ),
    Case("GET", "/api/tracing/queue", answers(200)),
    # tracing: pages (the same scope as the API: staff of other depots refused)
    Case("GET", "/tracing/", page(200)),
    Case("GET", "/tracing/weapons/{code:str}", page(200)),
    Case("GET", "/tracing/weapons/{code:str}", {**page(200), **OUT_OF_SCOPE}, scope="other"),
    Case("POST", "/tracing/weapons/{code:str}/steps", page(302, DEPOT_WORK, post=True), {"step": "domestic_check"}, form=True),
    Case(
        "POST",
        "/tracing/weapons/{code:str}/steps",
        {**page(302, DEPOT_WORK, post=True), **OUT_OF_SCOPE},
        {"step": "domestic_check"},
        form=True,
        scope="other",
    ),
    Case(
        "POST",
        "/tracing/weapons/{code:str}/exception",
        page(302, MANAGERS, post=True),
        TRACE_EXCEPTION,
        form=True,
        ids={"code": "{page_excepted_item}"},
    ),
    Case(
        "POST",
        "/tracing/weapons/{code:str}/requests",
        page(302, DEPOT_WORK, post=True),
        TRACE_REQUEST,
        form=True,
        ids={"code": "{page_queried_item}"},
    ),
    Case("GET", "/tracing/requests/{request_id:uuid}", page(200)),
    Case("GET", "/tracing/requests/{request_id:uuid}", {**page(200), **OUT_OF_SCOPE}, scope="other"),
    Case(
        "POST",
        "/tracing/requests/{request_id:uuid}/response",
        page(302, DEPOT_WORK, post=True),
        {"answer": "no record"},
        form=True,
        ids={"request_id": "{page_request_id}"},
    ),
    Case("GET", "/tracing/incoming/new", page(200, DEPOT_WORK)),
    Case("POST", "/tracing/incoming/new", page(302, DEPOT_WORK, post=True), PAGE_INCOMING, form=True),
    Case("POST", "/tracing/incoming/new", {**page(302, DEPOT_WORK, post=True), **OUT_OF_SCOPE}, PAGE_INCOMING, form=True, scope="other"),
    Case("GET", "/tracing/incoming/{incoming_id:uuid}", page(200)),
    Case("GET", "/tracing/incoming/{incoming_id:uuid}", {**page(200), **OUT_OF_SCOPE}, scope="other"),
    Case(
        "POST",
        "/tracing/incoming/{incoming_id:uuid}/answer",
        page(302, DEPOT_WORK, post=True),
        {"answer": "none held"},
        form=True,
        ids={"incoming_id": "{page_incoming_id}"},
    ),
    Case(
        "POST",
        "/tracing/incoming/{incoming_id:uuid}/answer",
        {**page(302, DEPOT_WORK, post=True), **OUT_OF_SCOPE},
        {"answer": "none held"},
        form=True,
        scope="other",
        ids={"incoming_id": "{page_incoming_id}"},
    ),
    Case("POST", "/api/tracing/iarms-hits", answers(200, DEPOT_WORK), raw=("text/csv", HITS)),
    Case("GET", "/tracing/iarms-hits", page(200, DEPOT_WORK)),
    Case("POST", "/tracing/iarms-hits", page(200, DEPOT_WORK, post=True), {}, form=True, files={"file": ("hits.csv", HITS, "text/csv")}),
    # transfers (into the staff's depot from the other one)
    Case("POST", "/api/transfers", answers(201, DEPOT_WORK), TRANSFER_BODY),
    Case("POST", "/api/transfers", {**answers(201, DEPOT_WORK), **OUT_OF_SCOPE}, TRANSFER_BODY, scope="other"),
    Case("GET", "/api/transfers", answers(200)),
    Case("GET", "/api/transfers/{transfer_id:uuid}", answers(200)),
    Case("POST", "/api/transfers/{transfer_id:uuid}/receive", answers(200, DEPOT_WORK), {"codes": []}),
    Case("GET", "/transfers", page(200)),
    Case("GET", "/transfers/new", page(200, DEPOT_WORK)),
    Case("POST", "/transfers/new", page(302, DEPOT_WORK, post=True), PAGE_TRANSFER_BODY, form=True),
    Case("GET", "/transfers/{transfer_id:uuid}", page(200)),
    Case("POST", "/transfers/{transfer_id:uuid}/receive", page(302, DEPOT_WORK, post=True), {"confirm": "yes"}, form=True),
    # stock checks (one under way in the staff's depot; one counted by someone else in their second depot)
    Case("POST", "/api/stockchecks", answers(409, DEPOT_WORK), {"depot_id": "{depot_id}"}),
    Case("GET", "/api/stockchecks", answers(200)),
    Case("GET", "/api/stockchecks/due", answers(200)),
    Case("GET", "/api/stockchecks/{check_id:uuid}", answers(200)),
    Case("POST", "/api/stockchecks/{check_id:uuid}/scans", answers(200, DEPOT_WORK), {"scans": [{"code": "{item_code}"}]}),
    Case("POST", "/api/stockchecks/{check_id:uuid}/counted", answers(200, DEPOT_WORK)),
    Case("POST", "/api/stockchecks/{check_id:uuid}/close", answers(200, MANAGERS)),
    # destruction (events in the staff's depot; {event_id} is chosen by the step, see the test)
    Case("POST", "/api/destructions", answers(201, DEPOT_WORK), PLAN_BODY),
    Case("POST", "/api/destructions", {**answers(201, DEPOT_WORK), **OUT_OF_SCOPE}, PLAN_BODY, scope="other"),
    Case("GET", "/api/destructions", answers(200)),
    Case("GET", "/api/destructions/waiting", answers(200)),
    Case("GET", "/api/destructions/{event_id:uuid}", answers(200)),
    Case("GET", "/api/destructions/{event_id:uuid}", {**answers(200), **OUT_OF_SCOPE}, scope="other"),
    Case("GET", "/api/destructions/{event_id:uuid}/manifest", answers(200)),
    Case("POST", "/api/destructions/{event_id:uuid}/manifest", answers(200, DEPOT_WORK), {"add": ["{destroy_item}"]}),
    Case("POST", "/api/destructions/{event_id:uuid}/approve", answers(200, MANAGERS)),
    Case("POST", "/api/destructions/{event_id:uuid}/verify", answers(200, AT_SITE), {"codes": ["{verify_item}"]}),
    Case("POST", "/api/destructions/{event_id:uuid}/withdraw", answers(200, MANAGERS), {"codes": ["{withdraw_item}"], "reason": "lost"}),
    Case("GET", "/api/destructions/{event_id:uuid}/attestation", answers(200)),
    Case("POST", "/api/destructions/{event_id:uuid}/attest", answers(409, WITNESSING), {"stage": "before", "manifest_sha256": "0" * 64}),
    Case("POST", "/api/destructions/{event_id:uuid}/photos?stage=before", answers(201, AT_SITE), raw=("image/png", PNG)),
    Case("POST", "/api/destructions/{event_id:uuid}/complete", answers(409, WITNESSING), COMPLETION),
    Case("POST", "/api/destructions/{event_id:uuid}/residue", answers(409, WITNESSING), {"notes": "cut through"}),
    Case("POST", "/api/destructions/{event_id:uuid}/certify", answers(409, MANAGERS)),
    Case("GET", "/api/destructions/{event_id:uuid}/certificate.json", answers(409)),
    Case("GET", "/destructions", page(200)),
    Case("GET", "/destructions/new", page(200, DEPOT_WORK)),
    Case("POST", "/destructions/new", page(302, DEPOT_WORK, post=True), PLAN_BODY, form=True),
    Case("GET", "/destructions/{event_id:uuid}", page(200)),
    Case("POST", "/destructions/{event_id:uuid}/manifest", page(200, DEPOT_WORK, post=True), {"codes": "{page_destroy_item}"}, form=True),
    Case("POST", "/destructions/{event_id:uuid}/approve", page(302, MANAGERS, post=True), {}, form=True),
    Case(
        "POST",
        "/destructions/{event_id:uuid}/withdraw",
        page(302, MANAGERS, post=True),
        {"codes": "{page_withdraw_item}", "reason": "lost"},
        form=True,
    ),
    Case(
        "POST",
        "/destructions/{event_id:uuid}/attest",
        page(409, WITNESSING, post=True),
        {"stage": "before", "manifest_sha256": "0" * 64},
        form=True,
    ),
    Case(
        "POST",
        "/destructions/{event_id:uuid}/photos",
        page(302, AT_SITE, post=True),
        {"stage": "before"},
        files={"photo": ("p.png", PNG, "image/png")},
    ),
    Case("POST", "/destructions/{event_id:uuid}/complete", page(409, WITNESSING, post=True), PAGE_COMPLETION, form=True),
    Case("POST", "/destructions/{event_id:uuid}/residue", page(409, WITNESSING, post=True), {"notes": "cut through"}, form=True),
    Case("POST", "/destructions/{event_id:uuid}/certify", page(409, MANAGERS, post=True), {}, form=True),
    Case("GET", "/destructions/{event_id:uuid}/manifest.csv", page(200)),
    Case("GET", "/destructions/{event_id:uuid}/transfer", page(422, DEPOT_WORK)),
    Case("GET", "/destructions/{event_id:uuid}/certificate.pdf", page(404)),
    Case("GET", "/certificates/{code:str}", NOT_YET),
    # reports
    Case("GET", "/api/reports/figures?period=2026-H1", answers(200)),
    Case("GET", "/reports?period=2026", page(200)),
    Case("GET", "/api/reports/kpis", answers(200)),
    Case("GET", "/api/reports/records?period=2026&jurisdiction=RS&measure=destroyed", answers(200)),
    Case("GET", "/reports/records?period=2026&jurisdiction=RS&measure=declared", page(200)),
    Case("GET", "/reports/{key:str}", page(200), ids={"key": "2026-H1"}),
    Case("GET", "/reports/{key:str}/pdf", page(200), ids={"key": "2026-H1"}),
    Case("GET", "/reports/{key:str}/csv", page(200), ids={"key": "2026"}),
    Case("GET", "/reports/{key:str}/xlsx", page(200), ids={"key": "2026-H2"}),
    Case("GET", "/reports/{key:str}/csv/{table:str}", page(200), ids={"key": "2026", "table": "surplus"}),
    Case("GET", "/api/reports/targets", answers(200)),
    Case(
        "POST",
        "/api/reports/targets",
        answers(201, ADMIN),
        {"jurisdiction": "RS", "kpi": "6.1", "year": 2026, "reason": "decision", "amount": "10"},
    ),
    Case("GET", "/reports/targets", page(200)),
    Case(
        "POST",
        "/reports/targets",
        page(302, ADMIN, post=True),
        {"jurisdiction": "RS", "kpi": "6.1", "year": "2026", "reason": "decision", "amount": "10"},
        form=True,
    ),
    Case("GET", "/stockchecks", page(200)),
    Case("POST", "/stockchecks", page(409, DEPOT_WORK, post=True), {"depot_id": "{depot_id}"}, form=True),
    Case("GET", "/stockchecks/{check_id:uuid}", page(200)),
    Case("POST", "/stockchecks/{check_id:uuid}/counted", page(409, DEPOT_WORK, post=True), {}, form=True),
    Case("POST", "/stockchecks/{check_id:uuid}/close", page(409, MANAGERS, post=True), {}, form=True),
]

_PARAM = re.compile(r"{(\w+):\w+}")


def filled(body: Any, values: dict[str, str]) -> Any:
    """``body`` with ``{name}`` placeholders in its strings replaced by this run's ids and codes."""
    if isinstance(body, dict):
        return {key: filled(value, values) for key, value in body.items()}
    if isinstance(body, list):
        return [filled(value, values) for value in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return values[body[1:-1]]
    return body


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path template) of every Caliber route."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        for method in route.methods - {"OPTIONS"}:
            found.add((method, route.path if route.path == "/" else route.path.rstrip("/")))
    return found


def test_every_route_is_in_the_matrix(app: Litestar) -> None:
    covered = {(case.method, case.path.split("?")[0] if case.path == "/" else case.path.split("?")[0].rstrip("/")) for case in CASES}
    covered |= {("HEAD", path) for method, path in covered if method == "GET"}
    missing = app_routes(app) - covered
    assert not missing, f"routes without an authorisation expectation: {sorted(missing)}"


AT_THE_SITE = {"verify", "withdraw", "attest", "photos", "complete", "residue", "certify", "attestation"}


async def destruction_events(factory: Factory, destructions: DestructionService, depot: Depot, prefix: str) -> dict[str, str]:
    """A planned (empty), a prepared (one record) and an approved (two records) destruction, and a record to add."""
    approved_items = [(await factory.item(depot)).code for _ in range(4)]
    for action in (Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION):
        await factory.items.change_status_many(OPERATOR, "item", approved_items, StatusChange(action, "surplus"))
    plan = NewDestruction(depot.id, "Foundry", dt.date(2030, 6, 1), [Method.SMELTING], "Decision 1/30", dt.date(2030, 5, 1), "Ministry")
    planned, prepared, approved = [await destructions.plan(OPERATOR, plan) for _ in range(3)]
    await destructions.change_manifest(OPERATOR, prepared.id, ManifestChange(add=approved_items[1:2]))
    await destructions.change_manifest(OPERATOR, approved.id, ManifestChange(add=approved_items[2:]))
    await destructions.approve(OPERATOR, approved.id)
    return {
        f"{prefix}planned_event": str(planned.id),
        f"{prefix}prepared_event": str(prepared.id),
        f"{prefix}approved_event": str(approved.id),
        f"{prefix}destroy_item": approved_items[0],
        f"{prefix}verify_item": approved_items[2],
        f"{prefix}withdraw_item": approved_items[3],
    }


async def tracing_records(tracing: TracingService, factory: Factory, depot: Depot) -> dict[str, str]:
    """A weapon ready to be excepted, one queried in iARMS (a request may go out), a request sent, one from abroad;
    for the API and, apart, for the pages (``page_`` keys)."""
    found: dict[str, str] = {}
    for prefix in ("", "page_"):
        excepted, queried, sent = [(await factory.item(depot)).code for _ in range(3)]
        for code in (queried, sent):
            for step in ("domestic_check", "iarms_query"):
                await tracing.record_step(OPERATOR, code, StepIn(step))  # type: ignore[arg-type]
        request = await tracing.send_request(OPERATOR, sent, NewRequest(Recipient.INTERPOL, dt.date(2099, 1, 1), case_reference="KU 1/26"))
        incoming = await tracing.register_incoming(OPERATOR, NewIncoming(depot.id, "AT", "BK-0", dt.date(2099, 1, 1), IdentifiersIn("X0")))
        found |= {f"{prefix}excepted_item": excepted, f"{prefix}queried_item": queried}
        found |= {f"{prefix}request_id": str(request.id), f"{prefix}incoming_id": str(incoming.id)}
    return found


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _take_job(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()
    writer.close()


async def _printer_id(app: Litestar, depot: Depot, listener: asyncio.Server) -> str:
    """A printer registered for ``depot`` at ``listener``."""
    port = listener.sockets[0].getsockname()[1]
    new = NewPrinter(depot.id, f"Desk {depot.code}", "127.0.0.1", "Zebra ZD421", 203, "2x1", port)
    return str((await app.state["printing"].printers.register(OPERATOR, new)).id)


async def _first_entry(app: Litestar, subject: str) -> int:
    """The index of the first custody event about ``subject``."""
    async with app.state["ledger"].db.read() as session:
        return (await store.subject_indexes(session, subject, limit=1))[0]


@pytest.mark.parametrize("role", ROLES)
async def test_every_role_gets_the_expected_answer_on_every_route(
    role: str,
    app: Litestar,
    client: httpx.AsyncClient,
    factory: Factory,
    transfers: TransferService,
    stockchecks: StockCheckService,
    destructions: DestructionService,
) -> None:
    jobs: ImportJobs = app.state["imports"]
    depot, other = await factory.depot(), await factory.depot()
    location, other_location = await factory.location(depot, "L"), await factory.location(other, "L")
    admin = await factory.user(Role.ADMIN)
    target = await factory.user(Role.WITNESS)
    admin_token = await factory.token(admin)
    admin_token_id = (await client.get("/api/tokens", headers={"authorization": f"Bearer {admin_token}"})).json()[0]["id"]
    headers: dict[str, str] = {}
    counted_depot = await factory.depot()
    if role != ANON:
        me = admin if role == Role.ADMIN.value else await factory.user(Role(role), depots=[depot, counted_depot])
        headers["authorization"] = f"Bearer {await factory.token(me)}"
    records: dict[str, dict[str, str]] = {}
    for scope, where in (("depot", depot), ("other", other)):
        await factory.item(where, serial="DUP-1")
        item, page_item = [await factory.item(where, serial="DUP-1") for _ in range(2)]  # possible duplicates, for the review routes
        lot, page_lot = await factory.lot(where), await factory.lot(where)
        photo = await factory.items.add_photo(OPERATOR, item.code, PNG, "image/png")
        records[scope] = {"item_code": item.code, "lot_code": lot.code, "photo_sha": photo}
        records[scope] |= {"page_item_code": page_item.code, "page_lot_code": page_lot.code, "depot_code": where.code}
        for prefix, n in (("", 1), ("page_", 2)):
            row = f"I{n}{scope},Zastava,M70,7.62,rifle,found\n".encode()
            upload = await jobs.receive(OPERATOR, where.code, "m.csv", _chunks(CSV + row))
            records[scope][f"{prefix}import_sha"] = upload.sha256
            records[scope][f"{prefix}transfer_item"] = (await factory.item(where)).code
            source = other if where is depot else depot
            incoming = await transfers.dispatch(OPERATOR, NewTransfer(source.id, where.id, [(await factory.item(source)).code]))
            records[scope][f"{prefix}transfer"] = str(incoming.transfer.id)
        records[scope]["other_depot_id"] = str(other.id if where is depot else depot.id)
    for scope, where in (("depot", depot), ("other", other)):
        for prefix in ("", "page_"):
            records[scope] |= await destruction_events(factory, destructions, where, prefix)
        records[scope] |= await tracing_records(app.state["tracing"], factory, where)
    zebra = await asyncio.start_server(_take_job, "127.0.0.1", 0)  # the printers on the network: jobs go nowhere else
    printer_ids = {scope: await _printer_id(app, where, zebra) for scope, where in (("depot", depot), ("other", other))}
    for scope, mine in printer_ids.items():
        records[scope] |= {"printer_id": mine, "other_printer_id": printer_ids["other" if scope == "depot" else "depot"]}
    counting = await stockchecks.open(OPERATOR, NewStockCheck(depot.id))
    closing = await stockchecks.open(OPERATOR, NewStockCheck(counted_depot.id))
    await stockchecks.finish_counting(OPERATOR, closing.check.id)
    for scope in records:
        records[scope] |= {"counting_check": str(counting.check.id), "closing_check": str(closing.check.id)}
    ids = {
        "depot": {"depot_id": str(depot.id), "location_id": str(location.id), "location_code": location.code, **records["depot"]},
        "other": {
            "depot_id": str(other.id),
            "location_id": str(other_location.id),
            "location_code": other_location.code,
            **records["other"],
        },
    }
    item_entry = {scope: str(await _first_entry(app, values["item_code"])) for scope, values in ids.items()}
    wrong = []
    for case in CASES:
        values = {
            **ids[case.scope],
            "user_id": str(target.user.id),
            "token_id": admin_token_id,
            "file_path": "caliber.css",
            "index": item_entry[case.scope],
            "subject": ids[case.scope]["item_code"],
        }
        prefix = "" if case.path.startswith(("/api/", "/s/")) else "page_"
        values["code"] = values[prefix + ("lot_code" if "/lots/" in case.path else "item_code")]
        values["sha256"] = values[prefix + "import_sha"] if "imports/" in case.path else values["photo_sha"]
        values["transfer_id"] = values[prefix + "transfer"]
        values["filename"] = values["item_code"] + ".png"
        values["key"] = "a4-3x7-63.5x38.1"
        values["check_id"] = values["closing_check"] if case.path.endswith("/close") else values["counting_check"]
        step = case.path.split("?")[0].rsplit("/", 1)[-1]
        event = {"manifest": "planned", "approve": "prepared"}.get(step, "approved" if step in AT_THE_SITE else "planned")
        values["event_id"] = values[f"{prefix}{event}_event"]
        values |= case.ids
        path = _PARAM.sub(lambda m, values=values: values[m.group(1)], case.path).format(**values)
        body = filled(case.body, values)
        if isinstance(body, dict) and "username" in body:
            body["username"] = f"{body['username']}{role.replace('_', '')}"
        if isinstance(body, dict) and "code" in body:
            body["code"] = f"{body['code']}-{ROLES.index(role)}"
        kwargs: dict[str, Any] = {"data": body} if case.form else {"json": body}
        if case.raw is not None:
            kwargs = {"content": case.raw[1], "headers": {**headers, "content-type": case.raw[0]}}
        elif case.files is not None:
            kwargs = {"files": case.files, "data": body or {}, "headers": headers}
        else:
            kwargs["headers"] = headers
        response = await client.request(case.method, path, **kwargs)
        if response.status_code != case.expected[role]:
            wrong.append(f"{case.method} {path} ({case.scope}): expected {case.expected[role]}, got {response.status_code}")
    await jobs.wait()  # imports started by the cases end before the database is emptied
    zebra.close()
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


LEDGER_READS = {
    "/api/ledger/entries": 200,
    "/api/ledger/entries/{index}": 200,
    "/api/ledger/subjects/{code}/timeline": 404,
    "/ledger/timeline?subject={code}": 404,
    "/api/ledger/subjects/depot:{depot}/timeline": 404,
    "/ledger/timeline?subject=depot:{depot}": 404,
    "/ledger/": 200,
    "/ledger/entries/{index}": 200,
    "/ledger/entries/{index}/proof": 200,
    "/ledger/bundle": 200,
}
"""Every read of ledger content, and what it answers about a record out of the reader's scope."""


@pytest.mark.parametrize("reader", [Role.DEPOT_CLERK, Role.INSPECTOR])
async def test_ledger_reads_give_nothing_of_a_record_out_of_scope(
    reader: Role, app: Litestar, client: httpx.AsyncClient, factory: Factory
) -> None:
    """A clerk of one depot, or an inspector of one jurisdiction, reads nothing of another's item from the ledger."""
    home, away = await factory.depot(jurisdiction="AL"), await factory.depot(jurisdiction="RS")
    item = await factory.item(away, serial="OUTSIDE-1", case_reference="CASE 9/26")
    user = await (factory.user(reader, [home]) if reader.is_depot_staff else factory.user(reader, jurisdictions=["AL"]))
    headers = {"authorization": f"Bearer {await factory.token(user)}"}
    index = await _first_entry(app, item.code)
    for path, status in LEDGER_READS.items():
        response = await client.get(path.format(index=index, code=item.code, depot=away.id), headers=headers)
        assert response.status_code == status, path
        assert "OUTSIDE-1" not in response.text, path
        assert "CASE 9/26" not in response.text, path
        if status == 200:
            assert item.code not in response.text, path
