"""Many writers in several processes make one contiguous chain; a crash mid-append leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from caliber.db import Database
from caliber.ledger.audit import audit
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger

PROCESSES, TASKS, EVENTS = 4, 4, 125  # 16 concurrent writers, 2,000 events


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.ledger.writer", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def url_of(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


async def test_sixteen_writers_in_four_processes_make_one_chain(db: Database, ledger: Ledger, tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir(ledger.origin, tmp_path)
    writers = [spawn(url_of(db), ledger.origin, str(p), str(TASKS), str(EVENTS)) for p in range(PROCESSES)]
    checkpoints = set()
    while any(w.poll() is None for w in writers):
        checkpoints.add((await ledger.checkpoint(signer)).size)  # sign along the way: each must extend the last
        await asyncio.sleep(0.2)
    for writer in writers:
        _out, err = writer.communicate()
        assert writer.returncode == 0, err
    report = await audit(ledger, signer)  # contiguous indexes, one hash chain, every checkpoint's root
    assert report.entries == PROCESSES * TASKS * EVENTS
    assert report.checkpoints >= len(checkpoints) >= 2


async def test_a_process_killed_between_append_and_commit_leaves_no_entry(db: Database, ledger: Ledger, tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir(ledger.origin, tmp_path)
    before = await ledger.size()
    with spawn("--hang-after-append", url_of(db), ledger.origin) as writer:
        assert writer.stdout is not None
        line = await asyncio.to_thread(writer.stdout.readline)
        os.kill(writer.pid, signal.SIGKILL)
        _out, err = writer.communicate()
    assert line.strip() == "appended", err
    assert await ledger.size() == before
    await audit(ledger, signer)
