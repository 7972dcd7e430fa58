"""Demo data: depots in all six jurisdictions, a user per role, a realistic stock, and destructions.

Everything is created through the domain services, as a person would: the
weapons and lots are taken in, some seized ones stay on evidence hold, some
are declared surplus or approved for destruction, one transfer is on the
road and one stock check is under way. The history runs month by month from
January 2023 on the ledger's clock, with witnessed destructions in every
jurisdiction; the latest was certified two days ago and the next is approved
and waiting for its day. This year's destruction targets are set.
Proportions follow the published figures in DOMAIN.md: Serbia and Bosnia and
Herzegovina hold most weapons, Bosnia and Herzegovina and Montenegro most
ammunition, Kosovo* collects.
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.accounts.schemas import NewUser
from caliber.accounts.service import AccountService
from caliber.depots.models import Depot, DepotKind, Location, LocationKind
from caliber.depots.schemas import NewDepot, NewLocation
from caliber.depots.service import DepotService
from caliber.destruction.models import Method, Stage
from caliber.destruction.schemas import (
    AttestationInput,
    Completion,
    ManifestChange,
    NewDestruction,
    ObserverInput,
    ResidueCheck,
    Verification,
)
from caliber.destruction.service import DestructionService
from caliber.destruction.trace_rule import load_trace_rule
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.models import CompatibilityGroup, Condition, HazardDivision, UnType
from caliber.items.records import kilograms
from caliber.items.schemas import NewItem, NewLot, StatusChange
from caliber.items.service import ItemService
from caliber.ledger.store import Ledger
from caliber.reports.kpis import load_roadmap
from caliber.reports.schemas import TargetInput
from caliber.reports.service import ReportService
from caliber.reports.targets import TargetService
from caliber.stockchecks.schemas import NewStockCheck, Scan
from caliber.stockchecks.service import StockCheckService
from caliber.tracing.events import Recipient
from caliber.tracing.lifecycle import ExceptionReason, TraceState
from caliber.tracing.schemas import IdentifiersIn, NewIncoming, NewRequest, ResponseIn, StepIn, TraceExceptionIn
from caliber.tracing.service import TracingService
from caliber.transfers.schemas import NewTransfer
from caliber.transfers.service import TransferService

__all__ = ["DEMO_DEPOTS", "DEMO_USERS", "ensure_demo", "format_logins"]

LOGINS_FILE = "demo-logins.txt"

DEMO_DEPOTS = [
    NewDepot("AL-TIR-PES", "Tirana Police Evidence Store", DepotKind.POLICE_EVIDENCE_STORE, "AL", "Rruga e Durrësit, Tirana"),
    NewDepot("AL-MJK-ARM", "Mjekës Army Depot", DepotKind.ARMY_DEPOT, "AL", "Mjekës, Elbasan"),
    NewDepot("BA-SAR-PES", "Sarajevo Police Evidence Store", DepotKind.POLICE_EVIDENCE_STORE, "BA", "Sarajevo"),
    NewDepot("BA-DOB-DEM", "Doboj Demilitarisation Facility", DepotKind.DESTRUCTION_FACILITY, "BA", "Doboj"),
    NewDepot("XK-PRI-COL", "Pristina Police Collection Point", DepotKind.COLLECTION_POINT, "XK", "Pristina"),
    NewDepot("ME-TAR-ARM", "Taraš Army Depot", DepotKind.ARMY_DEPOT, "ME", "Taraš, Podgorica"),
    NewDepot("ME-NIK-STL", "Nikšić Steel Plant", DepotKind.DESTRUCTION_FACILITY, "ME", "Nikšić"),
    NewDepot("MK-SKO-PES", "Skopje Police Evidence Store", DepotKind.POLICE_EVIDENCE_STORE, "MK", "Skopje"),
    NewDepot("MK-SKO-MKS", "Makstil Steel Mill", DepotKind.DESTRUCTION_FACILITY, "MK", "Skopje"),
    NewDepot("RS-KRG-ARM", "Kragujevac Army Depot", DepotKind.ARMY_DEPOT, "RS", "Kragujevac"),
    NewDepot("RS-BEG-COL", "Belgrade Police Collection Point", DepotKind.COLLECTION_POINT, "RS", "Belgrade"),
]

# username, full name, organisation, role, depots
DEMO_USERS = [
    ("admin", "Ana Admin", "Ministry of Interior IT", Role.ADMIN, []),
    ("clerk", "Marko Clerk", "Kragujevac Army Depot", Role.DEPOT_CLERK, ["RS-KRG-ARM"]),
    ("manager", "Jelena Manager", "Kragujevac Army Depot", Role.DEPOT_MANAGER, ["RS-KRG-ARM", "RS-BEG-COL"]),
    ("witness", "Luan Witness", "OSCE Mission", Role.WITNESS, []),
    ("witness2", "Ivana Witness", "EU Delegation", Role.WITNESS, []),
    ("inspector", "Ilir Inspector", "SALW Commission oversight", Role.INSPECTOR, []),
    ("ministry", "Milica Official", "Ministry of Interior", Role.MINISTRY_OFFICIAL, []),
]

# Weapons held per jurisdiction at full scale, and ammunition lots.
WEAPONS = {"RS": 1400, "BA": 900, "XK": 500, "ME": 450, "MK": 400, "AL": 350}
LOTS = {"BA": 90, "ME": 80, "RS": 60, "AL": 30, "MK": 25, "XK": 15}
# maker, model, calibre, UN type, country of manufacture, years
MODELS = [
    ("Zastava", "M70AB2", "7.62x39mm", UnType.ASSAULT_RIFLE, "YU", (1970, 1991)),
    ("Zastava", "M70B1", "7.62x39mm", UnType.ASSAULT_RIFLE, "YU", (1970, 1991)),
    ("Zastava", "M48", "7.92x57mm", UnType.RIFLE, "YU", (1950, 1965)),
    ("Zastava", "M59/66", "7.62x39mm", UnType.CARBINE, "YU", (1960, 1980)),
    ("Zastava", "M57", "7.62x25mm", UnType.SELF_LOADING_PISTOL, "YU", (1960, 1990)),
    ("Zastava", "M84", "7.62x54mmR", UnType.LIGHT_MACHINE_GUN, "YU", (1984, 1991)),
    ("Zastava", "M53", "7.92x57mm", UnType.LIGHT_MACHINE_GUN, "YU", (1953, 1970)),
    ("Zastava", "M80 Zolja", "64mm", UnType.ANTI_TANK_LAUNCHER, "YU", (1980, 1991)),
    ("Izhmash", "AKM", "7.62x39mm", UnType.ASSAULT_RIFLE, "SU", (1959, 1975)),
    ("Tula", "TT-33", "7.62x25mm", UnType.SELF_LOADING_PISTOL, "SU", (1935, 1955)),
    ("Bazalt", "RPG-7", "40mm", UnType.ANTI_TANK_LAUNCHER, "SU", (1961, 1990)),
    ("CZ", "vz. 58", "7.62x39mm", UnType.ASSAULT_RIFLE, "CS", (1958, 1984)),
    ("CZ", "vz. 61 Skorpion", "7.65x17mm", UnType.SUB_MACHINE_GUN, "CS", (1961, 1990)),
    ("Crvena Zastava", "M76", "7.92x57mm", UnType.RIFLE, "YU", (1976, 1991)),
    ("Baikal", "IZH-27", "12 gauge", UnType.SHOTGUN, "RU", (1990, 2010)),
    ("Smith & Wesson", "Model 10", ".38 Special", UnType.REVOLVER, "US", (1960, 1990)),
    ("Krušik", "M69", "82mm", UnType.MORTAR, "YU", (1969, 1991)),
]
AMMUNITION = [  # calibre, nature, pieces per lot range, net explosive grams per piece, hazard
    ("7.62x39mm", "ball", (5_000, 50_000), 2, ("1.4", "S")),
    ("7.62x54mmR", "ball", (2_000, 20_000), 3, ("1.4", "S")),
    ("9x19mm", "ball", (5_000, 40_000), 1, ("1.4", "S")),
    ("12.7x108mm", "API", (500, 5_000), 15, ("1.2", "E")),
    ("82mm", "mortar bomb HE", (50, 600), 650, ("1.1", "D")),
    ("64mm", "anti-tank rocket", (20, 300), 300, ("1.1", "E")),
    ("M75", "hand grenade", (100, 2_000), 36, ("1.1", "D")),
]

DEMO_TREE = [  # (depot, path of names), parents first
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A"), (LocationKind.ROOM, "Room 1")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A"), (LocationKind.ROOM, "Room 1"), (LocationKind.RACK, "Rack 1")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A"), (LocationKind.ROOM, "Room 1"), (LocationKind.RACK, "Rack 2")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Magazine 3")]),
    ("RS-BEG-COL", [(LocationKind.ROOM, "Intake room")]),
]


async def ensure_demo(ledger: Ledger, data_dir: Path, *, scale: float = 1.0) -> list[tuple[str, str, str]]:
    """Create the demo data unless it is there; returns (username, role, password) for each demo user.

    ``scale`` sizes the stock (1.0: about 4,000 weapons and 300 lots).
    """
    logins_path = data_dir / LOGINS_FILE
    operator = Actor.operator(getpass.getuser())
    accounts, inventory = AccountService(ledger), DepotService(ledger)
    if await inventory.depots(operator):
        return _read_logins(logins_path)
    depots = {}
    for new in DEMO_DEPOTS:
        depots[new.code] = await inventory.create_depot(operator, new)
    locations: dict[tuple[str, ...], Location] = {}
    for code, path in DEMO_TREE:
        names = tuple(name for _, name in path)
        parent = locations.get((code, *names[:-1])) if len(names) > 1 else None
        kind, name = path[-1]
        location = await inventory.create_location(operator, depots[code].id, NewLocation(kind, name, getattr(parent, "id", None)))
        locations[(code, *names)] = location
    logins = []
    witnesses = []
    for username, name, organisation, role, depot_codes in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        view = await accounts.create_user(operator, NewUser(username, name, role, password, organisation, depot_codes))
        logins.append((username, role.value, password))
        if role is Role.WITNESS:
            witnesses.append(Actor(view.user.id, username, name, role))
    await _history(ledger, data_dir, operator, (depots, locations), scale=scale, witnesses=witnesses)
    await _destructions(ledger, data_dir, operator, depots, witnesses)
    await _now(ledger, data_dir, operator, (depots, locations))
    await _traces(ledger, data_dir, operator, depots["RS-KRG-ARM"], locations[("RS-KRG-ARM", "Building A", "Room 1", "Rack 2")])
    await _targets(ledger, data_dir, operator)
    _write_logins(logins_path, logins)
    return logins


@dataclass
class _Planned:
    """One weapon or lot of the demo history: what it is, and the months (indexes) it is taken in, declared and approved."""

    new: NewItem | NewLot
    taken_in: int
    declared: int | None = None
    approved: int | None = None
    code: str = ""


# month, organising depot, site, address, organiser, methods: the destructions of the demo history
DESTRUCTIONS: list[tuple[tuple[int, int], str, str, str, str, list[Method]]] = [
    ((2023, 10), "RS-KRG-ARM", "Železara Smederevo", "Radinac, Smederevo", "Ministry of Defence, Republic of Serbia", [Method.SMELTING]),
    ((2024, 4), "BA-SAR-PES", "Doboj Demilitarisation Facility", "Doboj", "Ministry of Security of BiH", [Method.CUTTING_PLASMA]),
    ((2024, 10), "ME-TAR-ARM", "Nikšić Steel Plant", "Nikšić", "Ministry of Defence of Montenegro", [Method.SMELTING]),
    ((2025, 3), "MK-SKO-PES", "Makstil Steel Mill", "Skopje", "Ministry of Interior, North Macedonia", [Method.SMELTING]),
    ((2025, 6), "XK-PRI-COL", "Ferronikeli smelter", "Drenas", "Kosovo Police", [Method.SMELTING]),
    ((2025, 11), "AL-MJK-ARM", "Kurum steel works", "Elbasan", "Ministry of Defence of Albania", [Method.CUTTING_TORCH, Method.SMELTING]),
    ((2026, 3), "RS-BEG-COL", "Železara Smederevo", "Radinac, Smederevo", "Ministry of Interior, Republic of Serbia", [Method.SMELTING]),
    ((2026, 6), "BA-SAR-PES", "Doboj Demilitarisation Facility", "Doboj", "Ministry of Security of BiH", [Method.HYDRAULIC_SHEAR]),
    ((2026, 9), "ME-TAR-ARM", "Nikšić Steel Plant", "Nikšić", "Ministry of Defence of Montenegro", [Method.SMELTING]),
]
HISTORY_START = dt.date(2023, 1, 1)


def _months(today: dt.date) -> list[dt.date]:
    months, month = [], HISTORY_START
    while month <= today:
        months.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


async def _history(
    ledger: Ledger,
    data_dir: Path,
    operator: Actor,
    places: tuple[dict[str, Depot], dict[tuple[str, ...], Location]],
    *,
    scale: float,
    witnesses: list[Actor],
) -> None:
    """Month by month since January 2023, on the ledger's clock: intake, declarations, approvals and witnessed destructions."""
    chooser = random.Random(2018)  # noqa: S311 (the same demo every time; the Roadmap's year)
    items = ItemService(ledger, data_dir / "photos")
    destructions = DestructionService(ledger, items, data_dir / "photos", trace_rule=load_trace_rule(data_dir))
    depots, locations = places
    shelves: dict[str, list[Location]] = {}
    for key, location in locations.items():
        shelves.setdefault(key[0], []).append(location)
    today = dt.date.today()
    months = _months(today)
    last = len(months) - 1
    planned = _plan(chooser, (depots, shelves), scale, last)
    events = {
        months.index(dt.date(year, month, 1)): (depot, site, address, organiser, methods)
        for (year, month), depot, site, address, organiser, methods in DESTRUCTIONS
        if dt.date(year, month, 1) in months[:-1]
    }
    wall = ledger.clock
    try:
        for n, month in enumerate(months):
            moment = dt.datetime.combine(month + dt.timedelta(days=chooser.randint(2, 12)), dt.time(9), tzinfo=dt.UTC)
            ledger.clock = _before(moment, wall)
            await _take_in(items, operator, [p for p in planned if p.taken_in == n])
            for action, when in ((Action.DECLARE_SURPLUS, "declared"), (Action.APPROVE_DESTRUCTION, "approved")):
                for kind in ("item", "lot"):
                    codes = [p.code for p in planned if getattr(p, when) == n and (kind == "lot") == isinstance(p.new, NewLot)]
                    if codes:
                        await items.change_status_many(operator, kind, codes, StatusChange(action, f"decision {n + 1}/{month.year}"))
            if n in events:
                depot_code, site, address, organiser, methods = events[n]
                day = month + dt.timedelta(days=20)
                ledger.clock = _at(dt.datetime.combine(day, dt.time(14), tzinfo=dt.UTC))
                await _destroyed_on(destructions, (operator, witnesses), depots[depot_code], day, (site, address, organiser, methods))
    finally:
        ledger.clock = wall


