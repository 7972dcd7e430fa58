"""``caliber backup`` and ``caliber restore``, run as an operator would: a consistent copy, a verified restore, and no fork."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import shutil
import sqlite3
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, POSTGRES_URL, admin_sql, run_sync
from tests.test_cli import caliber

PASSWORD = "a long enough password\n"


def _env(folder: Path, database_url: str = "") -> dict[str, str]:
    return {"CALIBER_DATA_DIR": str(folder), **({"CALIBER_DATABASE_URL": database_url} if database_url else {})}


def _ok(*args: str, env: dict[str, str]) -> str:
    done = caliber(*args, env=env, stdin=PASSWORD)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _photos(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in (folder / "photos").rglob("*") if path.is_file()}


def test_a_backup_restores_into_a_new_data_dir_verifies_and_cannot_be_extended_into_a_fork(tmp_path: Path) -> None:
    live, elsewhere = tmp_path / "live", tmp_path / "elsewhere"
    _ok("demo", "--no-serve", "--scale", "0.02", env=_env(live))
    _ok("ledger", "verify", env=_env(live))  # the signer signs the tree as it stands
    backup = tmp_path / "caliber.backup"
    written = _ok("backup", str(backup), env=_env(live))
    assert "ledger tree size" in written
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds the keys
    with tarfile.open(backup) as archive:
        names = set(archive.getnames())
    assert {"MANIFEST.json", "caliber.db", "files/secret_key", "files/log-key", "files/log-state"} <= names
    assert any(name.startswith("files/photos/") for name in names)  # the destructions' photos are evidence too

    _ok("user", "create", "later", "--role", "inspector", "--name", "After the backup", env=_env(live))
    _ok("ledger", "verify", env=_env(live))  # the signer has now signed a bigger tree

    restored = _ok("restore", str(backup), env=_env(elsewhere))
    assert "ledger OK" in restored
    _ok("ledger", "check", env=_env(elsewhere))
    users = _ok("user", "list", env=_env(elsewhere))
    assert "later" not in users
    assert "ministry" in users
    assert _photos(live) == _photos(elsewhere)

    again = caliber("restore", str(backup), env=_env(elsewhere))
    assert again.returncode == 1
    assert "restore into a data dir without a database" in again.stderr

    # the live database is lost; the old backup would go back in its place, where the signer remembers the bigger tree
    (live / "caliber.db").rename(tmp_path / "lost.db")
    before = _contents(live)
    refused = caliber("restore", str(backup), env=_env(live))
    assert refused.returncode == 1
    assert "nothing was changed" in refused.stderr
    assert "is behind the signer's last signed checkpoint" in refused.stderr
    assert _contents(live) == before  # no database, and the signer's state as it was
    (tmp_path / "lost.db").rename(live / "caliber.db")
    _ok("ledger", "verify", env=_env(live))


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its bytes (lock files aside)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock")}


def _rewritten(backup: Path, target: Path, change: Callable[[str, bytes], bytes]) -> None:
    """A copy of ``backup`` whose members ``change`` rewrites, with a manifest that lists their new SHA-256."""
    with tarfile.open(backup) as source:
        members = {info.name: (info, source.extractfile(info).read()) for info in source.getmembers()}  # type: ignore[union-attr]
    bodies = {name: change(name, body) for name, (_info, body) in members.items() if name != "MANIFEST.json"}
    manifest = json.loads(members["MANIFEST.json"][1])
    manifest["members"] = {name: hashlib.sha256(body).hexdigest() for name, body in bodies.items()}
    bodies["MANIFEST.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w") as archive:
        for name, (info, _body) in members.items():
            info.size = len(bodies[name])
            archive.addfile(info, io.BytesIO(bodies[name]))


def _tampered_database(name: str, body: bytes) -> bytes:
    """The SQLite member with one entry's bytes changed (its manifest hash made to match)."""
    if name != "caliber.db":
        return body
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copy.db"
        path.write_bytes(body)
        with sqlite3.connect(path) as connection:
            data = connection.execute("SELECT data FROM ledger_entry WHERE idx = 1").fetchone()[0]
            connection.execute("UPDATE ledger_entry SET data = ? WHERE idx = 1", (data.replace(b'"name":"', b'"name":"X', 1),))
        connection.close()
        return path.read_bytes()


