"""Demo data: depots in all six jurisdictions and one user per role.

Everything is created through the domain services, as a person would.
"""

from __future__ import annotations

import getpass
import os
import secrets
from pathlib import Path

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.accounts.schemas import NewUser
from caliber.accounts.service import AccountService
from caliber.inventory.models import DepotKind, LocationKind
from caliber.inventory.schemas import NewDepot, NewLocation
from caliber.inventory.service import InventoryService
from caliber.ledger.store import Ledger

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
    ("inspector", "Ilir Inspector", "SALW Commission oversight", Role.INSPECTOR, []),
    ("ministry", "Milica Official", "Ministry of Interior", Role.MINISTRY_OFFICIAL, []),
]

DEMO_TREE = [  # (depot, path of names), parents first
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A"), (LocationKind.ROOM, "Room 1")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A"), (LocationKind.ROOM, "Room 1"), (LocationKind.RACK, "Rack 1")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Building A"), (LocationKind.ROOM, "Room 1"), (LocationKind.RACK, "Rack 2")]),
    ("RS-KRG-ARM", [(LocationKind.BUILDING, "Magazine 3")]),
    ("RS-BEG-COL", [(LocationKind.ROOM, "Intake room")]),
]


async def ensure_demo(ledger: Ledger, data_dir: Path) -> list[tuple[str, str, str]]:
    """Create the demo data unless it is there; returns (username, role, password) for each demo user."""
    logins_path = data_dir / LOGINS_FILE
    operator = Actor.operator(getpass.getuser())
    accounts, inventory = AccountService(ledger), InventoryService(ledger)
    if await inventory.depots(operator):
        return _read_logins(logins_path)
    depots = {}
    for new in DEMO_DEPOTS:
        depots[new.code] = await inventory.create_depot(operator, new)
    locations: dict[tuple[str, ...], object] = {}
    for code, path in DEMO_TREE:
        names = tuple(name for _, name in path)
        parent = locations.get((code, *names[:-1])) if len(names) > 1 else None
        kind, name = path[-1]
        location = await inventory.create_location(operator, depots[code].id, NewLocation(kind, name, getattr(parent, "id", None)))
        locations[(code, *names)] = location
    logins = []
    for username, name, organisation, role, depot_codes in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        await accounts.create_user(operator, NewUser(username, name, role, password, organisation, depot_codes))
        logins.append((username, role.value, password))
    _write_logins(logins_path, logins)
    return logins


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