def _plan(chooser: random.Random, places: tuple[dict[str, Depot], dict[str, list[Location]]], scale: float, last: int) -> list[_Planned]:
    depots, shelves = places
    stores = [d for d in depots.values() if d.kind != DepotKind.DESTRUCTION_FACILITY]
    planned: list[_Planned] = []
    serial = 0
    for jurisdiction, count in WEAPONS.items():
        here = [d for d in stores if d.jurisdiction_code == jurisdiction]
        for _ in range(max(1, int(count * scale))):
            serial += 1
            depot = chooser.choice(here)
            new = _weapon(chooser, depot, serial, shelves.get(depot.code, []))
            entry = _Planned(new, chooser.randint(0, max(last - 2, 0)))
            if new.intake_source != IntakeSource.SEIZED and chooser.random() < 0.6:
                entry.declared = min(entry.taken_in + chooser.randint(1, 8), last)
                if chooser.random() < 0.6:
                    entry.approved = min(entry.declared + chooser.randint(1, 5), last)
            planned.append(entry)
    for jurisdiction, count in LOTS.items():
        here = [d for d in stores if d.jurisdiction_code == jurisdiction]
        for _ in range(max(1, int(count * scale))):
            entry = _Planned(_lot(chooser, chooser.choice(here)), chooser.randint(0, 12))
            if chooser.random() < 0.3:
                entry.declared = min(entry.taken_in + chooser.randint(1, 6), last)
                entry.approved = min(entry.declared + chooser.randint(1, 4), last)
            planned.append(entry)
    return planned


