"""The tamper suite: every way of changing the record behind the ledger's back is caught.

Each case is detected by the database audit (``caliber ledger verify``) and by
the offline verifier on a fresh export (or the signer refuses to sign the
tampered tree, so no export can be made).
"""

from __future__ import annotations

import ast
import base64
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from caliber import migrate
from caliber.db import Database, create_engine
from caliber.inventory.models import DepotKind
from caliber.inventory.schemas import DepotUpdate, NewDepot
from caliber.inventory.service import InventoryService
from caliber.ledger import merkle, note
from caliber.ledger.audit import AuditError, audit, export_bundle, replay
from caliber.ledger.models import node_key
from caliber.ledger.signer import ForkRefused, LogSigner
from caliber.ledger.store import Ledger, StoreCorrupt
from caliber.ledger.verify import VerificationError, verify_bundle
from tests.conftest import TEST_ORIGIN, in_thread
from tests.factories import OPERATOR, Factory

Tamper = Callable[[Database], Awaitable[None]]


@pytest.fixture
def signer(tmp_path: Path) -> LogSigner:
    return LogSigner.for_data_dir(TEST_ORIGIN, tmp_path)


async def build(factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    """Eleven events with checkpoints at 5 and 11."""
    depot = await factory.depot()
    for n in range(4):
        await factory.location(depot, f"Room {n}")
    await ledger.checkpoint(signer)
    for n in range(6):
        await factory.location(depot, f"Rack {n}")
    await ledger.checkpoint(signer)


async def sql(db: Database, *statements: str) -> None:
    async with db.write() as session:
        for statement in statements:
            await session.execute(text(statement))


async def export_and_verify(ledger: Ledger, signer: LogSigner) -> None:
    bundle = io.BytesIO()
    await export_bundle(ledger, signer, bundle)
    bundle.seek(0)
    verify_bundle(bundle, signer.vkey)


async def assert_detected(ledger: Ledger, signer: LogSigner, says: str | None = None) -> None:
    with pytest.raises(AuditError, match=says):
        await audit(ledger, signer)
    with pytest.raises((VerificationError, ForkRefused, StoreCorrupt)):
        await export_and_verify(ledger, signer)


async def entry_data(db: Database, index: int) -> bytes:
    async with db.read() as session:
        return bytes((await session.execute(text(f"SELECT data FROM ledger_entry WHERE idx = {index}"))).scalar_one())


async def set_entry_data(db: Database, index: int, data: bytes) -> None:
    async with db.write() as session:
        await session.execute(text("UPDATE ledger_entry SET data = :data WHERE idx = :idx"), {"data": data, "idx": index})


async def test_an_untouched_ledger_verifies(factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    report = await audit(ledger, signer)
    assert (report.entries, report.checkpoints) == (11, 2)
    await export_and_verify(ledger, signer)


async def test_an_edited_entry(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    await set_entry_data(db, 3, (await entry_data(db, 3)).replace(b"Room 2", b"Room X"))
    await assert_detected(ledger, signer, "entry 4: the hash chain breaks: its prev is not the hash of entry 3")


async def test_non_canonical_bytes(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    await set_entry_data(db, 2, (await entry_data(db, 2)).replace(b'{"actor":', b'{ "actor":'))
    await assert_detected(ledger, signer, "entry 2: .*canonical")


async def test_an_edited_subtree_hash(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    async with db.write() as session:  # the subtree of entries 0-7, on which the next root is built
        await session.execute(text("UPDATE ledger_node SET hash = :h WHERE key = :k"), {"h": bytes(32), "k": node_key(3, 0)})
    with pytest.raises(AuditError, match="level 3, index 0"):
        await audit(ledger, signer)
    await factory.inventory.update_depot(OPERATOR, (await factory.inventory.depots(OPERATOR))[0].id, DepotUpdate(name="Next"))
    with pytest.raises((VerificationError, ForkRefused)):  # the next root is built on the false node
        await export_and_verify(ledger, signer)


async def test_a_deleted_entry(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    await sql(db, "DELETE FROM ledger_subject WHERE idx = 4", "DELETE FROM ledger_entry WHERE idx = 4")
    await assert_detected(ledger, signer)


async def test_a_truncated_log(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    await sql(db, "DELETE FROM ledger_subject WHERE idx >= 8", "DELETE FROM ledger_entry WHERE idx >= 8")
    await assert_detected(ledger, signer)


async def test_a_truncated_log_with_its_head_rolled_back(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    await sql(
        db,
        "DELETE FROM ledger_checkpoint WHERE size > 5",
        "DELETE FROM ledger_subject WHERE idx >= 8",
        "DELETE FROM ledger_entry WHERE idx >= 8",
    )
    async with db.write() as session:
        await session.execute(text("UPDATE ledger_head SET size = 8"))
    await assert_detected(ledger, signer, "refuses")


async def test_two_swapped_entries(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    third, fourth = await entry_data(db, 3), await entry_data(db, 4)
    await set_entry_data(db, 3, fourth)
    await set_entry_data(db, 4, third)
    await assert_detected(ledger, signer, "entry 3")


async def test_an_entry_inserted_in_the_middle(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    original = [await entry_data(db, index) for index in range(11)]
    shifted = [*original[:6], original[2], *original[6:]]  # a copy of entry 2 slipped in at 6
    async with db.write() as session:
        await session.execute(text("INSERT INTO ledger_entry (idx, data, event_type) VALUES (11, :d, 'x')"), {"d": shifted[11]})
        await session.execute(text("UPDATE ledger_head SET size = 12"))
    for index in range(6, 11):
        await set_entry_data(db, index, shifted[index])
    await assert_detected(ledger, signer)


async def test_a_replaced_checkpoint_for_another_root(
    db: Database, factory: Factory, ledger: Ledger, signer: LogSigner, tmp_path: Path
) -> None:
    await build(factory, ledger, signer)
    state = tmp_path / "inspector"
    bundle = io.BytesIO()
    await export_bundle(ledger, signer, bundle)
    bundle.seek(0)
    verify_bundle(bundle, signer.vkey, state_dir=state)  # the inspector accepted size 11
    forged = note.sign(note.format_checkpoint(note.Checkpoint(TEST_ORIGIN, 11, merkle.leaf_hash(b"forged"))), signer.skey)
    async with db.write() as session:
        await session.execute(text("UPDATE ledger_checkpoint SET note = :n WHERE size = 11"), {"n": forged})
    with pytest.raises(AuditError, match="signed root of size 11"):
        await audit(ledger, signer)
    bundle = io.BytesIO()
    await export_bundle(ledger, signer, bundle)
    bundle.seek(0)
    with pytest.raises(VerificationError):
        verify_bundle(bundle, signer.vkey, state_dir=state)


async def test_a_state_table_changed_without_an_event(
    db: Database, factory: Factory, ledger: Ledger, signer: LogSigner, tmp_path: Path
) -> None:
    await build(factory, ledger, signer)
    await sql(db, "UPDATE depot SET name = 'Quietly renamed'")
    differences = await replay_into_empty(db, tmp_path)
    assert len(differences) == 1
    assert differences[0].table == "depot"
    assert "Quietly renamed" in str(differences[0])


async def test_the_untouched_state_replays_exactly(
    db: Database, factory: Factory, ledger: Ledger, signer: LogSigner, tmp_path: Path
) -> None:
    await build(factory, ledger, signer)
    await factory.user(depots=[(await factory.inventory.depots(OPERATOR))[0]])
    assert await replay_into_empty(db, tmp_path) == []


async def replay_into_empty(db: Database, tmp_path: Path) -> list[object]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    in_thread(migrate.upgrade, url)
    empty = Database(create_engine(url))
    try:
        return list(await replay(db, empty))
    finally:
        await empty.dispose()


async def test_restoring_an_old_copy_and_appending_cannot_fork_the_log(tmp_path: Path) -> None:
    """SQLite file copies stand in for a backup and its restore (a pg_dump restore is the same to the signer)."""
    live, backup = tmp_path / "caliber.db", tmp_path / "backup.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{live}")
    signer = LogSigner.for_data_dir(TEST_ORIGIN, tmp_path)

    async def register_and_sign(code: str) -> None:
        db = Database(create_engine(f"sqlite+aiosqlite:///{live}"))
        ledger = Ledger(db, TEST_ORIGIN)
        try:
            await InventoryService(ledger).create_depot(OPERATOR, NewDepot(code, code, DepotKind.ARMY_DEPOT, "RS"))
            await ledger.checkpoint(signer)
        finally:
            await db.dispose()

    await register_and_sign("OLD-1")
    shutil.copy(live, backup)
    await register_and_sign("NEW-1")
    shutil.copy(backup, live)  # the old copy comes back
    with pytest.raises(ForkRefused, match="does not extend"):
        await register_and_sign("OTHER-1")


def test_a_proof_of_one_entry_does_not_prove_another() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(7)]
    proof_of_b = merkle.inclusion_proof(5, 7, merkle.subtree_from_leaves(leaves))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[2], 2, 7, proof_of_b, merkle.root(leaves))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[2], 5, 7, proof_of_b, merkle.root(leaves))


def test_the_verifier_imports_nothing_but_the_standard_library_cryptography_and_rfc8785() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import caliber.ledger.verify\n"
        # __mp_main__: the standard library's multiprocessing names the main module so for its workers
        "allowed = set(sys.stdlib_module_names) | {'caliber', 'cryptography', 'rfc8785', '_cffi_backend', 'cffi', '_openssl'}\n"
        "allowed.add('__mp_main__')\n"
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before} - allowed))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, caliber.ledger.verify; print(sorted(m for m in sys.modules if m.startswith('caliber')))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert set(ast.literal_eval(loaded)) <= {
        "caliber",
        "caliber.ledger",
        "caliber.ledger.canonical",
        "caliber.ledger.merkle",
        "caliber.ledger.note",
        "caliber.ledger.verify",
    }


def one_entry_bundle(origin: str, skey: str, actor: str = "x") -> bytes:
    """A bundle of one event and a checkpoint signed over the event with actor ``x``: another actor breaks the root."""

    def line(name: str) -> bytes:
        return (
            b'{"actor":{"id":null,"name":"' + name.encode() + b'","role":"admin"},"data":{},"log":"' + origin.encode() + b'",'
            b'"prev":null,"seq":0,"subject_prev":{},"subjects":[],"time":"2026-01-01T00:00:00.000000Z","type":"t","v":1}'
        )

    signed = note.sign(note.format_checkpoint(note.Checkpoint(origin, 1, merkle.leaf_hash(line("x")))), skey)
    header = f"caliber-ledger-bundle/v1\norigin {origin}\ncheckpoints 1\n".encode() + base64.b64encode(signed.encode()) + b"\nentries 1\n"
    return header + line(actor) + b"\n"


def run_verifier(python: str, bundle: Path, vkey: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m caliber.ledger.verify BUNDLE --log-key VKEY``."""
    command = [python, "-m", "caliber.ledger.verify", str(bundle), "--log-key", vkey]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def test_caliber_verify_names_the_broken_entry(tmp_path: Path) -> None:
    skey, vkey = note.generate_key("t.example/ledger")
    bundle = tmp_path / "b"
    bundle.write_bytes(one_entry_bundle("t.example/ledger", skey))
    ok = run_verifier(sys.executable, bundle, vkey)
    assert ok.returncode == 0, ok.stderr
    bundle.write_bytes(one_entry_bundle("t.example/ledger", skey, actor="y"))
    bad = run_verifier(sys.executable, bundle, vkey)
    assert bad.returncode == 1
    assert "signed root of size 1" in bad.stderr


def test_the_verifier_runs_in_a_bare_environment_with_only_cryptography_and_rfc8785(tmp_path: Path) -> None:
    """An inspector's machine: a new virtual environment, the four pure modules, two packages."""
    from caliber.ledger import canonical as canonical_module

    source = Path(canonical_module.__file__).parent
    package = tmp_path / "verifier" / "caliber"
    (package / "ledger").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("__init__.py", "canonical.py", "merkle.py", "note.py", "verify.py"):
        shutil.copy(source / name, package / "ledger" / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "uv", "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([sys.executable, "-m", "uv", "pip", "install", "-q", "--python", python, "cryptography", "rfc8785"], check=True)
    skey, vkey = note.generate_key("bare.example/ledger")
    bundle = tmp_path / "bundle"
    bundle.write_bytes(one_entry_bundle("bare.example/ledger", skey))
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path / "verifier")}
    ok = run_verifier(python, bundle, vkey, env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: bare.example/ledger: 1 entries")
    bundle.write_bytes(one_entry_bundle("bare.example/ledger", skey, actor="y"))
    bad = run_verifier(python, bundle, vkey, env)
    assert bad.returncode == 1
    assert "signed root of size 1" in bad.stderr
    listed = subprocess.run([sys.executable, "-m", "uv", "pip", "list", "--python", python], capture_output=True, text=True, check=True)
    assert {line.split()[0].lower() for line in listed.stdout.splitlines()[2:]} <= {"cryptography", "rfc8785", "cffi", "pycparser"}
