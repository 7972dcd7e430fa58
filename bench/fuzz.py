"""schemathesis against Caliber's own OpenAPI schema with a larger budget than CI's: every operation as every role,
on ``caliber serve`` over a small demo (``tests/test_openapi_fuzz.py`` run by pytest).

Run: ``.venv/bin/python -m bench.fuzz [--examples 40]`` (CI runs 4 examples per operation, and 30 for each operation
that takes an integer, where few examples miss the edges; here every operation gets ``--examples``, those at least 30). Goal: no operation
answers with a server error, or with an answer that breaks its documented schema or content type, for any role.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import figure

ROLES = 6


def main() -> None:
    """Run the fuzz test with the budget asked for; print what it tried and what failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=40, help="examples per operation (each sent as every role)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "fuzz.json"
        env = {**os.environ, "CALIBER_FUZZ_EXAMPLES": str(args.examples), "CALIBER_FUZZ_REPORT": str(report)}
        began = time.perf_counter()
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_openapi_fuzz.py"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        took = time.perf_counter() - began
        if not report.exists():
            sys.exit(f"the fuzz test did not run:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        found = json.loads(report.read_text())
    operations, failures = found["operations"], found["failures"]
    requests = operations * args.examples * ROLES
    tried = f"{operations} operations x up to {args.examples} examples x {ROLES} roles (up to {requests:,} requests)"
    print(f"schemathesis: {tried} in {took:.0f} s")
    print(f"  operations with a server error or a schema break: {len(failures)}   goal 0")
    for failure in failures:
        print(f"    {failure[:300]}")
    if done.returncode != 0 and not failures:
        print(done.stdout[-3000:])
    figure("fuzz", f"operations fuzzed, up to {args.examples} examples each as {ROLES} roles", operations, "", reference=f"{took:.0f} s")
    figure("fuzz", "operations failing (server error or schema break)", len(failures), "", goal="0", met=not failures)


if __name__ == "__main__":
    main()