def _before(moment: dt.datetime, wall: Callable[[], dt.datetime]) -> Callable[[], dt.datetime]:
    """A clock standing at ``moment``, or three days before the wall clock when that is earlier."""
    return lambda: min(moment, wall() - dt.timedelta(days=3))


def _at(moment: dt.datetime) -> Callable[[], dt.datetime]:
    """A clock standing at ``moment``."""
    return lambda: moment


def _weapon(chooser: random.Random, depot: Depot, serial: int, shelves: list[Location]) -> NewItem:
    maker, model, calibre, un_type, country, (first, last) = chooser.choice(MODELS)
    seized = depot.kind == DepotKind.POLICE_EVIDENCE_STORE and chooser.random() < 0.6
    source = IntakeSource.SEIZED if seized else chooser.choice(_SOURCES[DepotKind(depot.kind)])
    return NewItem(
        depot_id=depot.id,
        manufacturer=maker,
        model=model,
        calibre=calibre,
        serial=chooser.choice(["removed", "illegible"]) if chooser.random() < 0.02 else f"{chooser.randint(10, 99)}{serial:06d}",
        un_type=un_type,
        intake_source=source,
        condition=chooser.choice([Condition.SERVICEABLE, Condition.SERVICEABLE, Condition.UNSERVICEABLE, Condition.DAMAGED]),
        location_id=chooser.choice(shelves).id if shelves else None,
        country_of_manufacture=country,
        year_of_manufacture=chooser.randint(first, last),
        case_reference=f"K-{chooser.randint(100, 999)}/{chooser.randint(2019, 2026)}" if seized else "",
    )


