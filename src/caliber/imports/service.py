"""Uploaded import files: stored under their SHA-256, checked, then imported in the background with progress.

The file and its check report live in the data dir (``imports/``), so any app
process can show them; progress is counted from the ``import_row`` table, so
it is right whichever process runs the import and after a restart (a stopped
import is started again and resumes at its first uncommitted batch).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from caliber.accounts.actor import Actor
from caliber.errors import CaliberError, Conflict, InvalidInput, NotFound
from caliber.imports.importer import Importer, ImportReport, RowError
from caliber.imports.models import ImportRow
from caliber.items.access import DEPOT_STAFF
from caliber.items.service import ItemService

__all__ = ["MAX_UPLOAD_BYTES", "ImportJobs", "ImportStatus"]

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportStatus:
    """Where an uploaded file stands."""

    sha256: str
    filename: str
    depot: str
    rows: int
    valid: int
    error_count: int
    errors: list[RowError]
    imported: int
    running: bool
    failure: str | None

    @property
    def done(self) -> bool:
        """Every valid row is in."""
        return self.valid > 0 and self.imported >= self.valid


class ImportJobs:
    """Receives, checks and runs imports for the web pages and the API."""

    def __init__(self, items: ItemService, folder: Path, *, imported: Callable[[list[str]], Awaitable[object]] | None = None) -> None:
        """``imported`` is called with the label codes of a finished import (to make their labels ahead)."""
        self.importer = Importer(items)
        self.items = items
        self.db = items.db
        self.folder = folder
        self.imported = imported
        self._tasks: dict[str, asyncio.Task[ImportReport]] = {}
        self._failures: dict[str, str] = {}

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFound("no such import")
        return self.folder / sha256

    async def receive(self, actor: Actor, depot_code: str, filename: str, chunks: AsyncIterator[bytes]) -> ImportStatus:
        """Store an upload under its SHA-256 and check every row (nothing is imported yet)."""
        actor.require_role(*DEPOT_STAFF)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"upload-{id(chunks)}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise InvalidInput(f"files are limited to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", field="file")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise InvalidInput("the file is empty", field="file")
            path = self.folder / digest.hexdigest()
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        depot = (await self.importer.depot_for(actor, depot_code)).code
        earlier = path.with_suffix(".json")
        if earlier.exists() and json.loads(earlier.read_text())["depot"] != depot and await self._imported(path.name):
            raise Conflict(f"this file was imported into depot {json.loads(earlier.read_text())['depot']}: its rows are there already")
        report = await self.importer.check(actor, path, depot_code)
        meta = {"filename": filename[-200:], "depot": depot_code.strip().upper(), "report": _report_json(report)}
        path.with_suffix(".json").write_text(json.dumps(meta))
        return await self.status(actor, report.sha256)

    async def status(self, actor: Actor, sha256: str) -> ImportStatus:
        """The check report of an upload, and how far its import has come."""
        actor.require_role(*DEPOT_STAFF)
        meta = self._meta(sha256)
        await self.importer.depot_for(actor, meta["depot"])  # the depot must be in the actor's scope
        imported = await self._imported(sha256)
        report = meta["report"]
        task = self._tasks.get(sha256)
        return ImportStatus(
            sha256=sha256,
            filename=meta["filename"],
            depot=meta["depot"],
            rows=report["rows"],
            valid=report["valid"],
            error_count=report["error_count"],
            errors=[RowError(**e) for e in report["errors"]],
            imported=imported,
            running=task is not None and not task.done(),
            failure=self._failures.get(sha256),
        )

    async def start(self, actor: Actor, sha256: str, *, valid_only: bool) -> ImportStatus:
        """Import the file's valid rows in the background of this process."""
        status = await self.status(actor, sha256)
        if status.running:
            raise Conflict("this file is being imported already")
        if status.error_count and not valid_only:
            raise InvalidInput(f"{status.error_count} row(s) have errors: fix the file, or choose to import only the valid rows")
        if status.valid == 0:
            raise InvalidInput("the file has no valid rows to import")
        checked = ImportReport(sha256, status.rows, status.valid, [], status.error_count)
        self._failures.pop(sha256, None)
        task = asyncio.create_task(self._run(actor, sha256, status.depot, valid_only, checked), name=f"import {sha256[:12]}")
        self._tasks[sha256] = task
        task.add_done_callback(lambda done: self._finished(sha256, done))
        return dataclasses.replace(status, running=True)

    async def _run(self, actor: Actor, sha256: str, depot: str, valid_only: bool, checked: ImportReport) -> ImportReport:
        report = await self.importer.run(actor, self._path(sha256), depot, valid_only=valid_only, checked=checked)
        if self.imported is not None:
            await self.imported(await self.items.import_codes(sha256))
        return report

    def _finished(self, sha256: str, task: asyncio.Task[ImportReport]) -> None:
        if task.cancelled():
            self._failures[sha256] = "the import was stopped; start it again to resume"
        elif (exc := task.exception()) is not None:
            self._failures[sha256] = exc.message if isinstance(exc, CaliberError) else f"the import stopped: {exc}"
            if not isinstance(exc, CaliberError):
                log.error("import %s failed", sha256, exc_info=exc)

    async def wait(self) -> None:
        """Until every import this process started has ended."""
        running = [task for task in self._tasks.values() if not task.done()]
        if running:
            await asyncio.wait(running)

    async def shutdown(self) -> None:
        """Stop running imports (whole batches stay; a new start resumes)."""
        for task in self._tasks.values():
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks.values())

    async def _imported(self, sha256: str) -> int:
        async with self.db.read() as session:
            query = select(func.count()).select_from(ImportRow).where(ImportRow.file_sha256 == sha256)
            return int(await session.scalar(query) or 0)

    def _meta(self, sha256: str) -> dict[str, Any]:
        path = self._path(sha256).with_suffix(".json")
        if not path.exists():
            raise NotFound("no such import: upload the file again")
        return json.loads(path.read_text())  # type: ignore[no-any-return]


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "valid": report.valid,
        "error_count": report.error_count,
        "errors": [dataclasses.asdict(e) for e in report.errors],
    }
