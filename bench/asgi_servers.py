"""granian against uvicorn serving the same hello-world Litestar app, one worker each.

Run: ``.venv/bin/python -m bench.asgi_servers [--seconds 10] [--connections 50]``
(needs the ``bench`` extra and Debian's ``wrk``). Prints requests/s and
latency of each server and granian's ratio to uvicorn. Loopback only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from bench.figures import figure

SERVERS = {
    "granian": [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--workers",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
        "bench.hello:app",
    ],
    "uvicorn": [sys.executable, "-m", "uvicorn", "--workers", "1", "--log-level", "warning", "--no-access-log", "bench.hello:app"],
}


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, seconds: float = 30) -> None:
    """Block until ``url`` answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def run_wrk(url: str, seconds: int, connections: int) -> tuple[float, str]:
    """Requests/s and the latency line from ``wrk``."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out)
    return rate, p99.group(1) if p99 else "?"


def measure(name: str, seconds: int, connections: int) -> tuple[float, str]:
    """Start ``name`` on a free port, load it, stop it."""
    port = free_port()
    args = [*SERVERS[name], "--port", str(port)] if name == "uvicorn" else [*SERVERS[name][:-1], "--port", str(port), SERVERS[name][-1]]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/hello"
        wait_up(url)
        run_wrk(url, 2, connections)  # warm-up
        return run_wrk(url, seconds, connections)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    """Measure both servers and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.asgi_servers needs wrk: apt-get install wrk")
    results = {name: measure(name, args.seconds, args.connections) for name in SERVERS}
    print(f"hello-world Litestar, 1 worker, {args.connections} connections, {args.seconds} s each")
    for name, (rate, p99) in results.items():
        print(f"  {name:<8} {rate:>10,.0f} req/s   p99 {p99}")
    print(f"  granian / uvicorn = {results['granian'][0] / results['uvicorn'][0]:.2f}")
    (granian, p99), (uvicorn, _) = results["granian"], results["uvicorn"]
    figure(
        "asgi_servers",
        f"granian hello-world (p99 {p99})",
        granian,
        "req/s",
        reference=f"uvicorn {uvicorn:,.0f} req/s",
        ratio=granian / uvicorn,
    )


if __name__ == "__main__":
    main()
