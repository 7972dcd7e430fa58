"""A 30,000-item destruction event end to end on SQLite: manifest, site verification, completion, certificate.

Run: ``.venv/bin/python -m bench.destruction`` (``--quick``: 3,000 items).
Goal (issue "Witnessed destruction"): adding to the manifest, verifying every
item, completing and producing the certificate in under 30 s in all. Site
verification is timed as handheld scanners upload their stored scans (500 a
request, the scan path's service call); single scans, one transaction each as
the scan page makes them, are timed on a sample and reported per scan.
Setting up the stock (intake, surplus, approval) is timed apart, not counted.
One weapon in ten was found (the rest is surplus), so the approval checks every
line against the tracing rule: it is timed refused while the found weapons are
not traced (shown apart, not counted), and again once they are excepted.
It is also the scale check: it exits 1 when the certificate does not name every weapon.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.figures import figure
from bench.ledger_store import in_thread
from caliber import migrate
from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import Database, create_engine
from caliber.depots.models import DepotKind
from caliber.depots.schemas import NewDepot
from caliber.depots.service import DepotService
from caliber.destruction.certificate import LedgerReference, certificate_bytes, certificate_pdf, statement
from caliber.destruction.models import Method, Stage
from caliber.destruction.schemas import AttestationInput, Completion, ManifestChange, NewDestruction, ResidueCheck, Verification
from caliber.destruction.service import DestructionService
from caliber.domains import registry
from caliber.errors import Conflict
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.models import UnType
from caliber.items.schemas import NewItem, StatusChange
from caliber.items.service import ItemService
from caliber.ledger.store import Ledger
from caliber.tracing.lifecycle import ExceptionReason
from caliber.tracing.schemas import TraceExceptionIn
from caliber.tracing.service import TracingService

GOAL_SECONDS = 30.0
FOUND_EVERY = 10
"""One weapon in this many was found rather than declared surplus: tracing holds its destruction back."""
SCAN_BATCH = 500
PNG = bytes.fromhex("89504e470d0a1a0a") + bytes(64)


def person(name: str, role: Role, depot: uuid.UUID | None = None) -> Actor:
    """Someone with an account (an id), as the pages would pass them."""
    return Actor(uuid.uuid4(), name, name.title(), role, frozenset({depot} if depot else ()))


async def stock(items: ItemService, inventory: DepotService, admin: Actor, count: int) -> tuple[uuid.UUID, list[str]]:
    """``count`` weapons taken in, declared surplus and approved for destruction."""
    depot = await inventory.create_depot(admin, NewDepot("RS-BENCH", "Bench depot", DepotKind.ARMY_DEPOT, "RS"))
    codes: list[str] = []
    for start in range(0, count, 1000):
        batch = [
            NewItem(
                depot_id=depot.id,
                manufacturer="Zastava",
                model="M70AB2",
                calibre="7.62x39mm",
                serial=f"B{n:07d}",
                un_type=UnType.ASSAULT_RIFLE,
                intake_source=IntakeSource.FOUND if n % FOUND_EVERY == 0 else IntakeSource.SURPLUS,
            )
            for n in range(start, min(start + 1000, count))
        ]
        codes += [item.code for item in await items.register_items(admin, batch)]
    for start in range(0, count, 5000):
        chunk = codes[start : start + 5000]
        for action in (Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION):
            await items.change_status_many(admin, "item", chunk, StatusChange(action, "surplus to needs"))
    return depot.id, codes


async def approval(destructions: DestructionService, manager: Actor, event_id: uuid.UUID) -> float:
    """Refused while the found weapons are not traced (timed, not counted), approved once they are excepted: the seconds of
    the approval itself."""
    refused = await refused_approval(destructions, manager, event_id)
    figure("destruction", "an approval refused for untraced weapons", refused, "s")
    began = time.perf_counter()
    excepted = await except_found(destructions, manager, event_id)
    print(f"set-up: {excepted:,} found weapons excepted from tracing in {time.perf_counter() - began:.1f} s (not counted)")
    began = time.perf_counter()
    await destructions.approve(manager, event_id)
    return time.perf_counter() - began


async def refused_approval(destructions: DestructionService, manager: Actor, event_id: uuid.UUID) -> float:
    """Seconds the approval takes to be refused while found weapons are not traced (printed, not counted)."""
    began = time.perf_counter()
    try:
        await destructions.approve(manager, event_id)
    except Conflict as exc:
        seconds = time.perf_counter() - began
        print(f"  approval refused in {seconds:.2f} s: {exc.message[:90]}...")
        return seconds
    raise SystemExit("the approval was not refused: the found weapons are not traced")


async def except_found(destructions: DestructionService, manager: Actor, event_id: uuid.UUID) -> int:
    """Except every weapon the approval waits for, as a manager would, one by one through the tracing service."""
    tracing = TracingService(destructions.ledger, dt.UTC)
    reason = TraceExceptionIn(ExceptionReason.UNDUE_DELAY, "tracing would unduly delay the destruction")
    done = 0
    while waiting := (await destructions.get(manager, event_id)).untraced.first:
        for code, _ in waiting:
            await tracing.record_exception(manager, code, reason)
        done += len(waiting)
    return done


async def single_scans(destructions: DestructionService, witness: Actor, event_id: uuid.UUID, codes: list[str]) -> list[float]:
    """Seconds each scan takes as the scan page makes it: one code, one transaction."""
    times = []
    for code in codes:
        began = time.perf_counter()
        await destructions.verify(witness, event_id, Verification([code]))
        times.append(time.perf_counter() - began)
    return times


async def day(url: str, count: int, samples: int) -> None:
    """Run the event and print each step's time."""
    db = Database(create_engine(url))
    ledger = Ledger(db, "bench.example/ledger", registry())
    items = ItemService(ledger, Path(tempfile.mkdtemp()) / "photos")
    destructions = DestructionService(ledger, items, Path(tempfile.mkdtemp()) / "photos")
    admin = person("admin", Role.ADMIN)
    witnesses = [person("witness one", Role.WITNESS), person("witness two", Role.WITNESS)]
    try:
        start = time.perf_counter()
        depot_id, codes = await stock(items, DepotService(ledger), admin, count)
        print(f"set-up: {count:,} weapons taken in and approved for destruction in {time.perf_counter() - start:.1f} s (not counted)")
        steps: dict[str, float] = {}
        manager, clerk = person("manager", Role.DEPOT_MANAGER, depot_id), person("clerk", Role.DEPOT_CLERK, depot_id)

        async def step(name: str, work: object) -> object:
            began = time.perf_counter()
            result = await work  # type: ignore[misc]
            steps[name] = time.perf_counter() - began
            return result

        plan = NewDestruction(depot_id, "Foundry", dt.date.today(), [Method.SMELTING], "Decision 1/26", dt.date.today(), "Ministry")
        event = await destructions.plan(clerk, plan)
        await step("add to the manifest", destructions.change_manifest(clerk, event.id, ManifestChange(add=codes[samples:])))
        await destructions.change_manifest(clerk, event.id, ManifestChange(add=codes[:samples]))
        steps["approve (every line checked for tracing)"] = await approval(destructions, manager, event.id)
        single = await single_scans(destructions, witnesses[0], event.id, codes[:samples])

        async def verify_rest() -> None:
            for start in range(samples, count, SCAN_BATCH):
                await destructions.verify(witnesses[0], event.id, Verification(codes[start : start + SCAN_BATCH]))

        await step(f"verify {count - samples:,} scans ({SCAN_BATCH} an upload)", verify_rest())

        async def witness_and_complete() -> None:
            digest = await destructions.current_sha256(manager, event.id, Stage.BEFORE)
            for witness in witnesses:
                await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
            for stage in (Stage.BEFORE, Stage.AFTER):
                await destructions.add_photo(clerk, event.id, stage, PNG + stage.value.encode(), "image/png")
            now = dt.datetime.now(dt.UTC)
            ended = now + dt.timedelta(milliseconds=1)
            completion = Completion([Method.SMELTING], started_at=now, ended_at=ended)  # after the attestations
            await destructions.complete(witnesses[0], event.id, completion)

        await step("attest and complete", witness_and_complete())

        async def certify() -> bytes:
            await destructions.check_residue(witnesses[1], event.id, ResidueCheck("frames and receivers melted"))
            digest = await destructions.current_sha256(manager, event.id, Stage.AFTER)
            for witness in witnesses:
                await destructions.attest(witness, event.id, AttestationInput(Stage.AFTER, digest))
            await destructions.certify(manager, event.id)
            async with db.read() as session:
                content = await statement(session, event.id)
            certificate_bytes(content)
            check_certificate(content, codes)
            reference = LedgerReference(ledger.origin, 0, await ledger.size(), "", [])
            return certificate_pdf(content, reference, f"https://caliber.example.gov/certificates/{event.code}")

        pdf = await step("residue, attest, certify, certificate PDF", certify())
        report(steps, single, count, len(pdf), await ledger.size())
    finally:
        await db.dispose()


