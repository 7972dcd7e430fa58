"""The fields of a weapon or component and of an ammunition lot: one definition of each record kind.

From it come the intake forms (their fieldsets, labels, help and required marks), the fields a correction may
name, the import columns and the downloadable template, and the field tables of ``docs/fields.md``
(``python -m caliber.items.fields > docs/fields.md``). The intake structs of ``caliber.items.schemas``
stay written out; ``tests/items/test_fields.py`` fails when one of them and its definition disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

from caliber.items.lifecycle import IntakeSource
from caliber.items.models import CompatibilityGroup, ComponentType, Condition, EuCategory, HazardDivision, ItemKind, UnType

__all__ = ["ITEM", "LOT", "Field", "RecordFields", "markdown"]

Control = Literal["text", "select", "textarea", "depot", "location"]


@dataclass(frozen=True)
class Field:
    """One field of a record: what people read of it, what it holds, and where it may be given."""

    name: str
    """As the API, the custody events and the tables name it."""
    label: str
    """In plain words, as the intake form shows it."""
    group: str
    """The fieldset of the intake form: Where, What, Markings or Custody."""
    holds: str = "text"
    """What it holds, for people (a field with ``choices`` holds one of them)."""
    choices: type[enum.Enum] | None = None
    required: bool = False
    """An intake (API or import row) must give it."""
    default: str = ""
    """What an intake that leaves it out records ("" when that is nothing)."""
    ask: str = ""
    """The intake form leaves this choice to the person (required there although it has a default), and asks this
    when it is not made."""
    help: str = ""
    """Shown under the form field, in the template's column sheet and in the docs."""
    file_help: str = ""
    """What a file's cell holds, where it differs from the form's control (a path typed, a place chosen)."""
    correctable: bool = True
    """A later correction may name it (the old value stays in the custody record)."""
    column: str | None = None
    """Its import column; None: a file does not give it."""
    example: str = ""
    """The example value of the import template."""
    case: Literal["", "upper", "lower"] = ""
    """How an imported or typed value is read: in capitals, or in small letters with spaces as underscores."""
    control: Control = "text"
    maxlength: int | None = None
    inputmode: str | None = None
    pattern: str | None = None
    placeholder: str | None = None
    blank: str | None = None
    """The empty choice of an optional select, as it reads."""

    @property
    def required_on_form(self) -> bool:
        """The form marks it required: the intake needs it, or the form asks the person to choose."""
        return self.required or bool(self.ask)

    @property
    def options(self) -> list[tuple[str, str]]:
        """The choices as (value, words) pairs."""
        members: list[enum.Enum] = list(self.choices or ())
        return [(m.value, getattr(m, "label", m.value)) for m in members]

    @property
    def explained(self) -> str:
        """What the field holds, in a sentence: the template's column sheet and the docs."""
        holds = "one of " + ", ".join(m.value for m in self.choices) if self.choices is not None else self.holds
        default = f"default {self.default}" if self.default else ""
        return "; ".join(filter(None, [holds, self.file_help or self.help, default]))


