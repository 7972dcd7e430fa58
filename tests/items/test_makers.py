"""The reference list of makers and models: spellings matched, intake recording the canonical name, unknown makers
flagged, duplicates found across spellings, the data dir's list checked, and the form's suggestions."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from caliber.accounts.models import Role
from caliber.items.makers import MAKER_FILE, MakerFileError, load_makers, name_key, shipped_maker_file
from caliber.ledger.models import LedgerEntry
from tests.factories import OPERATOR, Factory, csrf_headers, login

MAKERS = load_makers()
WEAPON = {"model": "M70", "calibre": "7.62x39mm", "un_type": "assault_rifle", "kind": "weapon"}
WEAPON |= {"intake_source": "found", "condition": "serviceable"}


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Zastava", "Zastava"),
        ("ZASTAVA ARMS", "Zastava"),
        ("  zastava   arms ", "Zastava"),
        ("Zastava-Arms", "Zastava"),
        ("Crvena Zastava", "Zastava"),
        ("Застава", "Zastava"),
        ("ЦРВЕНА ЗАСТАВА", "Zastava"),
        ("Zastava Oruzje", "Zastava"),
        ("Ceska zbrojovka", "CZ"),
        ("ČESKÁ ZBROJOVKA UHERSKÝ BROD", "CZ"),
        ("ИЖМАШ", "Izhmash"),
        ("kalashnikov concern", "Izhmash"),
        ("Байкал", "Izhevsk Mechanical Plant"),
        ("тульский оружейный завод", "Tula"),
        ("Lucznik", "Radom"),
        ("FEG", "FÉG"),
        ("heckler und koch", "Heckler & Koch"),
        ("S&W", "Smith & Wesson"),
    ],
)
def test_a_spelling_of_a_known_maker_is_normalised_to_its_canonical_name(typed: str, canonical: str) -> None:
    assert MAKERS.normalise(typed) == (canonical, True)
    assert MAKERS.recorded(typed) == canonical


@pytest.mark.parametrize("typed", ["Fabrika e Gramshit", "Zastav", "Unknown Works", ""])
def test_a_maker_not_in_the_list_is_unknown_and_kept_as_typed(typed: str) -> None:
    assert MAKERS.normalise(typed) == (None, False)
    assert MAKERS.recorded(typed) == typed
    assert not MAKERS.known(typed)


@given(st.text(max_size=40))
def test_the_name_key_ignores_case_and_white_space(text: str) -> None:
    assert name_key(text) == name_key(text.upper()) == name_key(f"  {text} ")
    assert re.fullmatch(r"[a-z0-9]*", name_key(text))


def test_suggestions_and_models_with_their_calibres() -> None:
    assert MAKERS.suggest("zas") == ["Zastava"]
    assert MAKERS.suggest("Црв") == ["Zastava"]  # a variant's prefix suggests the canonical name
    assert "Zastava" in MAKERS.suggest()
    assert len(MAKERS.suggest()) == len(MAKERS.makers)
    zastava = {model.name: model.calibres for _, model in MAKERS.models_of("crvena zastava")}
    assert zastava["M70AB2"] == ("7.62x39mm",)
    assert zastava["M48"] == ("7.92x57mm",)
    assert zastava["M57"] == ("7.62x25mm",)
    assert zastava["M84"] == ("7.62x54R",)
    assert {m.name: m.calibres for _, m in MAKERS.models_of("CZ")}["CZ 75"] == ("9x19mm",)
    assert {m.name: m.calibres for _, m in MAKERS.models_of("Tula")}["TT-33"] == ("7.62x25mm",)
    everything = MAKERS.models_of(None)
    assert len(everything) == sum(len(m.models) for m in MAKERS.makers) == len(MAKERS.models_of("Unknown Works"))


def test_every_shipped_spelling_belongs_to_one_maker() -> None:
    owners: dict[str, set[str]] = {}
    for maker in MAKERS.makers:
        for spelling in maker.spellings:
            owners.setdefault(name_key(spelling), set()).add(maker.name)
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}
    assert MAKERS.source == shipped_maker_file()


# -- the data dir's list ----------------------------------------------------------


def test_the_data_dirs_list_is_read_instead_of_the_shipped_one(tmp_path: Path) -> None:
    assert load_makers(tmp_path).source == shipped_maker_file()  # none there yet
    (tmp_path / MAKER_FILE).write_text(
        '[[maker]]\nname = "Fabrika e Armëve Gramsh"\nvariants = ["Gramsh", "Fabrika e Gramshit"]\n', encoding="utf-8"
    )
    edited = load_makers(tmp_path)
    assert edited.source == tmp_path / MAKER_FILE
    assert edited.normalise("FABRIKA E GRAMSHIT") == ("Fabrika e Armëve Gramsh", True)
    assert not edited.known("Zastava")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (('"Zastava Arms",', '"Zastava Arms", "CZUB",'), r"line 78: 'CZUB' is already a spelling of 'Zastava'"),
        (
            ('{ name = "M57", calibres = ["7.62x25mm"] }', '{ name = "M57", calibres = [] }'),
            r"line 28: model 'M57' of 'Zastava' needs at least one calibre",
        ),
        (('name = "Tula"', 'name = "Tula"\ncountry = "SU"'), r"line \d+: a \[\[maker\]\] takes name, variants and models, not country"),
        (('{ name = "M48",', '{ name = "M48" '), r"makers.toml: .*line 26"),
        (('{ name = "M70", calibres', '{ name = "M48", calibres'), r"line 26: model 'M48' is listed twice for 'Zastava'"),
    ],
)
def test_a_wrong_entry_in_the_data_dirs_list_is_named_with_its_line(tmp_path: Path, change: tuple[str, str], said: str) -> None:
    text = shipped_maker_file().read_text(encoding="utf-8")
    assert change[0] in text
    (tmp_path / MAKER_FILE).write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(MakerFileError, match=said):
        load_makers(tmp_path)


def test_the_app_refuses_to_start_on_a_wrong_list(tmp_path: Path) -> None:
    from dataclasses import replace

    from caliber.app import create_app
    from caliber.config import Settings

    shutil.copyfile(shipped_maker_file(), tmp_path / MAKER_FILE)
    (tmp_path / MAKER_FILE).write_text("[[maker]]\nvariants = []\n", encoding="utf-8")
    settings = replace(Settings.from_env(create=False), data_dir=tmp_path)
    with pytest.raises(MakerFileError, match=r"line 1: the \[\[maker\]\] needs name = a text"):
        create_app(settings)


# -- intake, the record, duplicates ---------------------------------------------------


async def test_intake_records_the_canonical_name_in_the_record_and_its_event(factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, manufacturer="ZASTAVA ARMS")
    assert item.manufacturer == "Zastava"
    async with factory.items.db.read() as session:
        entry = (await session.scalars(select(LedgerEntry).order_by(LedgerEntry.idx.desc()).limit(1))).one()
    assert entry.event_type == "item.registered"
    assert '"manufacturer":"Zastava"' in entry.data.decode()
    unknown = await factory.item(depot, manufacturer="Fabrika e Gramshit")
    assert unknown.manufacturer == "Fabrika e Gramshit"


async def test_duplicates_match_across_spellings_of_one_maker(factory: Factory) -> None:
    depot = await factory.depot()
    first = await factory.item(depot, manufacturer="Zastava", serial="SAME-70")
    second = await factory.item(depot, manufacturer="ZASTAVA ARMS", serial="SAME-70")
    assert second.duplicate_review == "open"
    (warning,) = await factory.items.possible_duplicates(OPERATOR, [second])
    assert warning is not None
    assert warning.seen == (first.code,)
    looked_up = await factory.items.look_up(OPERATOR, "item", second.code)
    assert [d.code for d in await factory.items.duplicates_of(OPERATOR, looked_up)] == [first.code]
    other = await factory.item(depot, manufacturer="Fabrika e Gramshit", serial="SAME-70")
    assert other.duplicate_review is None


async def test_a_record_typed_under_a_variant_before_the_list_is_still_found(factory: Factory, tmp_path: Path) -> None:
    depot = await factory.depot()
    (tmp_path / MAKER_FILE).write_text('[[maker]]\nname = "Somewhere Else"\n', encoding="utf-8")
    factory.items.makers = load_makers(tmp_path)  # a list that does not know Zastava yet: kept as typed
    old = await factory.item(depot, manufacturer="Crvena Zastava", serial="OLD-57")
    assert old.manufacturer == "Crvena Zastava"
    factory.items.makers = MAKERS
    new = await factory.item(depot, manufacturer="Zastava", serial="OLD-57")
    assert new.duplicate_review == "open"
    assert [i.code for i in (await factory.items.search(OPERATOR, {"manufacturer": "zastava arms"})).records] == [new.code, old.code]


async def test_the_api_says_whether_the_maker_is_in_the_list(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    for typed, recorded, known in (("crvena zastava", "Zastava", True), ("Fabrika e Gramshit", "Fabrika e Gramshit", False)):
        body = {"depot_id": str(depot.id), "manufacturer": typed, "serial": f"API-{known}", **WEAPON}
        made = await client.post("/api/items", json=body, headers=csrf_headers(client))
        assert made.status_code == 201, made.text
        assert (made.json()["manufacturer"], made.json()["maker_known"]) == (recorded, known)
        shown = (await client.get(f"/api/items/{made.json()['code']}")).json()
        assert shown["maker_known"] is known
        page = (await client.get(f"/items/{made.json()['code']}")).text
        assert ("maker not in the reference list" in page) is not known


# -- the form's suggestions ---------------------------------------------------------


def _datalist(page: str, name: str) -> list[str]:
    """The values of the datalist the input ``name`` names."""
    found = re.search(rf'<input type="text" name="{name}" id="f-{name}"[^>]* list="([^"]+)"', page)
    assert found, f"{name} names no datalist"
    body = page.split(f'<datalist id="{found.group(1)}">', 1)[1].split("</datalist>", 1)[0]
    return [html.unescape(value) for value in re.findall(r'<option value="([^"]*)"', body)]


@pytest.mark.parametrize("path", ["/items/new", "/items/intake"])
async def test_the_weapon_form_suggests_makers_models_and_calibres(client: httpx.AsyncClient, factory: Factory, path: str) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    page = (await client.get(path)).text
    assert _datalist(page, "manufacturer") == MAKERS.suggest()
    models = _datalist(page, "model")
    assert {"M70AB2", "CZ 75", "TT-33", "PM"} <= set(models)
    assert len(models) == len(set(models))
    assert {"7.62x39mm", "9x18mm", "7.62x54R"} <= set(_datalist(page, "calibre"))
    assert 'label="Zastava · 7.62x39mm"' in page


async def test_a_form_shown_again_suggests_the_models_of_the_maker_typed(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    form = {"depot_id": str(depot.id), "manufacturer": "Застава", "calibre": "7.62x39mm", "serial": "FORM-1", **WEAPON}
    del form["un_type"]
    response = await client.post("/items/new", data=form, headers=csrf_headers(client))
    assert response.status_code == 422
    assert _datalist(response.text, "model") == [model.name for _, model in MAKERS.models_of("Zastava")]


async def test_the_lot_form_suggests_no_weapon_makers(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    assert "<datalist" not in (await client.get("/lots/new")).text