def _lot(chooser: random.Random, depot: Depot) -> NewLot:
    calibre, nature, (low, high), grams, (division, group) = chooser.choice(AMMUNITION)
    pieces = chooser.randint(low, high)
    net = pieces * grams
    return NewLot(
        depot_id=depot.id,
        lot_number=f"{chooser.choice(['PPU', 'IK', 'KV', 'SL'])}-{chooser.randint(60, 99)}-{chooser.randint(1, 999):03d}",
        manufacturer=chooser.choice(["Prvi Partizan", "Igman", "Krušik", "Sloboda Čačak", "Pretis"]),
        calibre=calibre,
        nature=nature,
        quantity=pieces,
        gross_mass_kg=kilograms(net * chooser.randint(6, 12)),
        net_explosive_mass_kg=kilograms(net),
        hazard_division=HazardDivision(division),
        compatibility_group=CompatibilityGroup(group),
        intake_source=IntakeSource.SURPLUS,
        year=chooser.randint(1965, 1995),
        condition=chooser.choice([Condition.SERVICEABLE, Condition.UNSERVICEABLE, Condition.UNSAFE]),
    )


async def _take_in(items: ItemService, operator: Actor, planned: list[_Planned]) -> None:
    weapons = [p for p in planned if isinstance(p.new, NewItem)]
    lots = [p for p in planned if isinstance(p.new, NewLot)]
    for start in range(0, len(weapons), 500):
        chunk = weapons[start : start + 500]
        for entry, made in zip(chunk, await items.register_items(operator, [p.new for p in chunk]), strict=True):  # type: ignore[misc]
            entry.code = made.code
    if lots:
        for entry, lot in zip(lots, await items.register_lots(operator, [p.new for p in lots]), strict=True):  # type: ignore[misc]
            entry.code = lot.code