@dataclass(frozen=True)
class RecordFields:
    """Every field of one record kind, in the order of its intake form."""

    kind: str
    title: str
    fields: tuple[Field, ...]

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __getitem__(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def groups(self) -> list[tuple[str, list[Field]]]:
        """The intake form's fieldsets: (legend, fields) in order."""
        legends = dict.fromkeys(f.group for f in self.fields)
        return [(legend, [f for f in self.fields if f.group == legend]) for legend in legends]

    @property
    def described(self) -> tuple[str, ...]:
        """The fields of the record itself, not of where it is: what its ``*.registered`` event carries."""
        return tuple(f.name for f in self.fields if f.group != "Where")

    @property
    def correctable(self) -> tuple[str, ...]:
        """The fields a correction may name."""
        return tuple(f.name for f in self.fields if f.correctable)

    @property
    def importable(self) -> list[Field]:
        """The import columns in template order: the required first, the storage location last."""
        imported = [f for f in self.fields if f.column]
        return sorted(imported, key=lambda f: (not f.required, f.group == "Where"))

    @property
    def asked(self) -> dict[str, str]:
        """The choices the intake form leaves to the person, and what to ask when one is not made."""
        return {
            f.name: f.ask or f"Choose the {f.label.lower()}" for f in self.fields if f.control in ("select", "depot") and f.required_on_form
        }


_DEPOT = Field("depot_id", "Depot", "Where", "depot", required=True, ask="Choose the depot", correctable=False, control="depot")
_LOCATION = Field(
    "location_id",
    "Location",
    "Where",
    "storage location",
    file_help="storage location path as the depot page shows it, e.g. Building A / Room 1",
    correctable=False,
    column="location",
    example="Building A / Room 1",
    control="location",
)
_SOURCE = Field(
    "intake_source",
    "Intake source",
    "Custody",
    choices=IntakeSource,
    required=True,
    ask="Choose how it came into custody",
    column="intake_source",
    example="voluntarily_surrendered",
    case="lower",
    control="select",
)
_CASE = Field("case_reference", "Legal basis / case reference", "Custody", "text up to 120", column="case_reference", maxlength=120)
_COURT = Field("court_order", "Court order", "Custody", "text up to 120", column="court_order", maxlength=120)
_CONDITION = Field(
    "condition",
    "Condition",
    "Custody",
    choices=Condition,
    default="unknown",
    ask="Choose its condition",
    column="condition",
    example="serviceable",
    case="lower",
    control="select",
)
_NOTES = Field("notes", "Notes", "Custody", "text up to 4000, several lines", column="notes", control="textarea")
_MAKER = Field("manufacturer", "Manufacturer", "What", "text up to 120", required=True, column="manufacturer", maxlength=120)
_CALIBRE = Field("calibre", "Calibre", "What", "text up to 40", required=True, column="calibre", example="7.62x39mm", maxlength=40)


def _year(name: str, label: str, group: str, **more: Any) -> Field:
    return Field(name, label, group, "year, four digits", column=name, maxlength=4, inputmode="numeric", **more)


def _mass(name: str, label: str, **more: Any) -> Field:
    return Field(name, label, "What", "kilograms to the gram", required=True, column=name, maxlength=13, inputmode="decimal", **more)


ITEM = RecordFields(
    "item",
    "Weapons and components",
    (
        _DEPOT,
        _LOCATION,
        Field(
            "serial",
            "Serial number",
            "What",
            "text up to 80",
            required=True,
            help="as marked; write “illegible” or “removed” when it cannot be read",
            column="serial",
            example="AK123456",
            maxlength=80,
        ),
        replace(_MAKER, example="Zastava"),
        Field("model", "Model", "What", "text up to 120", required=True, column="model", example="M70", maxlength=120),
        replace(_CALIBRE, placeholder="7.62x39mm"),
        Field(
            "un_type",
            "UN SALW type",
            "What",
            choices=UnType,
            required=True,
            ask="Choose the type of weapon",
            column="un_type",
            example="assault_rifle",
            case="lower",
            control="select",
        ),
        Field(
            "kind",
            "Kind",
            "What",
            choices=ItemKind,
            default="weapon",
            ask="Choose whether it is a whole weapon or a component",
            column="kind",
            example="weapon",
            case="lower",
            control="select",
        ),
        Field(
            "component_type",
            "Component type",
            "What",
            choices=ComponentType,
            file_help="for components: which part",
            column="component_type",
            case="lower",
            control="select",
            blank="(whole weapon)",
        ),
        Field(
            "parent_code",
            "Comes from weapon (label code)",
            "What",
            "label code, ten digits",
            file_help="for components: label code of the weapon it came from",
            column="parent_code",
            maxlength=12,
            inputmode="numeric",
        ),
        Field(
            "country_of_manufacture",
            "Country of manufacture",
            "Markings",
            "country code, two letters",
            help="ISO code: RS, BA, YU for Yugoslavia, SU for the Soviet Union",
            column="country_of_manufacture",
            example="YU",
            case="upper",
            maxlength=2,
            pattern="[A-Za-z]{2}",
        ),
        _year("year_of_manufacture", "Year of manufacture", "Markings", example="1984"),
        Field(
            "import_country",
            "Import country",
            "Markings",
            "country code, two letters",
            file_help="ISO code of the import marking",
            column="import_country",
            case="upper",
            maxlength=2,
            pattern="[A-Za-z]{2}",
        ),
        _year("import_year", "Import year", "Markings"),
        Field(
            "marking_location",
            "Where the markings are",
            "Markings",
            "text up to 400",
            column="marking_location",
            example="left side of receiver",
            maxlength=200,
        ),
        Field(
            "other_marks",
            "Other marks",
            "Markings",
            "text up to 400",
            help="proof marks, assembly numbers",
            column="other_marks",
            example="proof mark on barrel",
            maxlength=400,
        ),
        Field(
            "eu_category",
            "EU category",
            "Markings",
            choices=EuCategory,
            column="eu_category",
            example="A",
            control="select",
            blank="(not known)",
        ),
        replace(_SOURCE),
        replace(_CASE, help="required for seized weapons"),
        _COURT,
        _CONDITION,
        _NOTES,
    ),
)
"""A weapon or a component (``NewItem``)."""

LOT = RecordFields(
    "lot",
    "Ammunition lots",
    (
        _DEPOT,
        _LOCATION,
        Field(
            "lot_number",
            "Lot or batch number",
            "What",
            "text up to 120",
            required=True,
            column="lot_number",
            example="PPU-84-117",
            maxlength=80,
        ),
        replace(_MAKER, example="Prvi Partizan"),
        _year("year", "Year", "What", file_help="year of manufacture", example="1984"),
        _CALIBRE,
        Field(
            "nature",
            "Nature / type",
            "What",
            "text up to 120",
            required=True,
            column="nature",
            example="ball",
            maxlength=120,
            placeholder="ball, tracer, HE, ...",
        ),
        Field(
            "quantity",
            "Quantity (pieces)",
            "What",
            "whole number of pieces (rounds, bombs, grenades)",
            required=True,
            column="quantity",
            example="12000",
            maxlength=13,
            inputmode="numeric",
        ),
        _mass("gross_mass_kg", "Gross mass (kg)", help="to the gram, e.g. 180.5", example="216"),
        _mass("net_explosive_mass_kg", "Net explosive mass (kg)", example="19.2"),
        Field(
            "hazard_division",
            "Hazard division",
            "What",
            choices=HazardDivision,
            required=True,
            column="hazard_division",
            example="1.4",
            control="select",
        ),
        Field(
            "compatibility_group",
            "Compatibility group",
            "What",
            choices=CompatibilityGroup,
            required=True,
            column="compatibility_group",
            example="S",
            case="upper",
            control="select",
        ),
        replace(_SOURCE, example="surplus"),
        _CASE,
        _COURT,
        _CONDITION,
        _NOTES,
    ),
)
"""An ammunition lot (``NewLot``)."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """``docs/fields.md``: a table of every field of each record kind."""
    lines = [
        "# Fields of weapons, components and ammunition lots",
        "",
        "Written from `caliber.items.fields` (`python -m caliber.items.fields > docs/fields.md`); the intake",
        "forms, the import columns and template, and the fields a correction may name all come from it.",
        "**Required** fields must be given by every intake (API or import row); a field marked *asked* has a",
        "default there, but the intake form asks the person to choose. **Corrected** fields may be corrected later",
        "(the old value stays in the custody record). A file names a field by its **column**.",
    ]
    for record in (ITEM, LOT):
        lines += ["", f"## {record.title}", "", "| field | label | holds | required | corrected | column | example |"]
        lines.append("|---|---|---|---|---|---|---|")
        for f in record:
            required = "yes" if f.required else "asked" if f.ask else ""
            column = f"`{f.column}`" if f.column else ""
            example = f"`{f.example}`" if f.example else ""
            corrected = "yes" if f.correctable else ""
            cells = [f"`{f.name}`", _cell(f.label), _cell(f.explained), required, corrected, column, example]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
