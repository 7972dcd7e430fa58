"""The iARMS export: which weapons, as what record, in whose scope; the CSV header and the XML against the documented
mapping and the shipped XML Schema."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.items import iarms
from caliber.items.lifecycle import Action, IntakeSource
from caliber.items.models import ComponentType, ItemKind
from caliber.items.schemas import StatusChange
from caliber.tracing.hits_file import HIT_COLUMNS
from tests.factories import OPERATOR, Factory

ROOT = Path(__file__).resolve().parents[2]
XSD = ROOT / "src" / "caliber" / "items" / "iarms.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def _bearer(factory: Factory, role: Role, **where: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {await factory.token(await factory.user(role, **where))}"}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def _stock(factory: Factory) -> tuple[Any, dict[str, str]]:
    """A depot holding one weapon of each kind of record, and some that are not exported; ``serial -> record type``."""
    depot = await factory.depot(jurisdiction="ME")
    await factory.item(depot, serial="SEIZED-1", intake_source=IntakeSource.SEIZED, case_reference="KT 12/26")
    await factory.item(depot, serial="FOUND-1", intake_source=IntakeSource.FOUND)
    await factory.item(depot, serial="GIVEN-1")  # the factory's weapons are voluntarily surrendered
    lost = await factory.item(depot, serial="LOST-1", intake_source=IntakeSource.SURPLUS)
    await factory.items.change_status(OPERATOR, "item", lost.code, StatusChange(Action.REPORT_MISSING, "not on its shelf"))
    held = await factory.item(depot, serial="HELD-1", intake_source=IntakeSource.SURPLUS)
    await factory.items.change_status(OPERATOR, "item", held.code, StatusChange(Action.PLACE_HOLD, "police inquiry"))
    await factory.item(depot, serial="SURPLUS-1", intake_source=IntakeSource.SURPLUS)
    void = await factory.item(depot, serial="VOID-1", intake_source=IntakeSource.FOUND)
    await factory.items.change_status(OPERATOR, "item", void.code, StatusChange(Action.VOID, "typed twice"))
    await factory.item(depot, serial="BARREL-1", kind=ItemKind.COMPONENT, component_type=ComponentType.BARREL)
    expected = {"SEIZED-1": "seized", "FOUND-1": "found", "GIVEN-1": "surrendered", "LOST-1": "lost", "HELD-1": "seized"}
    return depot, expected


async def test_lost_seized_found_and_surrendered_weapons_are_exported_as_their_record_type(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    depot, expected = await _stock(factory)
    headers = await _bearer(factory, Role.DEPOT_MANAGER, depots=[depot])
    response = await client.get("/api/items/iarms.csv", headers=headers)
    assert response.status_code == 200, response.text
    assert 'filename="iarms.csv"' in response.headers["content-disposition"]
    rows = {row["serial_number"]: row for row in _rows(response.text)}
    assert {serial: row["record_type"] for serial, row in rows.items()} == expected
    seized = rows["SEIZED-1"]
    assert (seized["reporting_country"], seized["holding_agency"], seized["case_reference"]) == ("ME", depot.code, "KT 12/26")
    assert (seized["firearm_type"], seized["make"], seized["model"], seized["calibre"]) == ("Assault rifle", "Zastava", "M70", "7.62x39mm")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", seized["event_date"])
    assert rows["LOST-1"]["custody_status"] == "Missing"
    assert rows["FOUND-1"]["missing_identifiers"] == "country_of_manufacture year_of_manufacture marking_location"


async def test_the_export_keeps_to_the_readers_scope_and_is_refused_to_clerks_and_witnesses(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    home, away = await factory.depot(jurisdiction="AL"), await factory.depot(jurisdiction="RS")
    await factory.item(home, serial="HOME-1", intake_source=IntakeSource.FOUND)
    await factory.item(away, serial="AWAY-1", intake_source=IntakeSource.FOUND)
    for role, where in ((Role.DEPOT_MANAGER, {"depots": [home]}), (Role.INSPECTOR, {"jurisdictions": ["AL"]})):
        for form in ("csv", "xml"):
            text = (await client.get(f"/api/items/iarms.{form}", headers=await _bearer(factory, role, **where))).text
            assert "HOME-1" in text, (role, form)
            assert "AWAY-1" not in text, (role, form)
    official = await _bearer(factory, Role.MINISTRY_OFFICIAL)
    everything = (await client.get("/api/items/iarms.csv", headers=official)).text
    assert "HOME-1" in everything
    assert "AWAY-1" in everything
    narrowed = (await client.get(f"/api/items/iarms.csv?depot_id={away.id}", headers=official)).text
    assert "HOME-1" not in narrowed
    assert "AWAY-1" in narrowed
    for role in (Role.DEPOT_CLERK, Role.WITNESS):
        refused = await client.get("/api/items/iarms.xml", headers=await _bearer(factory, role))
        assert refused.status_code == 403, role
    bad = await client.get("/api/items/iarms.csv?status=lost", headers=official)
    assert bad.status_code == 422
    assert "status" in bad.text


def _schema() -> tuple[str, str, list[tuple[str, str, bool]], dict[str, tuple[str, list[str]]]]:
    """The root, the record element, the record's elements (name, type, required) and each simple type's facet, as
    ``iarms.xsd`` declares them."""
    schema = ET.parse(XSD).getroot()  # noqa: S314 (the schema in this repo)
    (root,) = schema.findall(f"{XS}element")
    record = root.find(f"{XS}complexType/{XS}sequence/{XS}element")
    assert record is not None
    (record_type,) = [t for t in schema.findall(f"{XS}complexType") if t.get("name") == record.get("type")]
    elements = [(e.get("name", ""), e.get("type", ""), e.get("minOccurs", "1") != "0") for e in record_type.iter(f"{XS}element")]
    facets: dict[str, tuple[str, list[str]]] = {}
    for simple in schema.findall(f"{XS}simpleType"):
        restriction = simple.find(f"{XS}restriction")
        assert restriction is not None
        assert restriction.get("base") == "xs:string"
        kinds = {facet.tag.removeprefix(XS) for facet in restriction}
        assert len(kinds) == 1
        facets[simple.get("name", "")] = (kinds.pop(), [facet.get("value", "") for facet in restriction])
    return root.get("name", ""), record.get("name", ""), elements, facets


def _valid(value: str, facet: str, values: list[str]) -> bool:
    if facet == "enumeration":
        return value in values
    if facet == "pattern":
        return re.fullmatch(values[0], value) is not None
    return len(value) >= int(values[0])


def _check_against_schema(document: str) -> list[str]:
    """Every way ``document`` breaks ``iarms.xsd``: root, attribute, element names and order, required elements, values."""
    root_name, record_name, elements, facets = _schema()
    order = [name for name, _, _ in elements]
    problems = []
    root = ET.fromstring(document)  # noqa: S314 (a file this test made)
    if root.tag != root_name or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", root.get("generated", "")):
        problems.append(f"root {root.tag} {root.attrib}")
    for record in root:
        names = [child.tag for child in record]
        if record.tag != record_name or names != [n for n in order if n in names] or len(set(names)) != len(names):
            problems.append(f"{record.tag}: elements {names} not in the schema's order {order}")
        found = {child.tag: child.text or "" for child in record}
        for name, kind, required in elements:
            if name not in found:
                problems += [f"{name} is required"] if required else []
            elif not _valid(found[name], *facets[kind]):
                problems.append(f"{name} {found[name]!r} is not a valid {kind}")
    return problems


async def test_the_xml_export_is_valid_against_the_shipped_schema(client: httpx.AsyncClient, factory: Factory) -> None:
    depot, expected = await _stock(factory)
    await factory.item(depot, serial="removed", intake_source=IntakeSource.FOUND, country_of_manufacture="YU", year_of_manufacture=1984)
    response = await client.get(f"/api/items/iarms.xml?depot_id={depot.id}", headers=await _bearer(factory, Role.INSPECTOR))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert _check_against_schema(response.text) == []
    records = ET.fromstring(response.text).findall("firearmRecord")  # noqa: S314 (a file this test made)
    assert len(records) == len(expected) + 1
    unmarked = next(r for r in records if r.findtext("country_of_manufacture") == "YU")
    assert unmarked.find("serial_number") is None  # a serial that identifies nothing is left out, not sent as "removed"
    assert unmarked.findtext("year_of_manufacture") == "1984"
    assert unmarked.findtext("missing_identifiers") == "serial marking_location"


def test_the_schema_check_finds_what_breaks_the_schema() -> None:
    """The check above is a real one: a record out of order, lacking a required element or with a wrong value fails."""
    good = "<record_reference>1</record_reference><record_type>lost</record_type>"
    document = '<iarmsRecords generated="2026-01-01T00:00:00Z"><firearmRecord>{}</firearmRecord></iarmsRecords>'
    problems = _check_against_schema(document.format(good + "<reporting_country>Serbia</reporting_country>"))
    assert "event_date is required" in problems
    assert "reporting_country 'Serbia' is not a valid country" in problems
    swapped = "<record_type>lost</record_type><record_reference>1</record_reference>"
    assert any("not in the schema's order" in p for p in _check_against_schema(document.format(swapped)))
    assert any("record_type 'mislaid'" in p for p in _check_against_schema(document.format(good.replace("lost", "mislaid"))))


def test_the_csv_header_the_xml_elements_and_the_documented_table_are_one_mapping() -> None:
    exported, _, hits = (ROOT / "docs" / "iarms.md").read_text().partition("\n## Hits")
    assert re.findall(r"^\| `(\w+)` \|", exported, re.M) == iarms.COLUMNS
    assert re.findall(r"^\| `(\w+)` \|", hits, re.M) == [c.name for c in HIT_COLUMNS]  # the file iARMS answers with
    assert [name for name, _, _ in _schema()[2]] == iarms.COLUMNS
    assert [required for _, _, required in _schema()[2]] == [f.required for f in iarms.FIELDS]


async def test_the_csv_header_is_the_mapping_even_when_nothing_is_exported(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    response = await client.get(f"/api/items/iarms.csv?depot_id={depot.id}", headers=await _bearer(factory, Role.INSPECTOR))
    assert response.text.splitlines() == [",".join(iarms.COLUMNS)]


def test_docs_iarms_md_and_the_schema_are_written_from_the_definition() -> None:
    assert (ROOT / "docs" / "iarms.md").read_text() == iarms.markdown(), (
        "docs/iarms.md is stale: run `python -m caliber.items.iarms > docs/iarms.md`"
    )
    assert XSD.read_text() == iarms.xsd(), "iarms.xsd is stale: run `python -m caliber.items.iarms xsd > src/caliber/items/iarms.xsd`"
