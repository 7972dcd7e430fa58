"""Caliber running for real: ``caliber serve`` as a subprocess on a free loopback port over its own data dir."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ADMIN_PASSWORD", "LiveServer", "new_server", "serving"]

ADMIN_PASSWORD = "browser admin password"


@dataclass(frozen=True)
class LiveServer:
    """A running Caliber and the admin who can log in to it."""

    url: str
    data_dir: Path
    admin: str = "admin"
    admin_password: str = ADMIN_PASSWORD

    def caliber(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run a ``caliber`` command against this server's data dir."""
        env = {**os.environ, "CALIBER_DATA_DIR": str(self.data_dir), "CALIBER_BASE_URL": self.url}
        return subprocess.run([sys.executable, "-m", "caliber", *args], input=stdin, env=env, capture_output=True, text=True, check=True)


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
def serving(server: LiveServer) -> Iterator[LiveServer]:
    """``caliber serve`` over ``server``'s data dir until the block ends (its log in the data dir)."""
    port = int(server.url.rsplit(":", 1)[1])
    env = {**os.environ, "CALIBER_DATA_DIR": str(server.data_dir), "CALIBER_BASE_URL": server.url}
    log = (server.data_dir / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "caliber", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_until_up(server.url, process)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def new_server(folder: Path) -> LiveServer:
    """A server's address on a free loopback port and its data dir in ``folder`` (not started)."""
    return LiveServer(url=f"http://127.0.0.1:{_free_port()}", data_dir=folder / "data")
