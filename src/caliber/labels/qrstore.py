"""QR matrices made ahead and kept by content, so a print job reads them instead of computing them.

A QR costs milliseconds to make (choosing its mask) and never changes for the
same text, so matrices are made off the request path when records come in
(after an import, for instance) and kept in ``label_qr``, shared by every
process. Whatever a print job finds missing is made then: in worker
processes, one a CPU, when there are many (a first print of a large batch),
otherwise in a worker thread; either way off the event loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from caliber.db import Database
from caliber.labels.models import QrMatrix
from caliber.labels.qr import Matrix, matrices, pack, unpack

__all__ = ["QrStore"]

CHUNK = 500
PARALLEL_FROM = 200
"""Below this many missing matrices, starting work in other processes costs more than it saves."""

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _discard_workers() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def _made(texts: list[str]) -> dict[str, Matrix]:
    """The matrices of ``texts``, made off the event loop (in parallel when there are many)."""
    cpus = os.cpu_count() or 1
    if len(texts) < PARALLEL_FROM or cpus < 2:
        return await anyio.to_thread.run_sync(matrices, texts)
    loop = asyncio.get_running_loop()
    parts = [texts[n::cpus] for n in range(cpus)]
    try:
        done = await asyncio.gather(*(loop.run_in_executor(_workers(), matrices, part) for part in parts))
    except BrokenProcessPool:  # workers could not start (a main module they cannot import): do without
        _discard_workers()
        return await anyio.to_thread.run_sync(matrices, texts)
    made: dict[str, Matrix] = {}
    for part in done:
        made.update(part)
    return made


class QrStore:
    """Read, make and keep QR matrices by the text they encode."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def matrices(self, texts: Iterable[str]) -> dict[str, Matrix]:
        """The matrix of every text: read where kept, otherwise made and kept."""
        wanted = list(dict.fromkeys(texts))
        found: dict[str, Matrix] = {}
        async with self.db.read() as session:
            for start in range(0, len(wanted), CHUNK):
                query = select(QrMatrix.text, QrMatrix.modules).where(QrMatrix.text.in_(wanted[start : start + CHUNK]))
                found.update((text, unpack(packed)) for text, packed in (await session.execute(query)).all())
        missing = [text for text in wanted if text not in found]
        if missing:
            made = await _made(missing)
            await self._keep(made)
            found.update(made)
        return found

    async def prepare(self, texts: Iterable[str]) -> int:
        """Make and keep the matrices not kept yet (for background work); how many were made."""
        wanted = list(dict.fromkeys(texts))
        made = 0
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            async with self.db.read() as session:
                kept = set(await session.scalars(select(QrMatrix.text).where(QrMatrix.text.in_(chunk))))
            missing = [text for text in chunk if text not in kept]
            if missing:
                await self._keep(await anyio.to_thread.run_sync(matrices, missing))
                made += len(missing)
        return made

    async def _keep(self, made: dict[str, Matrix]) -> None:
        rows: list[dict[str, Any]] = [{"text": text, "modules": pack(modules)} for text, modules in made.items()]
        insert = sqlite_insert if self.db.is_sqlite else postgres_insert
        for start in range(0, len(rows), CHUNK):
            async with self.db.write() as session:
                await session.execute(insert(QrMatrix).on_conflict_do_nothing(index_elements=["text"]), rows[start : start + CHUNK])
