"""``caliber serve`` over the demo's data (one user per role), with a record of every kind the pages show.

The demo gives depots, locations, weapons, lots, a transfer in transit, an open stock check, an approved
destruction and certified ones; on top of it, through the API as the admin, a printer, an import, and a planned
destruction at a depot site with two records on its manifest (one found and not yet traced: its approval waits).
Every record is at the depot the demo's staff work at (RS-KRG-ARM), so each role may open it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from caliber.accounts.guards import CSRF_COOKIE
from tests.live import LiveServer, new_server, serving

STAFF_DEPOT = "RS-KRG-ARM"
"""The depot the demo's clerk and manager are assigned to."""
SITE_DEPOT = "RS-BEG-COL"
ROLE_USERS = {
    "admin": "admin",
    "depot_manager": "manager",
    "depot_clerk": "clerk",
    "witness": "witness",
    "inspector": "inspector",
    "ministry_official": "ministry",
}
"""The demo user who logs in for each role."""
IMPORT_CSV = b"serial,manufacturer,model,calibre,un_type,intake_source\nIMP-1,Zastava,M70,7.62x39mm,assault_rifle,found\n"


@dataclass(frozen=True)
class DemoSite:
    """The running demo, each demo user's password, and the ids and codes of its records."""

    server: LiveServer
    passwords: dict[str, str]
    records: dict[str, str]

    def password(self, role: str) -> str:
        return self.passwords[ROLE_USERS[role]]


def logged_in(server: LiveServer, username: str, password: str) -> httpx.Client:
    """An HTTP client logged in through the login form, sending its CSRF token on every request."""
    client = httpx.Client(base_url=server.url, timeout=60)
    client.get("/login")
    token = client.cookies.get(CSRF_COOKIE) or ""
    answer = client.post("/login", data={"username": username, "password": password, "_csrf_token": token})
    assert answer.status_code == 302, answer.text
    client.headers["x-csrftoken"] = client.cookies.get(CSRF_COOKIE) or ""
    return client


def _ok(answer: httpx.Response) -> Any:
    assert answer.status_code < 400, f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text}"
    return answer.json() if answer.headers.get("content-type", "").startswith("application/json") else answer


def _records(admin: httpx.Client, clerk: httpx.Client) -> dict[str, str]:
    depots = {d["code"]: d["id"] for d in _ok(admin.get("/api/depots"))}
    depot = depots[STAFF_DEPOT]
    users = {u["username"]: u["id"] for u in _ok(admin.get("/api/users"))}
    lots = [lot for lot in _ok(admin.get("/api/lots"))["lots"] if lot["depot_id"] == depot]
    events = _ok(clerk.get("/api/destructions"))  # the staff depot's
    checks = [c for c in _ok(admin.get("/api/stockchecks")) if c["depot"] == STAFF_DEPOT]
    transfers = [t for t in _ok(admin.get("/api/transfers")) if STAFF_DEPOT in (t["from_depot"], t["to_depot"])]

    codes = []
    for serial, source in (("LAYOUT-1", "voluntarily_surrendered"), ("LAYOUT-2", "found")):
        body = {
            "depot_id": depot,
            "manufacturer": "Zastava Oružje Kragujevac",
            "model": "M70AB2",
            "calibre": "7.62x39mm",
            "serial": serial,
            "un_type": "assault_rifle",
            "intake_source": source,
        }
        code = _ok(admin.post("/api/items", json=body))["code"]
        for action in ("declare_surplus", "approve_destruction"):
            _ok(admin.post(f"/api/items/{code}/status", json={"action": action, "reason": "surplus to needs"}))
        codes.append(code)
    today = dt.date.today()
    plan = {
        "depot_id": depot,
        "site_depot_id": depots[SITE_DEPOT],
        "site_name": "Belgrade Police Collection Point",
        "planned_date": (today + dt.timedelta(days=30)).isoformat(),
        "methods": ["smelting", "cutting_torch"],
        "authority_number": "Odluka 02-19/2026",
        "authority_date": today.isoformat(),
        "organiser": "Ministry of Defence, Republic of Serbia",
    }
    planned = _ok(admin.post("/api/destructions", json=plan))["id"]
    _ok(admin.post(f"/api/destructions/{planned}/manifest", json={"add": codes}))
    printer = {"depot_id": depot, "name": "Intake desk printer", "host": "127.0.0.1", "model": "Zebra ZD421", "dpi": 203, "size": "2x1"}
    printer_id = _ok(admin.post("/api/printers", json=printer))["id"]
    upload = admin.post("/imports/", data={"depot": STAFF_DEPOT}, files={"file": ("weapons.csv", IMPORT_CSV, "text/csv")})
    assert upload.status_code in {302, 303}, upload.text
    certified = next(e for e in events if e["status"] == "certified")
    queue = _ok(clerk.get("/api/tracing/queue"))  # the demo's traces at the staff depot
    (late,) = _ok(clerk.get("/api/items", params={"q": "FND-2613"}))["items"]  # its request answered late
    answered = _ok(clerk.get(f"/api/tracing/weapons/{late['code']}"))["requests"][0]["id"]
    return {
        "depot_id": depot,
        "witness_id": users["witness"],
        "item_code": codes[0],
        "lot_code": lots[0]["code"],
        "transfer_id": transfers[0]["id"],
        "check_id": checks[0]["id"],
        "planned_event": planned,
        "approved_event": next(e["id"] for e in events if e["status"] == "approved"),
        "certified_event": certified["id"],
        "certificate_code": certified["code"],
        "printer_id": printer_id,
        "import_sha": upload.headers["location"].rstrip("/").rsplit("/", 1)[-1],
        "trace_code": queue["outgoing"][0]["code"],
        "request_id": queue["outgoing"][0]["id"],
        "incoming_id": queue["incoming"][0]["id"],
        "answered_request": answered,
        "year": str(today.year),
        "half": f"{today.year}-H{1 if today.month <= 6 else 2}",
        "last_entry": str(int(_ok(admin.get("/api/ledger/checkpoint")).text.splitlines()[1]) - 1),
    }


@contextmanager
def demo_site(folder: Path) -> Iterator[DemoSite]:
    """The demo's data (at a small scale) served on loopback, with the records listed in ``DemoSite.records``."""
    server = new_server(folder)
    server.data_dir.mkdir(parents=True)
    server.caliber("demo", "--no-serve", "--scale", "0.02")
    rows = (server.data_dir / "demo-logins.txt").read_text().splitlines()
    passwords = {row.split("\t")[0]: row.split("\t")[2] for row in rows if row.strip()}
    with serving(server):
        admin, clerk = (logged_in(server, name, passwords[name]) for name in ("admin", "clerk"))
        try:
            records = _records(admin, clerk)
        finally:
            admin.close()
            clerk.close()
        yield DemoSite(server, passwords, records)
