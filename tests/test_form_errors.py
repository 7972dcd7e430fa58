"""Every HTML form, sent with a wrong value in every field, comes back refused in plain words with what was typed.

The demo's site (a record of every kind, one user per role) is walked page by page as each role; each POST form
found is sent with its text too long or not of its kind and its choices made, and the page that answers must be a
4xx, say what to fix without a developer's wording, and keep every value typed. Every POST page route must have
been reached so, or be named below with why not.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from litestar import Litestar

from caliber import demo
from caliber.accounts.models import Role
from caliber.db import Database
from caliber.destruction.models import Method, Stage
from caliber.destruction.schemas import AttestationInput, Verification
from caliber.destruction.service import DestructionService
from caliber.domains import registry
from caliber.labels.printers import PrinterRegister
from caliber.labels.schemas import NewPrinter
from caliber.ledger.store import Ledger
from tests.conftest import TEST_ORIGIN
from tests.destruction.helpers import approved, cast, photo, right_after_attesting
from tests.factories import OPERATOR, Factory, login

DEVELOPER_WORDING = re.compile(r"Expected|\$\.|got `|Object missing|msgspec|Traceback")
NOT_WALKED = {
    "/logout": "has no field",
    "/login": "refused as a login, not as a form (tests/accounts)",
    "/account/tokens/{token_id:uuid}/revoke": "has no field",
    "/destructions/{event_id:uuid}/approve": "has no field",
    "/destructions/{event_id:uuid}/certify": "has no field",
    "/stockchecks/{check_id:uuid}/close": "has no field",
    "/imports/{sha256:str}/run": "has no field: the upload's checked file is run as it is",
    "/stockchecks/{check_id:uuid}/counted": "has no field",
    "/tracing/iarms-hits": "its one field is the file: bad files are refused, every cell named, in tests/tracing/test_hits_routes.py",
    **dict.fromkeys(
        (
            "/items/{code:str}/photos",
            "/destructions/{event_id:uuid}/photos",
            "/destructions/{event_id:uuid}/attest",
            "/destructions/{event_id:uuid}/complete",
            "/destructions/{event_id:uuid}/residue",
            "/items/{code:str}/duplicate-review",
            "/printers/{printer_id:uuid}/edit",
        ),
        "no record of the demo's is in the state that shows it: sent below, on records made for it",
    ),
}
"""POST page routes this walk does not send a form to, each with why."""
ANSWERED_IN_PAGE = ("/scan/",)
"""The scanner answers every scan (200) with its outcome in the list of recent scans, refusals included, its box
emptied for the next scan: only its wording is checked."""
ROLES = ("depot_manager", "admin", "witness", "depot_clerk")
WORD = "twelve"
"""What goes where a number, a date or a code is asked for."""


class Forms(HTMLParser):
    """The links of a page, and its POST forms with their controls (name, kind, options, maxlength)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, object]] = []
        self._select: dict[str, object] | None = None
        self._form: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form" and a.get("method", "get").lower() == "post":
            self._form = {"action": a.get("action", ""), "controls": []}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select") and a.get("name"):
            control = {"tag": tag, **a, "options": []}
            self._form["controls"].append(control)  # type: ignore[attr-defined]
            if tag == "select":
                self._select = control
        elif tag == "option" and self._select is not None and a.get("value"):
            self._select["options"].append(a["value"])  # type: ignore[attr-defined]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def route_of(path: str) -> str:
    """A page's path with its ids and label codes as ``*``, so one page of each kind is walked."""
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "*", path)
    return re.sub(r"/[0-9]{10}(?=/|$)|/[0-9a-f]{64}", "/*", path)


def bad_values(controls: list[dict[str, str]]) -> tuple[dict[str, object], list[str]]:
    """A wrong value for every typed field (too long, or a word where a number, date or code goes), a choice made in
    every list; and the texts that must come back."""
    form: dict[str, object] = {}
    typed: list[str] = []
    for control in controls:
        name, kind = control["name"], control.get("type", "text")
        if kind in ("hidden", "file", "submit") or name.startswith("_"):
            if kind == "hidden" and not name.startswith("_"):
                form.setdefault(name, control.get("value", ""))
            continue
        if control["tag"] == "select":
            options = control["options"]
            form[name] = options[-1] if options and len(controls) > 2 else WORD  # a list alone: a choice not offered
        elif kind in ("checkbox", "radio"):
            form.setdefault(name, control.get("value") or "on")
        else:
            numeric = control.get("inputmode") in ("numeric", "decimal") or kind in ("number", "date", "datetime-local")
            value = WORD if numeric else "Long " + "x" * int(control.get("maxlength") or 4000)
            form[name] = value
            typed.append(value)
    return form, typed


