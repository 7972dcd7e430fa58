"""Backups of a deployment while it runs, and restoring one into a data dir that has no database yet.

A backup is one tar file:

- ``MANIFEST.json``: the format, when it was made, the database kind and
  schema revision, the ledger's tree size and root in the copy, and the
  SHA-256 of every other member;
- the database: ``caliber.db``, a consistent copy made with SQLite's online
  backup while the server runs, or ``caliber.pgdump``, ``pg_dump
  --format=custom`` of one snapshot (the snapshot the tree size was read in);
- the data dir's files: the session secret, the log's signer key and state,
  photos, the KPI file and the rest (never the database's own files, locks or
  temporary files).

Restoring checks every member against the manifest before writing anything,
refuses a data dir that has a database already, and keeps the signer's state
when the data dir has one: the signer remembers the newest tree it signed, so
a ledger restored from an older backup cannot be extended into a fork that the
same key would sign. The restored copy is verified before it takes its place
(SQLite: in a staging folder of the data dir; PostgreSQL: in the empty target,
whose restored tables are dropped again when the check fails), so a restore
that fails leaves the data dir and the database as they were.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from caliber.config import Settings
from caliber.imports.importer import file_sha256
from caliber.ledger.signer import HISTORY_FILE, KEY_FILE, STATE_FILE

if TYPE_CHECKING:
    import asyncpg

__all__ = ["BackupError", "Manifest", "make_backup", "restore_backup"]

FORMAT = 1
MANIFEST = "MANIFEST.json"
SQLITE_MEMBER = "caliber.db"
PG_MEMBER = "caliber.pgdump"
FILES = "files/"
SKIPPED_SUFFIXES = (".lock", ".tmp", "-wal", "-shm", "-journal")
Progress = Callable[[str, int, int], None]
"""Told (what, done, total) as a backup goes: the database's pages, then the files."""
Check = Callable[[Path, str, "Manifest"], None]
"""Verifies a staged restore, given its data dir, database URL and manifest; raises to refuse it (nothing is then changed)."""
SIGNER_MEMORY = (STATE_FILE, HISTORY_FILE)
"""The signer's memory of what it signed: a data dir keeps its own over a backup's."""