async def _now(ledger: Ledger, data_dir: Path, operator: Actor, places: tuple[dict[str, Depot], dict[tuple[str, ...], Location]]) -> None:
    """Today's work: a transfer on the road and a count under way."""
    depots, locations = places
    items = ItemService(ledger, data_dir / "photos")
    sender, receiver = depots["RS-BEG-COL"], depots["RS-KRG-ARM"]
    page = await items.search(operator, {"depot_id": sender.id, "status": "awaiting_decision"}, limit=25)
    if page.records:
        await TransferService(ledger, items).dispatch(
            operator, NewTransfer(sender.id, receiver.id, [i.code for i in page.records], seals=["RS-S-0041", "RS-S-0042"])
        )
    room = locations[("RS-KRG-ARM", "Building A", "Room 1")]
    checks = StockCheckService(ledger)
    check = await checks.open(operator, NewStockCheck(receiver.id, room.id))
    counted = [line.code for line in check.lines][: len(check.lines) * 2 // 3]
    if counted:
        await checks.scan(operator, check.check.id, [Scan(code, room.id) for code in counted])


async def _destructions(ledger: Ledger, data_dir: Path, operator: Actor, depots: dict[str, Depot], witnesses: list[Actor]) -> None:
    """A destruction certified two days ago at the Smederevo steel works, and the next one approved and waiting for its day."""
    items = ItemService(ledger, data_dir / "photos")
    destructions = DestructionService(ledger, items, data_dir / "photos", trace_rule=load_trace_rule(data_dir))
    depot = depots["RS-KRG-ARM"]
    page = await items.search(operator, {"depot_id": depot.id, "status": "approved_for_destruction"}, limit=500)
    codes = [item.code for item in page.records]
    if len(codes) < 2:
        return
    half = len(codes) // 2
    today = dt.date.today()
    site = ("Železara Smederevo", "Radinac, Smederevo", "Ministry of Defence, Republic of Serbia", [Method.SMELTING])
    day = today - dt.timedelta(days=2)
    wall = ledger.clock
    ledger.clock = lambda: dt.datetime.combine(day, dt.time(14), tzinfo=dt.UTC)
    try:
        await _destroyed_on(destructions, (operator, witnesses), depot, day, site, codes=codes[:half])
    finally:
        ledger.clock = wall
    await _planned(destructions, operator, depot, today + dt.timedelta(days=14), codes=codes[half:], site=site)


async def _destroyed_on(
    destructions: DestructionService,
    people: tuple[Actor, list[Actor]],
    depot: Depot,
    day: dt.date,
    site: tuple[str, str, str, list[Method]],
    *,
    codes: list[str] | None = None,
) -> None:
    """A destruction at ``site`` on ``day``, witnessed and certified: of ``codes``, or of what ``depot`` has approved (weapons and lots)."""
    operator, witnesses = people
    if codes is None:
        found = []
        wanted = {"depot_id": depot.id, "status": "approved_for_destruction"}
        for search in (destructions.items.search, destructions.items.search_lots):
            found += [record.code for record in (await search(operator, wanted, limit=400)).records]
        codes = found
    if not codes:
        return
    ledger, afternoon = destructions.ledger, destructions.ledger.clock
    ledger.clock = lambda: dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC)  # checked and attested before the start
    done = await _planned(destructions, operator, depot, day, codes=codes, site=site)
    await destructions.verify(witnesses[0], done.id, Verification(codes))
    digest = await destructions.current_sha256(operator, done.id, Stage.BEFORE)
    for witness in witnesses:
        await destructions.attest(witness, done.id, AttestationInput(Stage.BEFORE, digest, "every label scanned and serial read"))
    for stage, shade in ((Stage.BEFORE, 200), (Stage.AFTER, 60)):
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), (shade, shade, shade)).save(picture, format="PNG")
        await destructions.add_photo(operator, done.id, stage, picture.getvalue(), "image/png")
    start = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC)
    await destructions.complete(witnesses[0], done.id, Completion(site[3], start, start + dt.timedelta(hours=5)))
    ledger.clock = afternoon  # the residue, the result and the certificate after the end
    await destructions.check_residue(witnesses[1], done.id, ResidueCheck("frames and receivers destroyed; residue inspected"))
    digest = await destructions.current_sha256(operator, done.id, Stage.AFTER)
    for witness in witnesses:
        await destructions.attest(witness, done.id, AttestationInput(Stage.AFTER, digest))
    await destructions.certify(operator, done.id)


