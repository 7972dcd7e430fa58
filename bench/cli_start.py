"""How fast ``caliber --help`` answers, against a bare Python start in the same run.

Run: ``.venv/bin/python -m bench.cli_start [--runs 10]``. The goal is under a
second: the CLI imports the app only in the commands that serve it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from bench.figures import figure


def median_seconds(args: list[str], runs: int) -> float:
    """Median wall time of running ``args``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    bare = median_seconds([sys.executable, "-c", "pass"], runs)
    rows = {
        "caliber --help": median_seconds([sys.executable, "-m", "caliber", "--help"], runs),
        "caliber user create --help": median_seconds([sys.executable, "-m", "caliber", "user", "create", "--help"], runs),
    }
    print(f"median of {runs} runs; reference: bare python start {bare * 1000:.0f} ms")
    for name, seconds in rows.items():
        print(f"  {name:<28} {seconds * 1000:>6.0f} ms   {seconds / bare:.1f}x bare python   goal < 1000 ms")
        reference = f"bare python start {bare * 1000:.0f} ms"
        figure("cli_start", name, seconds * 1000, "ms", reference=reference, ratio=seconds / bare, goal="< 1000 ms", met=seconds < 1)


if __name__ == "__main__":
    main()