def test_a_backup_whose_ledger_does_not_verify_leaves_the_data_dir_as_it_was(tmp_path: Path) -> None:
    live, fresh = tmp_path / "live", tmp_path / "fresh"
    _ok("user", "create", "ana", "--role", "admin", "--name", "Ana", env=_env(live))
    _ok("user", "create", "ben", "--role", "inspector", "--name", "Ben", env=_env(live))
    backup, tampered = tmp_path / "caliber.backup", tmp_path / "tampered.backup"
    _ok("backup", str(backup), env=_env(live))
    _rewritten(backup, tampered, _tampered_database)
    refused = caliber("restore", str(tampered), env=_env(fresh))
    assert refused.returncode == 1
    assert "restore refused (nothing was changed): the backup's ledger does not verify" in refused.stderr
    assert not fresh.exists()  # not even a data dir
    fresh.mkdir()
    (fresh / "notes.txt").write_text("kept")
    refused = caliber("restore", str(tampered), env=_env(fresh))
    assert refused.returncode == 1
    assert _contents(fresh) == {"notes.txt": b"kept"}
    _ok("restore", str(backup), env=_env(fresh))
    assert "ben" in _ok("user", "list", env=_env(fresh))


def test_a_damaged_or_foreign_backup_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    live = tmp_path / "live"
    _ok("user", "create", "ana", "--role", "admin", "--name", "Ana", env=_env(live))
    backup = tmp_path / "caliber.backup"
    _ok("backup", str(backup), env=_env(live))
    assert caliber("backup", str(backup), env=_env(live)).returncode == 1  # never overwrites

    damaged = tmp_path / "damaged.backup"
    with tarfile.open(backup) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name == "files/secret_key":
                body = body[:-2] + b"xx"
            member.size = len(body)
            target.addfile(member, io.BytesIO(body))
    fresh = tmp_path / "fresh"
    refused = caliber("restore", str(damaged), env=_env(fresh))
    assert refused.returncode == 1
    assert "does not match the manifest" in refused.stderr
    assert not (fresh / "caliber.db").exists()

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    refused = caliber("restore", str(not_a_backup), env=_env(fresh))
    assert refused.returncode == 1
    assert "is not a Caliber backup" in refused.stderr
    assert not (fresh / "caliber.db").exists()


@pytest.fixture
def postgres_pair() -> Iterator[tuple[str, str]]:
    """Two new PostgreSQL databases (asyncpg URLs): the first migrated, the second empty; dropped afterwards."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but CALIBER_TEST_POSTGRES_URL is not set")
        pytest.skip("CALIBER_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    names = [f"caliber_backup_{secrets.token_hex(4)}" for _ in range(2)]
    for name in names:
        run_sync(admin_sql(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        for name in names:
            run_sync(admin_sql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_on_postgresql_a_pg_dump_backup_restores_into_an_empty_database(tmp_path: Path, postgres_pair: tuple[str, str]) -> None:
    if shutil.which("pg_dump") is None and not IN_CI:
        pytest.skip("pg_dump is not installed")
    source, target = postgres_pair
    live = _env(tmp_path / "live", source)
    _ok("db", "upgrade", env=live)
    _ok("demo", "--no-serve", "--scale", "0.02", env=live)
    backup = tmp_path / "caliber.backup"
    written = _ok("backup", str(backup), env=live)
    assert "postgresql database" in written
    with tarfile.open(backup) as archive:
        assert "caliber.pgdump" in archive.getnames()

    elsewhere = _env(tmp_path / "elsewhere", target)
    restored = _ok("restore", str(backup), env=elsewhere)
    assert "ledger OK" in restored
    _ok("ledger", "check", env=elsewhere)
    assert "ministry" in _ok("user", "list", env=elsewhere)
    again = caliber("restore", str(backup), env=elsewhere)
    assert again.returncode == 1
    assert "restore into an empty database" in again.stderr


def test_on_postgresql_a_restore_that_fails_its_check_drops_what_it_restored(tmp_path: Path, postgres_pair: tuple[str, str]) -> None:
    if shutil.which("pg_dump") is None and not IN_CI:
        pytest.skip("pg_dump is not installed")
    source, target = postgres_pair
    live = _env(tmp_path / "live", source)
    _ok("db", "upgrade", env=live)
    _ok("user", "create", "ana", "--role", "admin", "--name", "Ana", env=live)
    _ok("ledger", "verify", env=live)
    backup = tmp_path / "caliber.backup"
    _ok("backup", str(backup), env=live)
    _ok("user", "create", "ben", "--role", "inspector", "--name", "Ben", env=live)
    _ok("ledger", "verify", env=live)  # this host's signer has signed the bigger tree
    before = _contents(tmp_path / "live")
    rolled_back = _env(tmp_path / "live", target)  # the same host, an empty database: the old backup would roll the log back
    refused = caliber("restore", str(backup), env=rolled_back)
    assert refused.returncode == 1, refused.stdout
    assert "is behind the signer's last signed checkpoint" in refused.stderr
    assert _contents(tmp_path / "live") == before
    assert _tables_in(target) == 0
    elsewhere = _env(tmp_path / "elsewhere", target)
    assert "ledger OK" in _ok("restore", str(backup), env=elsewhere)  # the check dropped it all: the target is empty again


def _tables_in(url: str) -> int:
    import asyncio

    import asyncpg

    async def count() -> int:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            return int(await connection.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
        finally:
            await connection.close()

    return asyncio.run(count())
