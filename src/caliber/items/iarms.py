"""iARMS-ready records: weapons lost from stock, seized, found or surrendered, as CSV or XML for INTERPOL's iARMS.

:data:`FIELDS` is the one definition of the file: the CSV header, the XML
elements and their order, the XML Schema shipped beside this module
(``iarms.xsd``: ``python -m caliber.items.iarms xsd > src/caliber/items/iarms.xsd``)
and the table of ``docs/iarms.md`` (``python -m caliber.items.iarms > docs/iarms.md``)
are all written from it; the same page's section on the hits iARMS answers with is written from
:data:`caliber.tracing.hits_file.HIT_COLUMNS`. Which weapons are exported, and as what kind of record,
is :data:`BY_STATUS` and :data:`BY_SOURCE`; which identifiers a record lacks is
:mod:`caliber.items.identity`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from xml.etree import ElementTree as ET

from sqlalchemy import Select, or_, select

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import Database
from caliber.depots.models import Depot
from caliber.items.identity import missing_identifiers
from caliber.items.lifecycle import IntakeSource, Status
from caliber.items.makers import MakerList
from caliber.items.models import Item, ItemKind, UnType
from caliber.items.queries import _item_filters
from caliber.items.records import UNREADABLE_SERIALS, serial_key
from caliber.tracing.hits_file import hits_markdown
from caliber.web import csv_cell

__all__ = ["BY_SOURCE", "BY_STATUS", "FIELDS", "READERS", "RECORD_TYPES", "IarmsField", "iarms_csv", "iarms_xml", "markdown", "xsd"]

READERS = (Role.ADMIN, Role.DEPOT_MANAGER, Role.INSPECTOR, Role.MINISTRY_OFFICIAL)
"""Who may export iARMS records: those who report losses and seizures, and oversight, each in their scope."""

RECORD_TYPES = ("lost", "stolen", "seized", "found", "surrendered")
BY_STATUS = {Status.MISSING: "lost", Status.EVIDENCE_HOLD: "seized"}
"""Weapons exported for their status, and the record type each becomes (the status wins over the intake source)."""
BY_SOURCE = {IntakeSource.SEIZED: "seized", IntakeSource.FOUND: "found", IntakeSource.SURRENDERED: "surrendered"}
"""Weapons exported for how they came into custody, and the record type each becomes."""
PAGE = 500
ROOT, RECORD = "iarmsRecords", "firearmRecord"


@dataclass(frozen=True)
class Row:
    """One exported weapon: its item record, and the depot that holds it."""

    item: Any
    depot_code: str
    jurisdiction: str
    zone: dt.tzinfo


def record_type(item: Any) -> str:
    """What kind of iARMS record a weapon makes: by its status (:data:`BY_STATUS`), else by its intake source."""
    return BY_STATUS.get(Status(item.status)) or BY_SOURCE[IntakeSource(item.intake_source)]


def _event_date(row: Row) -> str:
    moment = row.item.status_changed_at if Status(row.item.status) is Status.MISSING else row.item.registered_at
    return str(moment.astimezone(row.zone).date().isoformat())


def _text(name: str) -> Callable[[Row], str]:
    return lambda row: str(getattr(row.item, name) or "").strip()


def _serial(row: Row) -> str:
    return "" if serial_key(row.item.serial) in UNREADABLE_SERIALS else row.item.serial.strip()


@dataclass(frozen=True)
class IarmsField:
    """One field of an iARMS record: its column (and XML element), what iARMS calls it, where Caliber keeps it, how
    its value is converted, whether every record carries it, and its XML Schema type."""

    name: str
    iarms: str
    source: str
    conversion: str
    value: Callable[[Row], str]
    required: bool = False
    xsd_type: str = "text"


FIELDS = (
    IarmsField(
        "record_reference", "Reference of the record (national reference number)", "`code`",
        "The weapon's Caliber label code, unchanged: it names the record in Caliber and on the weapon's tag.",
        _text("code"), required=True,
    ),
    IarmsField(
        "record_type", "Type of record: lost, stolen, seized (trafficked or smuggled), found, surrendered",
        "`status`, `intake_source`",
        "Status `missing` becomes `lost` (a stock check or a manager reported it absent; Caliber does not tell loss from"
        " theft, the focal point writes `stolen` where theft is established); status `evidence_hold` and intake source"
        " `seized` become `seized`; intake source `found` becomes `found`, `voluntarily_surrendered` `surrendered`.",
        lambda row: record_type(row.item), required=True, xsd_type="record_type",
    ),
    IarmsField(
        "event_date", "Date of the loss, theft, seizure, finding or surrender", "`status_changed_at`, `registered_at`",
        "For a lost weapon the day it was reported missing, otherwise the day Caliber took it into custody; the local"
        " date in the deployment's time zone (`CALIBER_TIME_ZONE`), ISO 8601 `YYYY-MM-DD`.",
        _event_date, required=True, xsd_type="date",
    ),
    IarmsField(
        "reporting_country", "Reporting country", "the holding depot's `jurisdiction_code`",
        "ISO 3166-1 alpha-2 code of the jurisdiction of the depot that holds (or lost) the weapon; `XK` for Kosovo*.",
        lambda row: row.jurisdiction, required=True, xsd_type="country",
    ),
    IarmsField(
        "firearm_type", "Type of firearm", "`un_type`",
        "The UN SALW type (UN Panel of Experts 1997) in words: `assault_rifle` becomes `Assault rifle`.",
        lambda row: UnType(row.item.un_type).label, required=True, xsd_type="firearm_type",
    ),
    IarmsField("make", "Make (manufacturer)", "`manufacturer`", "As recorded, trimmed.", _text("manufacturer"), required=True),
    IarmsField("model", "Model", "`model`", "As recorded, trimmed.", _text("model"), required=True),
    IarmsField("calibre", "Calibre", "`calibre`", "As recorded, trimmed.", _text("calibre"), required=True),
    IarmsField(
        "serial_number", "Serial number", "`serial`",
        "As marked; left out where the serial identifies nothing (`illegible`, `removed`, `none`, `unknown`).", _serial,
    ),
    IarmsField(
        "country_of_manufacture", "Country of manufacture", "`country_of_manufacture`",
        "ISO 3166-1 alpha-2 code as recorded (former codes such as `YU` kept); left out where not known.",
        _text("country_of_manufacture"), xsd_type="country",
    ),
    IarmsField("year_of_manufacture", "Year of manufacture", "`year_of_manufacture`", "Four digits; left out where not known.",
               _text("year_of_manufacture"), xsd_type="year"),
    IarmsField("import_country", "Country of import", "`import_country`", "ISO 3166-1 alpha-2, from the import marking.",
               _text("import_country"), xsd_type="country"),
    IarmsField("import_year", "Year of import", "`import_year`", "Four digits, from the import marking.", _text("import_year"),
               xsd_type="year"),
    IarmsField("marking_location", "Location of markings", "`marking_location`", "As recorded.", _text("marking_location")),
    IarmsField("other_marks", "Other marks (proof marks, assembly numbers)", "`other_marks`", "As recorded.", _text("other_marks")),
    IarmsField("case_reference", "Case reference", "`case_reference`", "The legal basis or criminal case, as recorded.",
               _text("case_reference")),
    IarmsField("holding_agency", "Agency holding the firearm", "the depot's `code`",
               "The code of the Caliber depot that holds the weapon (or held it when it went missing).",
               lambda row: row.depot_code, required=True),
    IarmsField(
        "custody_status", "Current status (national)", "`status`",
        "The weapon's status in Caliber today in words (`Destroyed`, `Evidence hold`, ...): whether it is still held.",
        lambda row: Status(row.item.status).label, required=True,
    ),
    IarmsField(
        "missing_identifiers", "Identifiers missing for a trace (national)", "computed (`caliber.items.identity`)",
        "The Caliber fields a trace needs that the record lacks, separated by spaces; left out when it lacks none.",
        lambda row: " ".join(missing_identifiers(row.item)),
    ),
)  # fmt: skip
"""The fields of an iARMS record, in the order of the CSV columns and the XML elements."""
COLUMNS = [f.name for f in FIELDS]

_SELECTED = or_(Item.status.in_([s.value for s in BY_STATUS]), Item.intake_source.in_([s.value for s in BY_SOURCE]))


async def _rows(db: Database, actor: Actor, filters: dict[str, Any], zone: dt.tzinfo, makers: MakerList) -> AsyncIterator[list[Row]]:
    """The weapons to export in ``actor``'s scope (records voided as made in error left out), page by page, newest first."""
    columns: Select[Any] = select(Item, Depot.code, Depot.jurisdiction_code)  # type: ignore[assignment]
    query = _item_filters(columns, actor, filters, sqlite=db.is_sqlite, makers=makers)
    query = query.join(Depot, Depot.id == Item.depot_id).where(
        _SELECTED, Item.kind == ItemKind.WEAPON.value, Item.status != Status.VOID.value
    )
    after: UUID | None = None
    while True:
        page = query.where(Item.id < after) if after is not None else query
        async with db.read() as session:
            result = await session.execute(page.order_by(Item.id.desc()).limit(PAGE))
            found = [Row(item, code, jurisdiction, zone) for item, code, jurisdiction in result]
        if found:
            yield found
        if len(found) < PAGE:
            return
        after = found[-1].item.id