def check_certificate(content: dict[str, object], codes: list[str]) -> None:
    """The scale check: the certificate names every weapon of the manifest, once, and counts them all (else exit 1)."""
    weapons = content["weapons"]
    assert isinstance(weapons, list)
    named = [w["code"] for w in weapons]
    counts = content["counts"]
    assert isinstance(counts, dict)
    if sorted(named) != sorted(codes) or sum(counts["weapons_by_type"].values()) != len(codes):
        raise SystemExit(f"the certificate names {len(set(named)):,} of the {len(codes):,} weapons destroyed")


def report(steps: dict[str, float], single: list[float], count: int, pdf_bytes: int, entries: int) -> None:
    """Print each step, the total against the goal, and single scans."""
    total = sum(steps.values())
    for name, seconds in steps.items():
        print(f"  {name:<45} {seconds:7.2f} s")
    print(f"  {'in all':<45} {total:7.2f} s   goal < {GOAL_SECONDS:.0f} s   ratio to goal {total / GOAL_SECONDS:.2f}")
    median = statistics.median(single) * 1000
    print(
        f"  single scans (one transaction each): median {median:.1f} ms; {count:,} of them would take "
        f"{median * count / 1000:.0f} s of scanning (several scanners share it)"
    )
    print(f"  certificate: {pdf_bytes / 1024:.0f} KiB, ledger {entries:,} entries")
    goal = f"< {GOAL_SECONDS * count / 30_000:g} s"
    figure(
        "destruction",
        f"destruction of {count:,} weapons, in all",
        total,
        "s",
        ratio=total / (GOAL_SECONDS * count / 30_000),
        goal=goal,
        met=total < GOAL_SECONDS * count / 30_000,
    )
    figure("destruction", "a single scan (one transaction)", median, "ms")


def main() -> None:
    """Measure on a fresh SQLite file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3,000 items")
    parser.add_argument("--items", type=int, default=30_000)
    args = parser.parse_args()
    count = 3_000 if args.quick else args.items
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        in_thread(migrate.upgrade, url)
        print(f"Destruction of {count:,} weapons on SQLite (WAL, synchronous=FULL)")
        asyncio.run(day(url, count, samples=100))


if __name__ == "__main__":
    main()
