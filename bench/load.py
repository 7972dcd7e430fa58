"""Caliber under load: scan lookups, item pages, moves and intake by concurrent clients, against the hello-world
endpoint (``/health``) of the same server in the same run; then the ledger verifies, replays to the same tables, and
holds exactly one event per successful write.

Run: ``.venv/bin/python -m bench.load [--seconds 20] [--connections 50] [--pause 200] [--scale 0.25] [--postgres URL]
[--workers N]``
(needs Debian's ``wrk``). ``caliber serve`` runs on loopback over a fresh demo data dir (``--scale`` sizes the demo);
with ``--postgres`` the data lives in a scratch database on that server and two server processes share it
(``--workers``), to show the ledger stays one chain across processes.

Four runs of ``wrk`` with the same connections: ``/health`` (the reference), scan lookups alone
(``GET /api/scan``, a depot clerk's token), and the mixed traffic of a depot day: 80% scan lookups, 10% item
pages, 5% moves, 5% intake, twice. First at a depot's pace: each client pauses between an answer and its next
request, for 200 ms on average (``--pause``; drawn at random, as people's pauses are), which is five requests a
second from each of the 50 scanners, faster than anyone scans and checks a label. Then flat out: no pause at all,
which measures the server's capacity; there every request waits for the ones ahead of it, so latency is about
the number of clients divided by the rate (Little's law), whatever the server does. Goals: scan lookups at least
a quarter of the hello-world rate, p99 of the mix under 50 ms, no error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.figures import figure
from bench.ledger_store import pg_admin
from caliber.items.lifecycle import COUNTABLE

GOAL_P99_MS = 50.0
GOAL_SCAN_SHARE = 0.25
TIMEOUT_S = 10
"""How long a client waits for an answer before it counts as an error (wrk's own default, 2 s, is shorter than any
phone's browser or scanner app waits)."""
MIX = """
local codes = {%(codes)s}
local locations = {%(locations)s}
local token = "%(token)s"
local depot = "%(depot)s"
local counter = 0
local id = 0

function setup(thread)
  id = id + 1
  thread:set("id", id)
end

function request()
  counter = counter + 1
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  local r = math.random()
  local code = codes[math.random(#codes)]
  if r < 0.80 then
    return wrk.format("GET", "/api/scan?code=" .. code, headers)
  elseif r < 0.90 then
    return wrk.format("GET", "/api/items/" .. code, headers)
  elseif r < 0.95 then
    local body = '{"codes":["' .. code .. '"],"location_id":"' .. locations[math.random(#locations)] .. '"}'
    return wrk.format("POST", "/api/moves", headers, body)
  else
    local serial = "LOAD-" .. id .. "-" .. counter .. "-" .. math.random(1000000)
    local body = '{"depot_id":"' .. depot .. '","manufacturer":"Zastava","model":"M70","calibre":"7.62x39mm",'
      .. '"serial":"' .. serial .. '","un_type":"assault_rifle","intake_source":"surplus"}'
    return wrk.format("POST", "/api/items", headers, body)
  end
end
"""
PACED = """
function delay()
  return math.floor(-math.log(1 - math.random()) * %(pause)d)
end
"""
SCAN = """
local codes = {%(codes)s}
local token = "%(token)s"
function request()
  return wrk.format("GET", "/api/scan?code=" .. codes[math.random(#codes)], {["Authorization"] = "Bearer " .. token})
end
"""


def api_token(url: str, username: str, password: str) -> str:
    """An API token for ``username``, made through the login form and the token API."""
    with httpx.Client(base_url=url) as client:
        client.get("/login")
        csrf = client.cookies.get("caliber_csrf") or ""
        answer = client.post("/login", data={"username": username, "password": password, "_csrf_token": csrf})
        if answer.status_code != 302:
            raise RuntimeError(f"login of {username} failed: {answer.status_code}")
        bound = client.cookies.get("caliber_csrf") or ""  # the login bound a new token to its session
        made = client.post("/api/tokens", json={"name": "load"}, headers={"x-csrftoken": bound})
        made.raise_for_status()
        return str(made.json()["token"])


def caliber(env: dict[str, str], *args: str) -> str:
    """Run a ``caliber`` command; its output."""
    done = subprocess.run([sys.executable, "-m", "caliber", *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"caliber {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, Any]:
    """One wrk run: requests/s, latency percentiles in ms, non-2xx answers and socket errors."""
    command = ["wrk", "--latency", "--timeout", f"{TIMEOUT_S}s", "-t", "2", "-c", str(connections), "-d", f"{seconds}s"]
    command += [*(["-s", str(script)] if script else []), url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    if done.stderr.strip():  # a script error: wrk would go on with plain GETs of the URL
        raise RuntimeError(f"wrk: {done.stderr.strip().splitlines()[0]}")
    out = done.stdout
    found: dict[str, Any] = {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for share in ("50", "99"):
        value = re.search(rf"\s{share}%\s+([\d.]+)(us|ms|s)", out)
        found[f"p{share}"] = float(value.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[value.group(2)] if value else float("nan")
    found["non_2xx"] = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    found["socket_errors"] = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return found


def served(log: Path, since: int) -> tuple[Counter[tuple[str, str, int]], int]:
    """(method, path kind, status) of every request the server logged after byte ``since`` of its log, and the custody
    events those requests say they appended."""
    counts: Counter[tuple[str, str, int]] = Counter()
    events = 0
    with log.open() as handle:
        handle.seek(since)
        for line in handle:
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if record.get("logger") == "caliber.access":
                kind = "/".join(record["path"].split("/")[:3])
                counts[(record["method"], kind, int(record["status"]))] += 1
                events += int(record.get("events", 0))
    return counts, events


def wait_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until ``/ready`` answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("caliber serve exited")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("caliber serve did not become ready")


def run(args: argparse.Namespace, folder: Path, database_url: str, label: str) -> None:
    """The whole drill on one database."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CALIBER_DATA_DIR": str(folder / "data"), "CALIBER_BASE_URL": url}
    if database_url:
        env["CALIBER_DATABASE_URL"] = database_url
    if database_url:
        caliber(env, "db", "upgrade")
    caliber(env, "demo", "--no-serve", "--scale", str(args.scale))
    logins = {row[0]: row[2] for row in (line.split("\t") for line in (folder / "data" / "demo-logins.txt").read_text().splitlines())}
    log = folder / "serve.log"
    workers = args.workers or (2 if database_url else 1)
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "caliber", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_up(url, server)
        token = api_token(url, "clerk", logins["clerk"])
        headers = {"Authorization": f"Bearer {token}"}
        depot = next(d for d in httpx.get(f"{url}/api/depots", headers=headers).json() if d["code"] == "RS-KRG-ARM")
        locations = [loc["id"] for loc in httpx.get(f"{url}/api/depots/{depot['id']}/locations", headers=headers).json()]
        codes = _movable_codes(url, headers, depot["id"])
        before = _entries(caliber(env, "ledger", "verify"))
        from_here = log.stat().st_size
        lua = {"codes": ",".join(f'"{c}"' for c in codes), "locations": ",".join(f'"{i}"' for i in locations)}
        lua |= {"token": token, "depot": depot["id"]}
        scan_script, mix_script, paced_script = folder / "scan.lua", folder / "mix.lua", folder / "paced.lua"
        scan_script.write_text(SCAN % lua)
        mix_script.write_text(MIX % lua)
        paced_script.write_text(MIX % lua + PACED % {"pause": args.pause})
        wrk(f"{url}/health", 2, args.connections)  # warm-up
        hello = wrk(f"{url}/health", args.seconds, args.connections)
        scans = wrk(url, args.seconds, args.connections, scan_script)
        since = log.stat().st_size
        paced = wrk(url, args.seconds, args.connections, paced_script)
        mixed = wrk(url, args.seconds, args.connections, mix_script)
    finally:
        server.terminate()  # it finishes the requests in flight, and logs them
        server.wait(timeout=30)
    statuses, _ = served(log, since)
    _, writes = served(log, from_here)
    after = _entries(caliber(env, "ledger", "verify"))
    caliber(env, "ledger", "check")
    failures = {key: n for key, n in statuses.items() if key[2] >= 400}
    counts = {"workers": workers, "writes": writes, "events": after - before, "codes": len(codes)}
    _report(label, args, {"hello": hello, "scans": scans, "paced": paced, "mixed": mixed}, failures, counts)


def _report(
    label: str, args: argparse.Namespace, runs: dict[str, dict[str, Any]], failures: dict[Any, int], counts: dict[str, int]
) -> None:
    hello, scans, paced, mixed = runs["hello"], runs["scans"], runs["paced"], runs["mixed"]
    workers, writes, events, codes = counts["workers"], counts["writes"], counts["events"], counts["codes"]
    share = scans["rate"] / hello["rate"]
    errors = sum(run["non_2xx"] + run["socket_errors"] for run in (scans, paced, mixed))
    print(f"{label}: caliber serve, {workers} process(es), {args.connections} connections, {args.seconds} s a run, {codes:,} labels")

    def line(name: str, run: dict[str, Any], tail: str) -> None:
        print(f"  {name:<32}{run['rate']:>9,.0f} req/s   p50 {run['p50']:7.2f} ms   p99 {run['p99']:7.2f} ms   {tail}")

    line("hello-world /health", hello, "(reference)")
    line("scan lookups", scans, f"ratio {share:.3f}   goal >= {GOAL_SCAN_SHARE}")
    line(f"mix 80/10/5/5, {args.pause} ms pauses", paced, f"goal p99 < {GOAL_P99_MS:.0f} ms")
    little = 1000 * args.connections / mixed["rate"]
    line("mix 80/10/5/5, flat out", mixed, f"capacity: latency ~ {args.connections} clients / rate = {little:.0f} ms")
    print(f"  errors: {errors} (non-2xx and socket errors over the loaded runs)   goal 0")
    for (method, kind, status), n in sorted(failures.items()):
        print(f"    {n:>6} x {status} on {method} {kind}")
    print(f"  events the requests logged {writes:,}, ledger events appended {events:,}   ledger verify and check passed")
    where = f"{label}, {workers} process(es)"
    figure("load", f"hello-world /health, {where}", hello["rate"], "req/s")
    reference = f"/health {hello['rate']:,.0f} req/s"
    figure("load", f"scan lookups, {where}", scans["rate"], "req/s", reference=reference, ratio=share, goal=">= 0.25", met=share >= 0.25)
    pace = f"{args.connections} clients, {args.pause} ms pauses"
    met = paced["p99"] < GOAL_P99_MS
    figure("load", f"mixed traffic p99, {pace}, {where}", paced["p99"], "ms", ratio=paced["p99"] / GOAL_P99_MS, goal="< 50 ms", met=met)
    figure("load", f"mixed traffic flat out, {where}", mixed["rate"], "req/s", reference=f"p99 {mixed['p99']:,.0f} ms")
    figure("load", f"errors under load, {where}", errors, "", goal="0", met=errors == 0)
    per = events / writes if writes else 0
    figure("load", f"ledger events per event the requests logged, {where}", per, "", goal="1", met=events == writes)


def _movable_codes(url: str, headers: dict[str, str], depot_id: str) -> list[str]:
    on_shelves = {status.value for status in COUNTABLE}  # what a move accepts
    codes: list[str] = []
    after = None
    while len(codes) < 2000:
        query = {"depot_id": depot_id, "limit": "200", **({"after": after} if after else {})}
        page = httpx.get(f"{url}/api/items", params=query, headers=headers).json()
        codes += [item["code"] for item in page["items"] if item["status"] in on_shelves]
        after = page.get("next_after")
        if not after:
            break
    if not codes:
        raise RuntimeError("the demo depot has no records to scan")
    return codes


def _entries(verified: str) -> int:
    return int(re.search(r"ledger OK: (\d+) entries", verified).group(1))  # type: ignore[union-attr]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    """SQLite with one process, then PostgreSQL with two when a server is given."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--pause", type=int, default=200, help="mean pause of each client between requests at a depot's pace, ms")
    parser.add_argument("--scale", type=float, default=0.25, help="the demo's size (1.0: about 4,000 weapons)")
    parser.add_argument("--workers", type=int, default=0, help="server processes (default: 1 on SQLite, 2 on PostgreSQL)")
    parser.add_argument("--postgres", default=os.environ.get("CALIBER_TEST_POSTGRES_URL", ""))
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.load needs wrk: apt-get install wrk")
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            run(args, Path(folder), "", "SQLite")
    if args.postgres and args.only != "sqlite":
        name = f"caliber_load_{secrets.token_hex(4)}"
        asyncio.run(pg_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        try:
            with tempfile.TemporaryDirectory() as folder:
                run(args, Path(folder), args.postgres.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL")
        finally:
            asyncio.run(pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