def iarms_csv(db: Database, actor: Actor, filters: dict[str, Any], zone: dt.tzinfo, makers: MakerList) -> AsyncIterator[str]:
    """The iARMS records of ``actor``'s scope (narrowed by the weapon search's ``filters``) as CSV, page by page;
    :class:`~caliber.errors.PermissionDenied` at once, before anything is sent, unless ``actor`` may export."""
    actor.require_role(*READERS)
    return _csv(_rows(db, actor, filters, zone, makers))


async def _csv(pages: AsyncIterator[list[Row]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    async for found in pages:
        writer.writerows([csv_cell(f.value(row)) for f in FIELDS] for row in found)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _element(row: Row) -> ET.Element:
    record = ET.Element(RECORD)
    for f in FIELDS:
        if value := f.value(row):
            ET.SubElement(record, f.name).text = value
    return record


def iarms_xml(
    db: Database, actor: Actor, filters: dict[str, Any], zone: dt.tzinfo, now: dt.datetime, *, makers: MakerList
) -> AsyncIterator[str]:
    """The same records as :func:`iarms_csv` as XML valid against ``iarms.xsd``, one ``firearmRecord`` each, page by page."""
    actor.require_role(*READERS)
    return _xml(_rows(db, actor, filters, zone, makers), now)


async def _xml(pages: AsyncIterator[list[Row]], now: dt.datetime) -> AsyncIterator[str]:
    generated = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<{ROOT} generated="{generated}">\n'
    async for found in pages:
        yield "".join(f"  {ET.tostring(_element(row), encoding='unicode')}\n" for row in found)
    yield f"</{ROOT}>\n"


_TYPES = {
    "record_type": ("enumeration", RECORD_TYPES),
    "firearm_type": ("enumeration", tuple(t.label for t in UnType)),
    "country": ("pattern", ("[A-Z]{2}",)),
    "year": ("pattern", ("[0-9]{4}",)),
    "date": ("pattern", ("[0-9]{4}-[0-9]{2}-[0-9]{2}",)),
    "text": ("minLength", ("1",)),
}


def xsd() -> str:
    """``iarms.xsd``: the XML Schema of the XML file, written from :data:`FIELDS`."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- Written from caliber.items.iarms.FIELDS: python -m caliber.items.iarms xsd > src/caliber/items/iarms.xsd -->",
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="unqualified">',
        f'  <xs:element name="{ROOT}">',
        "    <xs:complexType>",
        "      <xs:sequence>",
        f'        <xs:element name="{RECORD}" type="{RECORD}" minOccurs="0" maxOccurs="unbounded"/>',
        "      </xs:sequence>",
        '      <xs:attribute name="generated" type="xs:dateTime" use="required"/>',
        "    </xs:complexType>",
        "  </xs:element>",
        f'  <xs:complexType name="{RECORD}">',
        "    <xs:sequence>",
    ]
    for f in FIELDS:
        occurs = "" if f.required else ' minOccurs="0"'
        lines.append(f'      <xs:element name="{f.name}" type="{f.xsd_type}"{occurs}/>')
    lines += ["    </xs:sequence>", "  </xs:complexType>"]
    for name, (facet, values) in _TYPES.items():
        lines += [f'  <xs:simpleType name="{name}">', '    <xs:restriction base="xs:string">']
        lines += [f'      <xs:{facet} value="{value}"/>' for value in values]
        lines += ["    </xs:restriction>", "  </xs:simpleType>"]
    lines.append("</xs:schema>")
    return "\n".join(lines) + "\n"


_INTRO = """\
# iARMS records

INTERPOL's iARMS (Illicit Arms Records and tracing Management System) holds records of lost, stolen,
trafficked and smuggled firearms that police worldwide query when they seize one. Caliber exports the
weapons it holds that belong there, for the national focal point (the INTERPOL National Central Bureau or
the agency it names) to load into iARMS: Caliber never sends anything to INTERPOL itself.

The mapping below follows the public description of iARMS record fields (make, model, calibre, serial
number, type, country of manufacture and import, marks, the reporting country, the case and the event);
it is not an official INTERPOL schema, and the focal point maps each column to the form or bulk format
its iARMS access uses.

## What is exported

Weapons (not components or ammunition) in the reader's scope: depot staff their depots, inspectors and
ministry officials their jurisdictions (every depot when none is assigned). Depot managers, inspectors,
ministry officials and admins may export (`GET /api/items/iarms.csv`, `GET /api/items/iarms.xml`, the
links on the weapons list, or `caliber items iarms-export --format csv|xml [--depot CODE] FILE`);
the weapon search's filters (`depot_id`, `status`, `intake_source`, ...) narrow the file.

A weapon is exported when its status is `missing` (reported as a possible loss or theft) or `evidence_hold`,
or when it came in seized, found or voluntarily surrendered, whatever has happened to it since (a destroyed
weapon's record still answers an iARMS query); records voided as made in error are left out.

## Fields

Written from `caliber.items.iarms.FIELDS` (`python -m caliber.items.iarms > docs/iarms.md`): the CSV header
is the **column** names in this order, and the XML file has one `firearmRecord` per weapon holding one
element per column, in the same order, under the root `iarmsRecords` (attribute `generated`, the time of
the export in UTC). **Required** fields are in every record; the others are left out of the XML (and blank
in the CSV) where Caliber holds no value.
"""

_SCHEMA = """
## XML Schema

`src/caliber/items/iarms.xsd` (written from the same definition:
`python -m caliber.items.iarms xsd > src/caliber/items/iarms.xsd`) describes the XML file. lxml is not a
dependency of Caliber, so `tests/items/test_iarms.py` checks an exported file against the schema with the
standard library: it reads the schema's element list, order, required elements and value restrictions, and
checks every exported record against them.

## Identity completeness

`missing_identifiers` names the identifiers a trace needs that the record lacks: manufacturer, model,
calibre, serial (one that can be read: not `illegible` or `removed`), country and year of manufacture,
and where the markings are (`caliber.items.identity`). The item page shows the same list ("Traceable:
yes", or what is missing), the item API returns it, and the weapons list filtered to one depot says how
many of its weapons can be traced at all.
"""


def markdown() -> str:
    """``docs/iarms.md``: what is exported, and each field with its source and conversion."""
    lines = [_INTRO, "| column | iARMS field | Caliber field | conversion | required |", "|---|---|---|---|---|"]
    for f in FIELDS:
        cells = [f"`{f.name}`", f.iarms, f.source, f.conversion.replace("|", "\\|"), "yes" if f.required else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + _SCHEMA + "\n" + hits_markdown()


if __name__ == "__main__":
    print(xsd() if sys.argv[1:] == ["xsd"] else markdown(), end="")
