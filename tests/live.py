"""Caliber running for real: ``caliber serve`` as a subprocess on a free loopback port over its own data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ADMIN_PASSWORD", "LiveServer", "Serving", "new_server", "serving", "started"]

ADMIN_PASSWORD = "browser admin password"


@dataclass(frozen=True)
class LiveServer:
    """A running Caliber and the admin who can log in to it."""

    url: str
    data_dir: Path
    admin: str = "admin"
    admin_password: str = ADMIN_PASSWORD
    database_url: str = ""
    """Empty: the SQLite file in the data dir."""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The environment of this server and of ``caliber`` commands run against it."""
        own = {"CALIBER_DATA_DIR": str(self.data_dir), "CALIBER_BASE_URL": self.url, **self.extra_env}
        return {**os.environ, **own, **({"CALIBER_DATABASE_URL": self.database_url} if self.database_url else {})}

    def caliber(self, *args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a ``caliber`` command against this server's data dir (and database)."""
        return subprocess.run(
            [sys.executable, "-m", "caliber", *args], input=stdin, env=self.env, capture_output=True, text=True, check=check
        )


@dataclass
class Serving:
    """A running ``caliber serve``: its process group can be killed outright."""

    server: LiveServer
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL to every process of the server (the granian parent and its workers): no shutdown, no cleanup."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"caliber serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"caliber serve did not become ready at {url} in {seconds} s")


@contextmanager
def serving(server: LiveServer, *, workers: int = 1) -> Iterator[LiveServer]:
    """``caliber serve`` over ``server``'s data dir until the block ends (its log in the data dir)."""
    with started(server, workers=workers):
        yield server


@contextmanager
def started(server: LiveServer, *, workers: int = 1) -> Iterator[Serving]:
    """``caliber serve`` in a process group of its own, until the block ends or it is killed."""
    port = int(server.url.rsplit(":", 1)[1])
    server.data_dir.mkdir(parents=True, exist_ok=True)
    log = (server.data_dir / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "caliber", "serve", "--port", str(port), "--workers", str(workers)],
        env=server.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_up(server.url, process)
        yield Serving(server, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)
        log.close()


def new_server(folder: Path, database_url: str = "") -> LiveServer:
    """A server's address on a free loopback port and its data dir in ``folder`` (not started)."""
    return LiveServer(url=f"http://127.0.0.1:{_free_port()}", data_dir=folder / "data", database_url=database_url)
