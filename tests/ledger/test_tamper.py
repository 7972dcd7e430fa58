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
from caliber.app import create_app
from caliber.config import Settings
from caliber.db import Database, create_engine
from caliber.depots.models import DepotKind
from caliber.depots.schemas import DepotUpdate, NewDepot
from caliber.depots.service import DepotService
from caliber.domains import registry
from caliber.ledger import merkle, note
from caliber.ledger.audit import AuditError, LogMismatch, audit, check_log, export_bundle, replay
from caliber.ledger.models import node_key
from caliber.ledger.signer import ForkRefused, LogSigner
from caliber.ledger.store import Ledger, StoreCorrupt, root_at
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
    await assert_detected(ledger, signer, "is behind the signer's last signed checkpoint")


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
    with pytest.raises(AuditError, match=r"checkpoint of size 11 has root .* but this signer signed"):
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
        return list(await replay(db, empty, registry()))
    finally:
        await empty.dispose()


async def test_restoring_an_old_copy_and_appending_cannot_fork_the_log(tmp_path: Path) -> None:
    """SQLite file copies stand in for a backup and its restore (a pg_dump restore is the same to the signer)."""
    live, backup = tmp_path / "caliber.db", tmp_path / "backup.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{live}")
    signer = LogSigner.for_data_dir(TEST_ORIGIN, tmp_path)

    async def register_and_sign(code: str) -> None:
        db = Database(create_engine(f"sqlite+aiosqlite:///{live}"))
        ledger = Ledger(db, TEST_ORIGIN, registry())
        try:
            await DepotService(ledger).create_depot(OPERATOR, NewDepot(code, code, DepotKind.ARMY_DEPOT, "RS"))
            await ledger.checkpoint(signer)
        finally:
            await db.dispose()

    await register_and_sign("OLD-1")
    shutil.copy(live, backup)
    await register_and_sign("NEW-1")
    shutil.copy(backup, live)  # the old copy comes back
    with pytest.raises(ForkRefused, match="does not extend"):
        await register_and_sign("OTHER-1")


async def copy_of(db: Database) -> list[tuple[str, list[dict[str, object]]]]:
    """Every ledger table's rows (a backup of the log, for a later restore)."""
    tables = ["ledger_entry", "ledger_subject", "ledger_node", "ledger_head", "ledger_checkpoint"]
    async with db.read() as session:
        return [(table, [dict(row._mapping) for row in await session.execute(text(f"SELECT * FROM {table}"))]) for table in tables]


async def restore(db: Database, copy: list[tuple[str, list[dict[str, object]]]]) -> None:
    """Put the ledger tables back as ``copy`` holds them (an older backup restored)."""
    async with db.write() as session:
        for table, _rows in reversed(copy):
            await session.execute(text(f"DELETE FROM {table}"))
        for table, rows in copy:
            for row in rows:
                await session.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"), row)


async def test_a_database_rolled_back_to_an_older_copy_is_named_with_both_trees(
    db: Database, factory: Factory, ledger: Ledger, signer: LogSigner
) -> None:
    depot = await factory.depot()
    await factory.location(depot, "Room 0")
    await ledger.checkpoint(signer)
    old = await ledger.size()
    backup = await copy_of(db)
    await audit(ledger, signer)  # the copy verifies as it stands
    for n in range(3):
        await factory.location(depot, f"Rack {n}")
    await ledger.checkpoint(signer)
    signed = signer.last_signed()
    assert signed is not None
    await restore(db, backup)  # every table consistent with itself, checkpoints included: only the signer knows
    assert await ledger.size() == old
    says = rf"the database's tree \(size {old}, root .*\) is behind the signer's last signed checkpoint \(size {signed.size}, root "
    with pytest.raises(LogMismatch, match=says):
        await check_log(ledger, signer)
    with pytest.raises(AuditError, match=says):
        await audit(ledger, signer)


