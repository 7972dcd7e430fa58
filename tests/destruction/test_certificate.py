"""The certificate of destruction as a PDF: a legal record, so every field prints whole, in local time, people by name."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pypdfium2
import pytest

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.accounts.service import UserView
from caliber.depots.models import Depot
from caliber.destruction.certificate import LedgerReference, certificate_pdf
from caliber.destruction.models import Stage
from caliber.destruction.schemas import AttestationInput, ManifestChange, ObserverInput, ResidueCheck
from caliber.destruction.service import DestructionService
from caliber.items.lifecycle import Action
from caliber.items.schemas import StatusChange
from tests.destruction.helpers import cast, plan, through_the_day
from tests.factories import OPERATOR, Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")

SHOTS = os.environ.get("CALIBER_TEST_SCREENSHOTS")
"""A folder to keep the rendered first page in for people to look at; none kept when unset."""
BELGRADE = ZoneInfo("Europe/Belgrade")  # the test deployment's CALIBER_TIME_ZONE (the default)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")

SITE = "Железара Смедерево, погон за претапање челика и уништавање вишкова наоружања и муниције, хала 3"
ADDRESS = "Министарство унутрашњих послова Републике Србије, Управа за логистику, Кнеза Милоша 101, Београд"
ORGANISER = "Ministria e Punëve të Brendshme e Republikës së Kosovës, Departamenti për Armët e Vogla dhe Çarmatimin"
AUTHORITY = "Одлука Владе Републике Србије о уништавању вишкова малокалибарског и лаког наоружања 05 број 217-3451/2026-1"
MANAGER = "Милица Стефановић-Радосављевић Јовановић"
WITNESSES = ("Александар Константиновић Петровић-Његош", "Arbëresha Çelaj-Shkëmbi e Gjakovës")
NOTES = (
    "Сви оквири и сандуци истопљени у електролучној пећи на 1.600 °C.\n"
    "Zvarët dhe tytat e prera me plazmë; mbetjet u dërguan në shkritore nën mbikëqyrjen e OSBE-së."
)
OBSERVER = ("Јелена Драгутиновић-Обреновић Карађорђевић", "Organizata për Siguri dhe Bashkëpunim në Evropë, Misioni në Serbi")
SERIAL = "ЗАСТАВА-М70АБ2-СЕРИЈА-1987-0004567891234"
MAKER = ("Застава оружје а.д. Крагујевац, фабрика ловачког и спортског оружја", "М70АБ2 аутоматска пушка са склопивим кундаком")


def text_of(pdf: bytes) -> str:
    return "\n".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf))


def words(text: str) -> str:
    """Text with every run of white space (line breaks where a field wrapped) as one space."""
    return " ".join(text.split())


def letters(text: str) -> str:
    """Text without white space: a hash wrapped inside itself reads whole again."""
    return "".join(text.split())


def printed(moment: str) -> str:
    """A statement's UTC time as the certificate should print it, worked out here without the code under test."""
    local = dt.datetime.fromisoformat(moment).astimezone(BELGRADE)
    assert local.tzname() in ("CET", "CEST")
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M} {local.tzname()} (Europe/Belgrade)"


