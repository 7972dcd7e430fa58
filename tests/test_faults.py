"""Fault drills against ``caliber serve`` as it runs for real: killed with SIGKILL in the middle of work, its
PostgreSQL restarted under it, its disk full. After each: nothing half-written (``caliber ledger check`` replays the
ledger to the same tables), the ledger verifies, every answered write is kept, and work goes on.

Slow (each starts servers and fills a database); run by ``pytest`` like everything else.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import IN_CI, POSTGRES_URL, admin_sql, run_sync
from tests.live import LiveServer, new_server, started

pytestmark = pytest.mark.slow

DEPOT = "RS-KRG-ARM"
ON_SHELVES = {"in_storage", "approved_for_destruction", "awaiting_decision", "on_hold"}


def _backends() -> list[Any]:
    reason = "CALIBER_TEST_POSTGRES_URL is not set: PostgreSQL drills skipped"
    return ["sqlite", pytest.param("postgresql", marks=() if POSTGRES_URL or IN_CI else pytest.mark.skip(reason=reason))]


@pytest.fixture(params=_backends())
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Demo]:
    """A small demo (depots, people, weapons) on each backend; on PostgreSQL in a scratch database of its own."""
    if request.param != "postgresql":
        yield _demo(tmp_path, "")
        return
    if not POSTGRES_URL:
        pytest.fail("CI=true but CALIBER_TEST_POSTGRES_URL is not set: the PostgreSQL drills cannot run")
    with _scratch_database(POSTGRES_URL) as database_url:
        yield _demo(tmp_path, database_url)


@contextlib.contextmanager
def _scratch_database(server_url: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server at ``server_url``, dropped afterwards."""
    name = f"caliber_fault_{secrets.token_hex(5)}"
    run_sync(admin_sql(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run_sync(admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _demo(tmp_path: Path, database_url: str) -> Demo:
    server = new_server(tmp_path, database_url)
    if database_url:
        server.caliber("db", "upgrade")
    server.caliber("demo", "--no-serve", "--scale", "0.05")
    logins = (server.data_dir / "demo-logins.txt").read_text().splitlines()
    return Demo(server, {row[0]: row[2] for row in (line.split("\t") for line in logins)})


@dataclass
class Demo:
    """A demo data dir and the passwords of its people."""

    server: LiveServer
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        """An API token of ``username`` (made once, through the login form and the token API)."""
        if username not in self.tokens:
            with httpx.Client(base_url=self.server.url) as client:
                client.get("/login")
                csrf = client.cookies.get("caliber_csrf") or ""
                form = {"username": username, "password": self.passwords[username], "_csrf_token": csrf}
                assert client.post("/login", data=form).status_code == 302
                bound = client.cookies.get("caliber_csrf") or ""  # the login bound a new token to its session
                made = client.post("/api/tokens", json={"name": "drill"}, headers={"x-csrftoken": bound})
                made.raise_for_status()
                self.tokens[username] = str(made.json()["token"])
        return self.tokens[username]

    def client(self, username: str = "clerk") -> httpx.Client:
        """An API client acting as ``username``."""
        return httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {self.token(username)}"}, timeout=30)

    def consistent(self) -> int:
        """``caliber ledger verify`` and ``caliber ledger check`` pass (the server is down); the ledger's size."""
        verified = self.server.caliber("ledger", "verify", check=False)
        assert verified.returncode == 0, verified.stderr
        checked = self.server.caliber("ledger", "check", check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        return int(verified.stdout.split("ledger OK: ", 1)[1].split()[0])


def _depot(client: httpx.Client) -> dict[str, Any]:
    return next(d for d in client.get("/api/depots").json() if d["code"] == DEPOT)


def _shelved_codes(client: httpx.Client, depot_id: str, wanted: int) -> list[str]:
    codes: list[str] = []
    after = None
    while len(codes) < wanted:
        page = client.get("/api/items", params={"depot_id": depot_id, "limit": 200, **({"after": after} if after else {})}).json()
        codes += [item["code"] for item in page["items"] if item["status"] in ON_SHELVES]
        if not (after := page.get("next_after")):
            break
    return codes[:wanted]


@dataclass
class _Mover:
    """One client moving its own records from shelf to shelf until told to stop."""

    demo: Demo
    codes: list[str]
    shelves: list[str]
    acknowledged: dict[str, str] = field(default_factory=dict)
    unanswered: dict[str, set[str]] = field(default_factory=dict)
    moves: int = 0

    def run(self, stop: threading.Event) -> None:
        rng = random.Random(self.codes[0])
        with self.demo.client() as client:
            while not stop.is_set():
                code, shelf = rng.choice(self.codes), rng.choice(self.shelves)
                try:
                    answer = client.post("/api/moves", json={"codes": [code], "location_id": shelf})
                except httpx.HTTPError:  # the server died with this move in flight: it may or may not have landed
                    self.unanswered.setdefault(code, set()).add(shelf)
                    return
                assert answer.status_code == 200, answer.text
                self.acknowledged[code] = shelf
                self.moves += 1


def test_killed_during_concurrent_moves_keeps_every_answered_move_and_nothing_half_done(demo: Demo) -> None:
    with started(demo.server) as running:
        with demo.client() as client:
            depot = _depot(client)
            shelves = [loc["id"] for loc in client.get(f"/api/depots/{depot['id']}/locations").json()]
            codes = _shelved_codes(client, depot["id"], 24)
        assert len(codes) == 24
        movers = [_Mover(demo, codes[n::8], shelves) for n in range(8)]
        stop = threading.Event()
        threads = [threading.Thread(target=mover.run, args=(stop,)) for mover in movers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while sum(mover.moves for mover in movers) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        running.kill()  # with moves in flight
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert sum(mover.moves for mover in movers) >= 150

    demo.consistent()
    with started(demo.server), demo.client() as client:
        for mover in movers:
            for code in mover.codes:
                where = client.get(f"/api/items/{code}").json()["location_id"]
                allowed = mover.unanswered.get(code, set()) | ({mover.acknowledged[code]} if code in mover.acknowledged else set())
                if allowed:
                    assert where in allowed, f"{code} is at {where}; its last answered move put it at {mover.acknowledged.get(code)}"
        # and the server takes moves again
        assert client.post("/api/moves", json={"codes": [codes[0]], "location_id": shelves[0]}).status_code == 200
    demo.consistent()


def _import_file(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["serial", "manufacturer", "model", "calibre", "un_type", "intake_source", "year_of_manufacture"])
    writer.writerows([f"DRILL{n:06d}", "Zastava", "M70", "7.62x39mm", "assault_rifle", "surplus", 1980 + n % 30] for n in range(rows))
    return out.getvalue().encode()


def _status(client: httpx.Client, sha256: str) -> dict[str, Any]:
    answer = client.get(f"/api/imports/{sha256}")
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_killed_during_a_bulk_import_keeps_whole_batches_and_the_import_resumes(demo: Demo) -> None:
    rows = 20_000
    with started(demo.server) as running, demo.client() as client:
        uploaded = client.post("/api/imports", params={"depot": DEPOT, "filename": "drill.csv"}, content=_import_file(rows))
        assert uploaded.status_code == 201, uploaded.text
        sha256 = uploaded.json()["sha256"]
        assert client.post(f"/api/imports/{sha256}/run").status_code == 202
        deadline = time.monotonic() + 120
        while (imported := _status(client, sha256)["imported"]) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        running.kill()  # a batch or more is in, the rest is not
    assert 0 < imported < rows, f"the import was at {imported} of {rows} rows when the server was killed"

    demo.consistent()
    with started(demo.server), demo.client() as client:
        after_kill = _status(client, sha256)
        assert after_kill["running"] is False
        assert after_kill["imported"] % 1000 == 0  # whole batches only
        assert imported <= after_kill["imported"] < rows
        assert client.post(f"/api/imports/{sha256}/run").status_code == 202  # resumes at the first batch not in
        deadline = time.monotonic() + 300
        while not (status := _status(client, sha256))["done"] and status["failure"] is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status["done"], status
        assert status["imported"] == rows
        found = client.get("/api/items", params={"q": "DRILL019999"}).json()["items"]
        assert [item["serial"] for item in found] == ["DRILL019999"]
    demo.consistent()


@dataclass
class _Destruction:
    """The demo's approved destruction, driven through the API to the point of certification."""

    demo: Demo
    event_id: str = ""

    def prepare(self) -> None:
        with self.demo.client("manager") as manager:
            planned = manager.get("/api/destructions", params={"status": "approved"}).json()
            assert planned, "the demo has no approved destruction"
            self.event_id = planned[0]["id"]
        path = f"/api/destructions/{self.event_id}"
        with self.demo.client("witness") as witness, self.demo.client("witness2") as second:
            codes = [line["code"] for line in witness.get(f"{path}/manifest", params={"limit": 5000}).json()]
            _ok(witness.post(f"{path}/verify", json={"codes": codes}))
            self._attest("before", witness, second)
            for stage, shade in (("before", 200), ("after", 60)):  # two pictures: one photograph is kept once
                picture = io.BytesIO()
                Image.new("RGB", (64, 48), (shade, shade, shade)).save(picture, format="PNG")
                _ok(
                    witness.post(
                        f"{path}/photos", params={"stage": stage}, content=picture.getvalue(), headers={"content-type": "image/png"}
                    )
                )
            now = dt.datetime.now(dt.UTC)  # after the witnesses attested, over before the residue check
            times = {"started_at": now.isoformat(), "ended_at": (now + dt.timedelta(milliseconds=1)).isoformat()}
            _ok(witness.post(f"{path}/complete", json={"methods_used": ["smelting"], **times}))
            _ok(second.post(f"{path}/residue", json={"notes": "frames and receivers destroyed; residue inspected"}))
            self._attest("after", witness, second)

    def _attest(self, stage: str, *people: httpx.Client) -> None:
        path = f"/api/destructions/{self.event_id}"
        for person in people:
            shown = person.get(f"{path}/attestation", params={"stage": stage}).json()["manifest_sha256"]
            _ok(person.post(f"{path}/attest", json={"stage": stage, "manifest_sha256": shown}))


def _ok(answer: httpx.Response) -> httpx.Response:
    assert answer.status_code < 300, f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text}"
    return answer


def test_killed_during_certification_leaves_the_destruction_certified_or_not_never_half(demo: Demo) -> None:
    destruction = _Destruction(demo)
    with started(demo.server):
        destruction.prepare()
    before = demo.consistent()
    certified = False
    for delay in (0.01, 0.05, 0.2, 1.0):  # kill ever later into the request, until it has landed
        with started(demo.server) as running:
            sent = threading.Thread(target=_certify_quietly, args=(demo, destruction.event_id))
            sent.start()
            time.sleep(delay)
            running.kill()
            sent.join(timeout=30)
        size = demo.consistent()
        with started(demo.server), demo.client("manager") as manager:
            event = manager.get(f"/api/destructions/{destruction.event_id}").json()
            certified = event["status"] == "certified"
            if certified:
                assert size > before
                assert manager.get(f"/destructions/{destruction.event_id}/certificate.pdf").content.startswith(b"%PDF")
                break
            assert size == before, "a destruction not certified left custody events behind"
    if not certified:
        with started(demo.server), demo.client("manager") as manager:
            _ok(manager.post(f"/api/destructions/{destruction.event_id}/certify"))
    demo.consistent()


def _certify_quietly(demo: Demo, event_id: str) -> None:
    with contextlib.suppress(httpx.HTTPError), demo.client("manager") as manager:
        manager.post(f"/api/destructions/{event_id}/certify")


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster of the drill's own (``pg_createcluster``), so that stopping it stops no other test's server."""

    version: str
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, action: str) -> None:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action], check=True, capture_output=True)

    def up(self) -> bool:
        return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False).returncode == 0


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A new PostgreSQL cluster on a free loopback port (trust auth), started, and dropped after the test."""
    if not shutil.which("pg_createcluster"):
        pytest.fail("pg_createcluster is missing: the PostgreSQL drill cannot make a server of its own to stop and start")
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = Cluster(version, f"drill_{secrets.token_hex(4)}", port)
    options = ["-p", str(port), "--start-conf=manual", "--", "--auth=trust"]
    subprocess.run(["pg_createcluster", version, cluster.name, *options], check=True, capture_output=True)
    try:
        cluster.ctl("start")
        yield cluster
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, cluster.name], check=False, capture_output=True)


@pytest.mark.skipif(not (POSTGRES_URL or IN_CI), reason="CALIBER_TEST_POSTGRES_URL is not set: PostgreSQL drills skipped")
def test_postgresql_restarted_under_the_server_answers_503_then_recovers_without_a_restart(own_postgres: Cluster, tmp_path: Path) -> None:
    with _scratch_database(own_postgres.url) as database_url:
        demo = _demo(tmp_path, database_url)
        _restart_under(demo, own_postgres)


def _restart_under(demo: Demo, cluster: Cluster) -> None:
    with started(demo.server, workers=2), demo.client() as client:
        depot = _depot(client)
        code = _shelved_codes(client, depot["id"], 1)[0]
        assert client.get("/api/scan", params={"code": code}).status_code == 200
        cluster.ctl("stop")
        try:
            assert not cluster.up()
            for path in (f"/api/scan?code={code}", f"/api/items/{code}", "/ready"):
                answer = client.get(path)
                assert answer.status_code == 503, (path, answer.status_code, answer.text)
                if path != "/ready":
                    assert answer.json()["title"] == "Database unavailable"
                    assert answer.headers["retry-after"] == "5"
            assert client.get("/health").status_code == 200  # the process itself is up
        finally:
            cluster.ctl("start")
        deadline = time.monotonic() + 30
        while not cluster.up() and time.monotonic() < deadline:
            time.sleep(0.2)
        answers = []
        for _ in range(20):  # every worker reconnects on its own
            answers.append(client.get("/api/scan", params={"code": code}).status_code)
            answers.append(client.get(f"/api/items/{code}").status_code)
        assert set(answers[4:]) == {200}, answers
        moved = client.post("/api/moves", json={"codes": [code], "location_id": client.get(f"/api/items/{code}").json()["location_id"]})
        assert moved.status_code == 200
    demo.consistent()


@contextlib.contextmanager
def _small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    folder.mkdir(parents=True)
    command = ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)]
    mounted = subprocess.run(command, check=False, capture_output=True, text=True)
    if mounted.returncode != 0:
        if IN_CI:
            pytest.fail(f"cannot mount a small tmpfs for the disk-full drill: {mounted.stderr.strip()}")
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave_bytes: int) -> Path:
    """A file that takes all of ``folder``'s disk but ``leave_bytes``."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free - leave_bytes
    with filler.open("wb") as out:
        out.write(b"\0" * max(free, 0))
    return filler


def test_a_full_disk_gives_a_clear_error_and_corrupts_nothing(tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk", 64) as disk:
        demo_dir = disk / "demo"
        server = new_server(demo_dir)
        server.caliber("demo", "--no-serve", "--scale", "0.02")
        logins = (server.data_dir / "demo-logins.txt").read_text().splitlines()
        demo = Demo(server, {row[0]: row[2] for row in (line.split("\t") for line in logins)})
        before = demo.consistent()
        with started(server), demo.client() as client:
            depot = _depot(client)
            new = {"depot_id": depot["id"], "manufacturer": "Zastava", "model": "M70", "calibre": "7.62x39mm"}
            new |= {"un_type": "assault_rifle", "intake_source": "surplus"}
            assert client.post("/api/items", json={**new, "serial": "BEFORE-FULL"}).status_code == 201
            filler = _fill(disk, leave_bytes=0)
            refused = [client.post("/api/items", json={**new, "serial": f"FULL-{n}"}) for n in range(3)]
            for answer in refused:
                assert answer.status_code == 507, answer.text
                assert answer.json()["title"] == "Storage full"
                assert "disk is full" in answer.json()["detail"]
            assert client.get("/health").status_code == 200
            filler.unlink()
            assert client.post("/api/items", json={**new, "serial": "AFTER-FULL"}).status_code == 201
            serials = {item["serial"] for item in client.get("/api/items", params={"q": "FULL"}).json()["items"]}
            assert serials == {"BEFORE-FULL", "AFTER-FULL"}
        with contextlib.closing(sqlite3.connect(server.data_dir / "caliber.db")) as database:
            assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert demo.consistent() == before + 2
