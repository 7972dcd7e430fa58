"""Every benchmark in one run, and one table of what they measured: ``python -m bench [--quick] [--only NAME ...]``.

Each benchmark runs in a process of its own (``python -m bench.NAME``), its
own lines kept in ``bench-log.txt``; the figures it states (see
:mod:`bench.figures`) make the table: figure, value, the reference measured
in the same run, the ratio, and the goal. It asserts nothing: it measures.
``--quick`` runs small sizes; PostgreSQL is measured when
``CALIBER_TEST_POSTGRES_URL`` (or ``--postgres``) names a server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.figures import ENV, MARK, Figure

BENCHES: dict[str, tuple[list[str], list[str]]] = {
    # name: (arguments for the full run, for --quick); "{pg}" is the PostgreSQL server's URL (left out without one)
    "cli_start": ([], ["--runs", "3"]),
    "asgi_servers": ([], ["--seconds", "3"]),
    "ledger_verify": ([], ["--entries", "20000"]),
    "ledger_store": (["--postgres", "{pg}"], ["--quick", "--postgres", ""]),
    "import_items": ([], ["--rows", "2000"]),
    "iarms_hits": ([], ["--quick"]),
    "search_items": (["--postgres", "{pg}"], ["--items", "20000", "--postgres", ""]),
    "labels": ([], []),
    "destruction": ([], ["--items", "300"]),
    "reports": (["--postgres", "{pg}"], ["--records", "20000", "--only", "sqlite"]),
    "load": (["--postgres", "{pg}"], ["--seconds", "3", "--scale", "0.05", "--only", "sqlite"]),
    "fuzz": (["--examples", "40"], ["--examples", "2"]),
}


def main() -> None:
    """Run the benchmarks, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, SQLite only: a couple of minutes")
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), help="these benchmarks only")
    parser.add_argument("--postgres", default=os.environ.get("CALIBER_TEST_POSTGRES_URL", ""), help="a PostgreSQL server to measure")
    parser.add_argument("--log", type=Path, default=Path("bench-log.txt"), help="where the benchmarks' own lines go")
    args = parser.parse_args()
    started = time.perf_counter()
    figures: list[Figure] = []
    failed: list[str] = []
    with args.log.open("w") as log:
        for name in args.only or list(BENCHES):
            full, quick = BENCHES[name]
            arguments = [a.replace("{pg}", args.postgres) for a in (quick if args.quick else full)]
            print(f"running bench.{name} {' '.join(arguments)}", flush=True)
            began = time.perf_counter()
            found, ok = _run(name, arguments, log)
            figures += found
            print(f"  {len(found)} figures in {time.perf_counter() - began:.0f} s{'' if ok else ' (it failed: see the log)'}", flush=True)
            if not ok:
                failed.append(name)
    _table(figures)
    if args.quick:
        print("\n--quick: small sizes; the goals are stated for the full sizes, where the figures in docs/benchmarks.md come from")
    took = time.perf_counter() - started
    print(f"\n{len(figures)} figures from {len(args.only or BENCHES)} benchmarks in {took:.0f} s; their own lines in {args.log}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)


def _run(name: str, arguments: list[str], log: object) -> tuple[list[Figure], bool]:
    command = [sys.executable, "-u", "-m", f"bench.{name}", *arguments]
    env = {**os.environ, ENV: "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH", "")]))}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    found = []
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(MARK):
            found.append(Figure(**json.loads(line[len(MARK) :])))
        else:
            log.write(f"[{name}] {line}")  # type: ignore[attr-defined]
    return found, process.wait() == 0


def _table(figures: list[Figure]) -> None:
    width = shutil.get_terminal_size((160, 20)).columns if sys.stdout.isatty() else 10_000  # a file gets whole lines
    rows = [("benchmark", "figure", "value", "reference (same run)", "ratio", "goal", "met")]
    for f in figures:
        value = f"{f.value:,.3g}" if abs(f.value) < 10 else f"{f.value:,.0f}"
        met = "" if f.met is None else ("yes" if f.met else "NO")
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        rows.append((f.bench, f.name, f"{value} {f.unit}", f.reference, ratio, f.goal, met))
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    print()
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[k]) for k, cell in enumerate(row))[:width])
        if n == 0:
            print("  ".join("-" * w for w in widths)[:width])


if __name__ == "__main__":
    main()