class BackupError(RuntimeError):
    """A backup cannot be made or restored: the message says what is wrong."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds."""

    created_at: str
    database: str
    revision: str | None
    tree_size: int
    root: str
    members: dict[str, str]
    """Member name -> SHA-256 (hex)."""

    def to_json(self) -> bytes:
        """The manifest as the archive stores it."""
        body = {"format": FORMAT, **self.__dict__}
        return json.dumps(body, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """A manifest read from an archive."""
        body = json.loads(raw)
        if body.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {body.get('format')!r}: this version reads format {FORMAT}")
        return cls(body["created_at"], body["database"], body["revision"], body["tree_size"], body["root"], body["members"])


def make_backup(settings: Settings, target: Path, progress: Progress | None = None) -> Manifest:
    """Write a backup of the deployment of ``settings`` to ``target`` (a new file), while the server may be running."""
    if target.exists():
        raise BackupError(f"{target} exists already: a backup never overwrites a file")
    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        work = Path(folder)
        if settings.is_sqlite:
            member, copy = SQLITE_MEMBER, work / SQLITE_MEMBER
            revision, size, root = _sqlite_copy(_sqlite_path(settings), copy, progress)
        else:
            member, copy = PG_MEMBER, work / PG_MEMBER
            revision, size, root = _pg_dump(settings.database_url, copy)
        files = [path for path in sorted(settings.data_dir.rglob("*")) if _kept(path, settings, target)]
        members = {member: file_sha256(copy)} | {FILES + _relative(path, settings): file_sha256(path) for path in files}
        manifest = Manifest(
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "sqlite" if settings.is_sqlite else "postgresql",
            revision,
            size,
            base64.b64encode(root).decode(),
            members,
        )
        partial = work / "backup.tar"
        with tarfile.open(partial, "w") as archive:
            _add_bytes(archive, MANIFEST, manifest.to_json())
            archive.add(copy, member)
            for n, path in enumerate(files, 1):
                archive.add(path, FILES + _relative(path, settings), recursive=False)
                if progress is not None:
                    progress("files", n, len(files))
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(partial, 0o600)  # it holds the keys
        os.replace(partial, target)
    return manifest


def restore_backup(settings: Settings, source: Path, check: Check | None = None) -> Manifest:
    """Restore the backup ``source`` into the data dir and database of ``settings``, which must have no database yet.

    ``check`` verifies the restored copy before it takes its place; if it raises, nothing is changed.
    """
    with _open(source) as archive:
        manifest = _manifest(archive, source)
        expected = "sqlite" if settings.is_sqlite else "postgresql"
        if manifest.database != expected:
            raise BackupError(f"{source} is a backup of a {manifest.database} database; CALIBER_DATABASE_URL is {expected}")
        _refuse_a_database(settings)
        created = not settings.data_dir.exists()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with tempfile.TemporaryDirectory(dir=settings.data_dir) as folder:  # "tmp…": never in a backup
                _restore_staged(settings, archive, manifest, Path(folder), check)
        except BaseException:
            if created:
                shutil.rmtree(settings.data_dir, ignore_errors=True)
            raise
    return manifest


def _restore_staged(settings: Settings, archive: tarfile.TarFile, manifest: Manifest, staged: Path, check: Check | None) -> None:
    """Extract into ``staged``, restore the database there (SQLite) or into the empty target, check, then move into place."""
    _extract_checked(archive, manifest, staged)
    _refuse_another_log(settings, staged)
    files = staged / FILES
    files.mkdir(exist_ok=True)
    for name in SIGNER_MEMORY:  # checked against, and moved forward from, the signer state this data dir has
        if (settings.data_dir / STATE_FILE).exists():
            (files / name).unlink(missing_ok=True)
            if (settings.data_dir / name).exists():
                shutil.copy2(settings.data_dir / name, files / name)
    if settings.is_sqlite:
        database = files / _sqlite_path(settings).name
        os.replace(staged / SQLITE_MEMBER, database)
        if check is not None:
            check(files, f"sqlite+aiosqlite:///{database}", manifest)
        for suffix in ("", "-wal", "-shm"):
            if (moved := database.with_name(database.name + suffix)).exists():
                os.replace(moved, _sqlite_path(settings).with_name(moved.name))
    else:
        before = _pg_objects(settings.database_url)
        _pg_restore(settings.database_url, staged / PG_MEMBER)
        try:
            if check is not None:
                check(files, settings.database_url, manifest)
        except BaseException:
            _pg_drop_restored(settings.database_url, before)
            raise
    _move_files(files, settings.data_dir)


def _move_files(files: Path, data_dir: Path) -> None:
    """Every staged file into the data dir (the signer's state there is the one checked, and only ever moved forward)."""
    for path in sorted(files.rglob("*")):
        destination = data_dir / path.relative_to(files)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif path.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination)


def _open(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{source} is not a Caliber backup: {exc}") from exc


# -- SQLite ---------------------------------------------------------------------------------------


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.split(":///", 1)[1])