async def test_the_app_does_not_start_over_a_rolled_back_database(
    db: Database, factory: Factory, ledger: Ledger, settings: Settings
) -> None:
    """Whatever starts it (``caliber serve`` checks first; a bare ASGI server does not), the app never appends to such a log."""
    signer = LogSigner.for_data_dir(TEST_ORIGIN, settings.data_dir)
    depot = await factory.depot()
    backup = await copy_of(db)
    await factory.location(depot, "Room 0")
    await ledger.checkpoint(signer)
    await restore(db, backup)
    told: list[dict[str, str]] = []
    asked = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, str]:
        return asked.pop(0)

    async def send(message: dict[str, str]) -> None:
        told.append(message)

    refused: list[str] = []
    try:  # the ASGI lifespan start, in this test's loop (which holds the database's connections)
        await create_app(settings, database=db)({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)  # type: ignore[arg-type]
    except* LogMismatch as group:
        refused = [str(exc) for exc in group.exceptions]
    assert len(refused) == 1
    assert "is behind the signer's last signed checkpoint" in refused[0]
    assert told[-1]["type"] == "lifespan.startup.failed"


async def test_a_forked_database_of_the_same_size_is_refused(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    depot = await factory.depot()
    backup = await copy_of(db)
    await factory.location(depot, "Room 0")
    await ledger.checkpoint(signer)
    await restore(db, backup)
    await factory.location(depot, "Another room")  # the same size, another tree
    with pytest.raises(LogMismatch, match="is not consistent with the signer's last signed checkpoint"):
        await check_log(ledger, signer)


async def test_a_deleted_checkpoint_row(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    await sql(db, "DELETE FROM ledger_checkpoint WHERE size = 5")
    with pytest.raises(AuditError, match=r"the checkpoint of size 5 .* that this signer signed is missing from the database"):
        await audit(ledger, signer)


async def test_every_checkpoint_row_deleted(db: Database, factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    await sql(db, "DELETE FROM ledger_cosignature", "DELETE FROM ledger_checkpoint")
    with pytest.raises(AuditError, match="is missing from the database"):
        await audit(ledger, signer)


async def test_an_edited_signer_state(factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    state = signer.state_path.read_text()
    signer.state_path.write_text(state.replace("\n11\n", "\n5\n", 1))  # back to the smaller tree, to allow a fork
    with pytest.raises(AuditError, match="does not verify with the log key"):
        await audit(ledger, signer)


async def test_a_signer_state_that_matches_no_signed_checkpoint(factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    """A state of the older, unsigned form, written by hand for a tree no checkpoint row has."""
    await build(factory, ledger, signer)
    async with ledger.db.read() as session:
        root = await root_at(session, 8)
    signer.state_path.write_text(f"8 {base64.b64encode(root).decode()}\n")
    with pytest.raises(AuditError, match="older unsigned form"):  # over the history of what was signed
        await audit(ledger, signer)
    signer.history_path.unlink()  # as a signer from before the history kept it
    with pytest.raises(AuditError, match=r"the checkpoint of size 8 .* is missing from the database"):
        await audit(ledger, signer)


async def test_an_edited_signer_history(factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    lines = signer.history_path.read_text().splitlines(keepends=True)
    signer.history_path.write_text(lines[-1])  # the checkpoint of size 5 forgotten
    with pytest.raises(AuditError, match="the history was edited or truncated"):
        await audit(ledger, signer)


async def test_a_deleted_signer_state(factory: Factory, ledger: Ledger, signer: LogSigner) -> None:
    await build(factory, ledger, signer)
    signer.state_path.unlink()
    with pytest.raises(AuditError, match="the signer's state was deleted"):
        await audit(ledger, signer)


async def test_checkpoints_other_hosts_signed_with_the_shared_key_verify(
    factory: Factory, ledger: Ledger, signer: LogSigner, tmp_path: Path
) -> None:
    """Several hosts sign one log with one key, each remembering its own checkpoints: each verifies the whole log."""
    other = tmp_path / "other-host"
    other.mkdir()
    elsewhere = LogSigner(signer.origin, signer.skey, other / "log-state")
    depot = await factory.depot()
    await factory.location(depot, "Room 0")
    await ledger.checkpoint(signer)
    await factory.location(depot, "Room 1")
    await ledger.checkpoint(elsewhere)
    await factory.location(depot, "Room 2")
    await ledger.checkpoint(signer)
    assert len(signer.signed_history()) == 2
    assert len(elsewhere.signed_history()) == 1
    for host in (signer, elsewhere):
        assert (await audit(ledger, host)).checkpoints == 3


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
