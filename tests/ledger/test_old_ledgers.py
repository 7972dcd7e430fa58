"""Ledgers written by earlier versions still verify and replay with this one.

Each ``tests/fixtures/ledger-vN`` folder is a data dir made once by the code of one commit (its README says which,
how, and the event types it holds). A copy of it is given to this version's command line, as an upgraded
deployment would be: ``caliber ledger verify`` accepts every entry and signature, ``caliber ledger check`` replays
every event into exactly the stored tables, and the offline verifier accepts the exported bundle.
"""

from __future__ import annotations

import collections
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from caliber import domains

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE_URL = "https://caliber.example"
TRACING = {
    "trace.excepted",
    "trace.iarms_hit",
    "trace.incoming_answered",
    "trace.incoming_registered",
    "trace.request_answered",
    "trace.request_sent",
    "trace.step_recorded",
}
ADDED_SINCE = {"ledger-v1": frozenset(TRACING)}
"""Event types this version records that the code of each fixture's commit did not have yet: tracing came after ledger-v1."""
TYPE_ROW = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \| (\d+) \|$", re.M)


def caliber(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "caliber", *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def listed_types(folder: Path) -> collections.Counter[str]:
    """The event types, with their entry counts, that the fixture's README lists."""
    return collections.Counter({kind: int(n) for kind, n in TYPE_ROW.findall((folder / "README.md").read_text())})


def bundle_types(bundle: Path) -> collections.Counter[str]:
    """The type of every entry of an exported bundle."""
    lines = bundle.read_bytes().splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(b"entries "))
    entries = lines[start + 1 :]
    assert len(entries) == int(lines[start].split()[1])
    return collections.Counter(json.loads(line)["type"] for line in entries)


def registry() -> set[str]:
    """The event types this version records."""
    return set(domains.registry().event_types)


def data_dir(folder: Path, into: Path) -> Path:
    """A copy of the fixture as a data dir: the database unpacked, the log's key and signer state beside it."""
    into.mkdir()
    with gzip.open(folder / "caliber.db.gz") as packed, (into / "caliber.db").open("wb") as database:
        shutil.copyfileobj(packed, database)
    for name in ("log-key", "log-state", "log-history"):
        shutil.copyfile(folder / name, into / name)
        (into / name).chmod(0o600)
    return into


FOLDERS = sorted(FIXTURES.glob("ledger-v*"))


def test_there_is_a_fixture_ledger() -> None:
    assert [folder.name for folder in FOLDERS][:1] == ["ledger-v1"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_an_old_ledger_verifies_and_replays(folder: Path, tmp_path: Path) -> None:
    listed = listed_types(folder)
    found = bundle_types(folder / "ledger.bundle")
    assert found == listed, f"the bundle of {folder.name} differs from its README's list: {(found - listed) + (listed - found)}"
    entries = found.total()
    assert f"{entries} entries" in (folder / "README.md").read_text()

    today = registry()
    assert set(listed) <= today, f"types in {folder.name} this version no longer records: {sorted(set(listed) - today)}"
    assert folder.name in ADDED_SINCE, f"say in ADDED_SINCE which event types were added after {folder.name} was made"
    new = today - set(listed) - ADDED_SINCE[folder.name]
    assert not new, f"event types added since {folder.name} was made (list them in ADDED_SINCE): {sorted(new)}"

    data = data_dir(folder, tmp_path / "data")
    env = {name: value for name, value in os.environ.items() if not name.startswith("CALIBER_") and name != "PYTHONPATH"}
    env |= {"CALIBER_DATA_DIR": str(data), "CALIBER_BASE_URL": BASE_URL}

    verified = caliber("ledger", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert f"ledger OK: {entries} entries" in verified.stdout

    checked = caliber("ledger", "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ledger check OK" in checked.stdout

    verifier = Path(sys.executable).parent / "caliber-verify"  # the installed console script
    bundle = shutil.copyfile(folder / "ledger.bundle", tmp_path / "ledger.bundle")
    log_key = (folder / "log.vkey").read_text().strip()
    offline = subprocess.run([str(verifier), str(bundle), "--log-key", log_key], capture_output=True, text=True, env=env, check=False)
    assert offline.returncode == 0, offline.stderr
    assert f"{entries} entries" in offline.stdout
    witness = (folder / "witness.vkey").read_text().strip()
    quorum = [str(verifier), str(bundle), "--log-key", log_key, "--witness", witness, "--quorum", "1"]
    cosigned = subprocess.run(quorum, capture_output=True, text=True, env=env, check=False)
    assert cosigned.returncode == 0, cosigned.stderr