def _sqlite_copy(source: Path, copy: Path, progress: Progress | None) -> tuple[str | None, int, bytes]:
    """SQLite's online backup of ``source`` into ``copy`` (consistent while writers run), and what the copy holds."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    live = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress("database pages", total - remaining, total)

        live.backup(target, pages=4096, progress=step)
    finally:
        live.close()
    try:
        return _sqlite_facts(target)
    finally:
        target.close()


def _sqlite_facts(connection: sqlite3.Connection) -> tuple[str | None, int, bytes]:
    revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    head = connection.execute("SELECT size, root FROM ledger_head WHERE id = 1").fetchone() or (0, b"")
    return (revision[0] if revision else None), int(head[0]), bytes(head[1])


# -- PostgreSQL -----------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _pg_dump(url: str, copy: Path) -> tuple[str | None, int, bytes]:
    """``pg_dump`` of one snapshot, exported from a transaction that reads the tree size and root in the same snapshot."""
    import asyncio

    import asyncpg

    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not on PATH: install PostgreSQL's client tools (Debian: postgresql-client)")

    async def dump() -> tuple[str | None, int, bytes]:
        connection = await asyncpg.connect(_libpq(url))
        try:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
                revision = await connection.fetchval("SELECT version_num FROM alembic_version")
                head = await connection.fetchrow("SELECT size, root FROM ledger_head WHERE id = 1")
                command = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={copy}", _libpq(url)]
                done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        finally:
            await connection.close()
        return revision, int(head["size"]) if head else 0, bytes(head["root"]) if head else b""

    return asyncio.run(dump())


def _pg_restore(url: str, dump: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not on PATH: install PostgreSQL's client tools (Debian: postgresql-client)")
    command = [
        "pg_restore",
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
        f"--dbname={_libpq(url)}",
        str(dump),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (a fixed command)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was restored): {done.stderr.strip()}")


_PUBLIC_OBJECTS = (
    "SELECT c.relkind::text AS kind, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
)
_DROP = {"r": "TABLE", "p": "TABLE", "m": "MATERIALIZED VIEW", "v": "VIEW", "S": "SEQUENCE"}
"""What to drop for each kind, tables first: CASCADE takes their sequences and views with them."""


async def _public_objects(connection: asyncpg.Connection) -> set[tuple[str, str]]:
    return {(row["kind"], row["name"]) for row in await connection.fetch(_PUBLIC_OBJECTS)}


def _pg_objects(url: str) -> set[tuple[str, str]]:
    """(kind, name) of the tables, views and sequences in the public schema."""
    import asyncio

    import asyncpg

    async def listed() -> set[tuple[str, str]]:
        connection = await asyncpg.connect(_libpq(url))
        try:
            return await _public_objects(connection)
        finally:
            await connection.close()

    return asyncio.run(listed())


def _pg_drop_restored(url: str, before: set[tuple[str, str]]) -> None:
    """Drop, in one transaction, the tables, views and sequences a restore created in the public schema."""
    import asyncio

    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(_libpq(url))
        try:
            async with connection.transaction():
                for kind, statement in _DROP.items():
                    for name in sorted(name for k, name in await _public_objects(connection) - before if k == kind):
                        await connection.execute(f'DROP {statement} IF EXISTS public."{name}" CASCADE')
        finally:
            await connection.close()

    asyncio.run(drop())


def _pg_has_tables(url: str) -> bool:
    import asyncio

    import asyncpg

    async def count() -> int:
        connection = await asyncpg.connect(_libpq(url))
        try:
            return int(await connection.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
        finally:
            await connection.close()

    return asyncio.run(count()) > 0


# -- shared ---------------------------------------------------------------------------------------


def _kept(path: Path, settings: Settings, target: Path) -> bool:
    """Whether a data dir path goes into the backup: files other than the database's own, locks and temporary files."""
    if not path.is_file() or path.is_symlink() or path.resolve() == target.resolve():
        return False
    if settings.is_sqlite and path.name.startswith(_sqlite_path(settings).name):
        return False
    return not path.name.endswith(SKIPPED_SUFFIXES) and not any(
        part.startswith("tmp") for part in path.relative_to(settings.data_dir).parts
    )


def _relative(path: Path, settings: Settings) -> str:
    return path.relative_to(settings.data_dir).as_posix()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def _manifest(archive: tarfile.TarFile, source: Path) -> Manifest:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError:
        member = None
    if member is None:
        raise BackupError(f"{source} is not a Caliber backup: it has no {MANIFEST}")
    return Manifest.from_json(member.read())


def _refuse_a_database(settings: Settings) -> None:
    if settings.is_sqlite:
        if _sqlite_path(settings).exists():
            raise BackupError(f"{_sqlite_path(settings)} exists: restore into a data dir without a database (nothing was changed)")
    elif _pg_has_tables(settings.database_url):
        raise BackupError("the database at CALIBER_DATABASE_URL has tables: restore into an empty database (nothing was changed)")


def _extract_checked(archive: tarfile.TarFile, manifest: Manifest, staged: Path) -> None:
    """Every member the manifest names, each checked against its SHA-256, into ``staged``; anything else is refused."""
    seen = set()
    for info in archive.getmembers():
        if info.name == MANIFEST:
            continue
        if info.name not in manifest.members or not info.isfile():
            raise BackupError(f"the backup holds {info.name!r}, which its manifest does not list: refused (nothing was changed)")
        archive.extract(info, staged, filter="data")
        if file_sha256(staged / info.name) != manifest.members[info.name]:
            raise BackupError(f"{info.name} does not match the manifest's SHA-256: the backup is damaged (nothing was changed)")
        seen.add(info.name)
    if missing := set(manifest.members) - seen:
        raise BackupError(f"the backup lacks {sorted(missing)[0]} and {len(missing) - 1} more: damaged (nothing was changed)")


def _refuse_another_log(settings: Settings, staged: Path) -> None:
    """A data dir that signs another log (another key with a signed state) is not the place for this backup."""
    here, there = settings.data_dir / KEY_FILE, staged / FILES / KEY_FILE
    if here.exists() and there.exists() and (settings.data_dir / STATE_FILE).exists() and here.read_bytes() != there.read_bytes():
        raise BackupError("this data dir signs another log (its log-key differs from the backup's): refused (nothing was changed)")