async def test_every_form_refuses_bad_values_in_plain_words_and_keeps_them(
    app: Litestar, db: Database, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    made = await demo.ensure_demo(Ledger(db, TEST_ORIGIN, registry()), tmp_path, scale=0.02)
    logins = {role: (username, password) for username, role, password in made}
    posted: set[str] = set()
    failures: list[str] = []
    for role in ROLES:
        client.cookies.clear()
        assert (await login(client, *logins[role])).status_code == 302
        seen: set[str] = set()
        queue = ["/"]
        while queue:
            path = queue.pop(0)
            if route_of(urlsplit(path).path) in seen or urlsplit(path).path.startswith(("/api", "/static", "/labels/", "/ledger/entries")):
                continue
            seen.add(route_of(urlsplit(path).path))
            answer = await client.get(path)
            if answer.status_code != 200 or not answer.headers.get("content-type", "").startswith("text/html"):
                continue
            page = Forms()
            page.feed(answer.text)
            queue += [link for link in page.links if route_of(urlsplit(link).path) not in seen]
            for found in page.forms:
                action = urljoin(path, str(found["action"]) or path)
                if route_of(action) in posted or any(route_of(action) == route_of(p) for p in ("/logout",)):
                    continue
                form, typed = bad_values(found["controls"])  # type: ignore[arg-type]
                if not typed and not any(c["tag"] == "select" for c in found["controls"]):  # type: ignore[attr-defined]
                    continue
                form["_csrf_token"] = client.cookies.get("caliber_csrf") or ""
                refused = await client.post(action, data=form)
                typed = [v for v in typed if not any(c.get("type") == "password" and form[c["name"]] == v for c in found["controls"])]  # type: ignore[attr-defined]
                failures += _failures(f"{role} {action}", refused, typed)
                posted.add(route_of(action))
    routes = {route.path for route in app.routes if "POST" in getattr(route, "methods", ()) and not route.path.startswith("/api")}
    walked = {r for r in routes if re.sub(r"\{[^}]+\}", "*", r).rstrip("/") in {p.rstrip("/") for p in posted}}
    assert not failures, "\n".join(failures)
    assert routes - walked - set(NOT_WALKED) == set(), f"not reached: {sorted(routes - walked - set(NOT_WALKED))}"


def _failures(where: str, refused: httpx.Response, typed: list[str]) -> list[str]:
    """What is wrong with the page that answered a form sent with bad values."""
    if not 400 <= refused.status_code < 500 and not where.endswith(ANSWERED_IN_PAGE):
        return [f"{where}: {refused.status_code}, not refused"]
    failures = []
    if found := DEVELOPER_WORDING.search(refused.text):
        start = max(found.start() - 80, 0)
        failures.append(f"{where}: developer wording {refused.text[start : found.end() + 80]!r}")
    if where.endswith(ANSWERED_IN_PAGE):
        return failures
    if 'role="alert"' not in refused.text:
        failures.append(f"{where}: no alert")
    failures += [f"{where}: {value[:20]!r} not kept" for value in typed if value not in refused.text]  # passwords never come back
    return failures


async def test_forms_of_records_in_every_state_refuse_bad_values_in_plain_words_and_keep_them(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService, ledger: Ledger
) -> None:
    """The forms the demo's site holds no record for (an event awaiting a witness, under way or done; a possible
    duplicate; a printer; a photo upload) are sent bad values as well, each on the page that shows it."""
    day = await cast(factory, items=2)
    awaiting = await approved(destructions, day, day.codes[:1])
    await destructions.verify(day.clerk, awaiting.id, Verification(day.codes[:1]))
    under_way = await approved(destructions, day, day.codes[1:])
    await destructions.verify(day.clerk, under_way.id, Verification(day.codes[1:]))
    digest = await destructions.current_sha256(day.manager, under_way.id, Stage.BEFORE)
    for witness in day.witnesses:
        await destructions.attest(witness, under_way.id, AttestationInput(Stage.BEFORE, digest))
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):  # the result is asked for once it can be recorded
        await destructions.add_photo(day.clerk, under_way.id, stage, photo(colour), "image/png")
    original = await factory.item(day.depot, serial="DUP-1", manufacturer="Zastava")
    duplicate = await factory.item(day.depot, serial="DUP-1", manufacturer="Zastava")
    printer = await PrinterRegister(ledger).register(
        OPERATOR, NewPrinter(day.depot.id, "Desk", "127.0.0.1", "Zebra ZD421", 203, "2x1", 9100)
    )
    manager = await factory.actor(Role.DEPOT_MANAGER, depots=[day.depot])
    admin = await factory.actor(Role.ADMIN)
    cases = [
        (day.witnesses[0], f"/destructions/{awaiting.id}", "/attest"),
        (day.witnesses[0], f"/destructions/{under_way.id}", "/complete"),
        (day.clerk, f"/destructions/{under_way.id}", "/photos"),
        (manager, f"/items/{duplicate.code}", "/duplicate-review"),
        (day.clerk, f"/items/{original.code}", "/photos"),
        (admin, f"/printers/{printer.id}/edit", "/edit"),
    ]
    failures: list[str] = []
    for actor, path, ending in cases:
        client.cookies.clear()
        assert (await login(client, actor.username)).status_code == 302
        page = Forms()
        page.feed((await client.get(path)).text)
        (found,) = [f for f in page.forms if str(f["action"]).endswith(ending)] or [None]
        assert found is not None, f"{path} shows no form posting to …{ending}"
        action = urljoin(path, str(found["action"]))
        form, typed = bad_values(found["controls"])  # type: ignore[arg-type]
        form["_csrf_token"] = client.cookies.get("caliber_csrf") or ""
        files = {c["name"]: ("notes.txt", b"not a photograph", "text/plain") for c in found["controls"] if c.get("type") == "file"}  # type: ignore[attr-defined]
        refused = await client.post(action, data=form, files=files or None)
        failures += _failures(f"{actor.role.value} {action}", refused, typed)
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):
        await destructions.add_photo(day.clerk, under_way.id, stage, photo(colour), "image/png")
    await destructions.complete(day.witnesses[0], under_way.id, right_after_attesting([Method.SMELTING]))
    client.cookies.clear()
    assert (await login(client, day.witnesses[1].username)).status_code == 302
    page = Forms()
    page.feed((await client.get(f"/destructions/{under_way.id}")).text)
    (residue,) = [f for f in page.forms if str(f["action"]).endswith("/residue")]
    form, typed = bad_values(residue["controls"])  # type: ignore[arg-type]
    form["_csrf_token"] = client.cookies.get("caliber_csrf") or ""
    failures += _failures("witness residue", await client.post(f"/destructions/{under_way.id}/residue", data=form), typed)
    assert not failures, "\n".join(failures)