async def _planned(
    destructions: DestructionService,
    operator: Actor,
    depot: Depot,
    when: dt.date,
    *,
    codes: list[str],
    site: tuple[str, str, str, list[Method]],
) -> Any:
    name, address, organiser, methods = site
    plan = NewDestruction(
        depot.id,
        name,
        when,
        methods,
        f"Odluka 02-{when.month}/{when.year}",
        when - dt.timedelta(days=20),
        organiser,
        site_address=address,
        observers=[ObserverInput("Desk officer", "UNDP/SEESAC"), ObserverInput("Programme manager", "EU Delegation")],
    )
    event = await destructions.plan(operator, plan)
    await destructions.change_manifest(operator, event.id, ManifestChange(add=codes))
    await _traced(destructions, operator, event.id)
    return await destructions.approve(operator, event.id)


# serial, case, how far the trace has come: the weapons found on army ground and held at Kragujevac
FOUND_WEAPONS = [
    ("FND-2611", "KU 41/26", "overdue"),
    ("FND-2612", "KU 44/26", "due_soon"),
    ("FND-2613", "KU 12/26", "answered_late"),
    ("FND-2614", "KU 47/26", "checked"),
]


async def _traces(ledger: Ledger, data_dir: Path, operator: Actor, depot: Depot, rack: Location) -> None:
    """Weapons found on army ground, traced: a request overdue, one due this week, one answered late, one just
    checked; and a request from Austria to answer."""
    items = ItemService(ledger, data_dir / "photos")
    tracing = TracingService(ledger, ZoneInfo("Europe/Belgrade"))  # the default deployment zone, whose days the pages count
    today = tracing.today()
    news = [
        NewItem(
            depot.id,
            "Zastava",
            "M70AB2",
            "7.62x39mm",
            serial,
            UnType.ASSAULT_RIFLE,
            IntakeSource.FOUND,
            country_of_manufacture="YU",
            case_reference=case,
            location_id=rack.id,
        )
        for serial, case, _ in FOUND_WEAPONS
    ]
    found = await items.register_items(operator, news)
    for shade, item in zip((90, 150), found, strict=False):  # photos of the marks, sent with the requests
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), (shade, shade - 20, shade - 40)).save(picture, format="PNG")
        await items.add_photo(operator, item.code, picture.getvalue(), "image/png")
    days = dt.timedelta(days=1)
    sent_on = {"overdue": (40, -10), "due_soon": (5, 3), "answered_late": (60, -30)}
    for item, (_, _, stage) in zip(found, FOUND_WEAPONS, strict=True):
        await tracing.record_step(
            operator, item.code, StepIn("domestic_check", reference="MUP RS 2026/118", finding="not in the national registers")
        )
        if stage == "checked":
            continue
        await tracing.record_step(operator, item.code, StepIn("iarms_query", reference="IA-2026-5521", finding="no hit"))
        ago, due = sent_on[stage]
        recipient = Recipient.INTERPOL if stage != "due_soon" else Recipient.COUNTRY_OF_MANUFACTURE
        request = await tracing.send_request(operator, item.code, NewRequest(recipient, today + due * days, sent_on=today - ago * days))
        if stage == "answered_late":
            answer = "Exported by Zastava in 1989 to the Territorial Defence of Bosnia and Herzegovina."
            await tracing.record_response(operator, request.id, ResponseIn(answer, received_on=today - 20 * days))
    asked = IdentifiersIn("2612", manufacturer="Zastava Arms", model="M70AB2", calibre="7.62x39mm")
    await tracing.register_incoming(
        operator, NewIncoming(depot.id, "AT", "BK-2026/0712", today + 25 * days, asked, received_on=today - 3 * days)
    )