def keep(pdf: bytes, name: str) -> None:
    """The PDF and its first page as a PNG in the screenshot folder, if one is set."""
    if SHOTS:
        folder = Path(SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.pdf").write_bytes(pdf)
        pypdfium2.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil().save(folder / f"{name}-page-1.png")


async def named(factory: Factory, role: Role, name: str, depots: list[Depot] | None = None) -> tuple[UserView, Actor]:
    view = await factory.user(role, depots=depots, display_name=name)
    ids = frozenset(d.id for d in depots or [])
    return view, Actor(id=view.user.id, username=view.user.username, display_name=name, role=role, depot_ids=ids)


async def long_named_weapon(factory: Factory, depot: Depot) -> str:
    item = await factory.item(depot, serial=SERIAL, manufacturer=MAKER[0], model=MAKER[1])
    for action in (Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION):
        await factory.items.change_status_many(OPERATOR, "item", [item.code], StatusChange(action, "surplus to needs"))
    return item.code


async def test_the_pdf_prints_every_field_whole_in_local_time_with_people_by_name(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2, lots=1)
    day.codes.append(await long_named_weapon(factory, day.depot))
    manager_view, day.manager = await named(factory, Role.DEPOT_MANAGER, MANAGER, [day.depot])
    witnesses = [await named(factory, Role.WITNESS, name) for name in WITNESSES]
    day.witnesses = [actor for _view, actor in witnesses]
    observers = [ObserverInput(*OBSERVER)]
    event = await destructions.plan(
        day.clerk, plan(day, site_name=SITE, site_address=ADDRESS, organiser=ORGANISER, authority_number=AUTHORITY, observers=observers)
    )
    await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=day.codes))
    await destructions.approve(day.manager, event.id)
    await through_the_day(destructions, day, event)
    await destructions.check_residue(day.witnesses[1], event.id, ResidueCheck(NOTES))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.AFTER)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.AFTER, digest))
    await destructions.certify(day.manager, event.id)
    token = {"authorization": f"Bearer {await factory.token(manager_view)}"}
    statement = (await client.get(f"/api/destructions/{event.id}/certificate.json", headers=token)).content
    content = json.loads(statement)

    answer = await client.get(f"/destructions/{event.id}/certificate.pdf", headers=token)
    assert answer.status_code == 200
    keep(answer.content, "certificate")
    text = text_of(answer.content)
    assert "…" not in text
    manager, (first, second) = f"{manager_view.user.username}", [view.user.username for view, _actor in witnesses]
    fields = [
        SITE,
        ADDRESS,
        ORGANISER,
        AUTHORITY,
        *NOTES.split("\n"),
        *OBSERVER,
        MAKER[0] + " " + MAKER[1],
        f"Manifest approved by {MANAGER}, depot manager ({manager})",
        f"Residue checked by {WITNESSES[1]}, witness ({second})",
        f"{WITNESSES[0]}, witness ({first})",
        f"Destruction started {printed(content['started_at'])}",
        f"Destruction ended {printed(content['ended_at'])}",
        *(printed(w["attested_at"]) for w in content["witnesses"]),
    ]
    assert [f for f in fields if words(f) not in words(text)] == []
    assert len(content["witnesses"]) == 4
    hashes = (
        [hashlib.sha256(statement).hexdigest()]
        + [w["manifest_sha256"] for w in content["witnesses"]]
        + [p["sha256"] for p in content["photos"]]
        + [SERIAL]
    )
    assert [h for h in hashes if h not in letters(text)] == []
    assert all(w["serial"] in letters(text) for w in content["weapons"])
    assert content["started_at"] not in text  # no raw UTC with microseconds
    assert "(UTC)" not in text


HIDDEN = "\u202e"


def statement_holding(hidden: str) -> dict[str, Any]:
    """A statement whose every stored text holds ``hidden`` (records kept from before the input rules)."""
    weapon = {"code": "1000000018", "kind": "weapon", "type": f"rifle{hidden}", "manufacturer": f"Zastava{hidden}"}
    weapon |= {"model": f"M48{hidden}", "calibre": f"7.92{hidden}", "serial": f"AB{hidden}321"}
    lot = {"code": "3000000017", "lot_number": f"PPU{hidden}", "calibre": f"7.62{hidden}", "nature": f"ball{hidden}"}
    lot |= {"quantity": 10, "gross_mass_kg": "1", "net_explosive_mass_kg": "0.1"}
    witness = {
        "name": f"Ana{hidden}",
        "role": "witness",
        "stage": "before",
        "attested_at": "2026-07-07T12:05:00Z",
        "manifest_sha256": "0" * 64,
    }
    return {
        "format": "caliber-destruction-certificate/v1",
        "event": "5000000019",
        "site": {"name": f"Foundry{hidden}", "address": f"Street{hidden} 1"},
        "planned_date": "2026-07-07",
        "started_at": "2026-07-07T12:05:00Z",
        "ended_at": "2026-07-07T13:05:00Z",
        "methods": ["smelting"],
        "legal_authority": {"number": f"01{hidden}-234", "date": "2026-07-01"},
        "organiser": f"Ministry{hidden}",
        "approved_by": f"manager{hidden}",
        "residue_checked_by": f"witness{hidden}",
        "residue_notes": f"melted{hidden}\nall",
        "witnesses": [witness],
        "observers": [{"name": f"Observer{hidden}", "organisation": f"OSCE{hidden}"}],
        "photos": [],
        "counts": {"weapons_by_type": {f"rifle{hidden}": 1}, "ammunition_lots": 1, "ammunition_pieces": 10},
        "weapons": [weapon],
        "ammunition": [lot],
    }


def test_every_stored_text_shows_a_hidden_character_written_out() -> None:
    content = statement_holding(HIDDEN)
    reference = LedgerReference(f"origin{HIDDEN}", 1, 2, "cm9vdA==", [])
    text = text_of(certificate_pdf(content, reference, "https://caliber.example/certificates/5000000019", zone=BELGRADE))
    assert HIDDEN not in text
    assert text.count("⟨U+202E⟩") == json.dumps(content, ensure_ascii=False).count(HIDDEN) + 1  # every field, and the log's name
    assert "7 July 2026, 14:05 CEST (Europe/Belgrade)" in text  # 12:05 UTC, in summer time
