"""A separate process that appends custody events, for the concurrency and crash tests.

``python -m tests.ledger.writer URL ORIGIN PROCESS TASKS EVENTS`` registers
TASKS x EVENTS depots from TASKS concurrent tasks. With ``--hang-after-append``
it appends one event, prints ``appended`` and waits inside the open
transaction, to be killed before the commit.
"""

from __future__ import annotations

import asyncio
import sys

from caliber.accounts.actor import Actor
from caliber.db import Database, create_engine
from caliber.depots.models import DepotKind
from caliber.depots.schemas import NewDepot
from caliber.depots.service import DepotService
from caliber.domains import registry
from caliber.ledger import store
from caliber.ledger.store import Ledger

OPERATOR = Actor.operator("writer")


async def write(url: str, origin: str, process: int, tasks: int, events: int) -> None:
    db = Database(create_engine(url, pool_size=tasks) if url.startswith("postgresql") else create_engine(url))
    inventory = DepotService(Ledger(db, origin, registry()))

    async def task(number: int) -> None:
        for n in range(events):
            await inventory.create_depot(OPERATOR, NewDepot(f"P{process}-T{number}-{n}", "Concurrent", DepotKind.ARMY_DEPOT, "RS"))

    try:
        await asyncio.gather(*(task(t) for t in range(tasks)))
    finally:
        await db.dispose()


async def hang_after_append(url: str, origin: str) -> None:
    original = store._append

    async def append_then_hang(*args: object, **kwargs: object) -> list[store.Entry]:
        entries = await original(*args, **kwargs)  # type: ignore[arg-type]
        print("appended", flush=True)
        await asyncio.sleep(3600)
        return entries

    store._append = append_then_hang  # type: ignore[assignment]
    db = Database(create_engine(url))
    await DepotService(Ledger(db, origin, registry())).create_depot(
        OPERATOR, NewDepot("CRASH-1", "Never committed", DepotKind.ARMY_DEPOT, "RS")
    )


if __name__ == "__main__":
    if sys.argv[1] == "--hang-after-append":
        asyncio.run(hang_after_append(sys.argv[2], sys.argv[3]))
    else:
        url, origin, process, tasks, events = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
        asyncio.run(write(url, origin, process, tasks, events))