async def _traced(destructions: DestructionService, operator: Actor, event_id: Any) -> None:
    """Trace what the tracing rule holds the approval back for: the national registers are searched, then the trace is
    excepted as it would unduly delay the destruction (the steps a depot takes, each on the ledger)."""
    tracing = TracingService(destructions.ledger, dt.UTC)
    while waiting := (await destructions.get(operator, event_id)).untraced.first:
        for code, state in waiting:
            if state is TraceState.NOT_STARTED:
                check = StepIn("domestic_check", reference="national weapons register", finding="no record of this weapon")
                await tracing.record_step(operator, code, check)
            reason = TraceExceptionIn(ExceptionReason.UNDUE_DELAY, "the furnace is booked; an international trace would take months")
            await tracing.record_exception(operator, code, reason)


_SOURCES = {
    DepotKind.ARMY_DEPOT: [IntakeSource.SURPLUS],
    DepotKind.POLICE_EVIDENCE_STORE: [IntakeSource.FOUND, IntakeSource.SURRENDERED],
    DepotKind.COLLECTION_POINT: [IntakeSource.SURRENDERED, IntakeSource.COLLECTION_PROGRAMME, IntakeSource.LEGALISATION_TURN_IN],
}


# jurisdiction, weapons to destroy this year; and Serbia's clearance of what was declared before 2025
TARGETS = {"RS": 300, "BA": 80, "ME": 80, "MK": 100, "XK": 100, "AL": 80}


async def _targets(ledger: Ledger, data_dir: Path, operator: Actor) -> None:
    """This year's destruction targets, and a clearance target: Serbia's surplus declared before 2025 gone by the end of 2027."""
    roadmap = load_roadmap(data_dir)
    targets = TargetService(ledger, ReportService(ledger.db), roadmap, ZoneInfo("Europe/Belgrade"))
    year = dt.date.today().year
    annual = next((kpi.key for kpi in roadmap.kpis if kpi.measure == "destroyed" and kpi.target == "annual"), None)
    clear = next((kpi.key for kpi in roadmap.kpis if kpi.target == "clear"), None)
    for jurisdiction, amount in TARGETS.items():
        if annual:
            await targets.set(operator, TargetInput(jurisdiction, annual, year, f"national SALW action plan {year}", amount=str(amount)))
    if clear:
        reason = "Roadmap 2025-2030 commitment"
        await targets.set(operator, TargetInput("RS", clear, year + 1, reason, declared_before=dt.date(2025, 1, 1)))


def format_logins(logins: list[tuple[str, str, str]]) -> str:
    """The demo logins as a small table for the terminal."""
    lines = ["Demo logins (also kept in the data dir, file demo-logins.txt):"]
    lines += [f"  {username:<10} {role:<18} {password}" for username, role, password in logins]
    return "\n".join(lines)


def _write_logins(path: Path, logins: list[tuple[str, str, str]]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{username}\t{role}\t{password}\n" for username, role, password in logins)


def _read_logins(path: Path) -> list[tuple[str, str, str]]:
    if not path.exists():
        return []
    rows = [line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if line.strip()]
    return [(row[0], row[1], row[2]) for row in rows if len(row) == 3]


def served_url(host: str, port: int) -> str:
    """The base URL of a demo served on ``host``:``port`` (an address that listens everywhere is reached on 127.0.0.1)."""
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 (a comparison, not a bind)
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
