"""The one definition of the fields of items and lots agrees with the intake structs, the events, the responses,
the import template and docs/fields.md."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from caliber.imports.importer import SHEETS
from caliber.items import fields
from caliber.items.events import ItemRegistered, LotRegistered
from caliber.items.fields import ITEM, LOT, RecordFields
from caliber.items.schemas import ItemOut, LotOut, NewItem, NewLot

ROOT = Path(__file__).resolve().parents[2]
KINDS = [(ITEM, NewItem, ItemRegistered, ItemOut, "weapons"), (LOT, NewLot, LotRegistered, LotOut, "lots")]


def _info(struct: type[msgspec.Struct]) -> dict[str, msgspec.inspect.Field]:
    return {f.name: f for f in msgspec.inspect.type_info(struct).fields}  # type: ignore[attr-defined]


def _kinds(kind: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    """The types a field may hold, ``None`` and constraints' wrappers left out."""
    kinds = kind.types if isinstance(kind, msgspec.inspect.UnionType) else (kind,)
    return [k.type if isinstance(k, msgspec.inspect.Metadata) else k for k in kinds]


def _enum(kind: msgspec.inspect.Type) -> type | None:
    return next((k.cls for k in _kinds(kind) if isinstance(k, msgspec.inspect.EnumType)), None)


def _max_length(kind: msgspec.inspect.Type) -> int | None:
    return next((k.max_length for k in _kinds(kind) if isinstance(k, msgspec.inspect.StrType)), None)


@pytest.mark.parametrize(("record", "struct"), [(k[0], k[1]) for k in KINDS], ids=["item", "lot"])
def test_the_intake_struct_has_the_defined_fields_required_choices_defaults_and_lengths(
    record: RecordFields, struct: type[msgspec.Struct]
) -> None:
    info = _info(struct)
    assert {f.name for f in record} == set(info)
    for field in record:
        declared = info[field.name]
        assert declared.required == field.required, field.name
        assert _enum(declared.type) is field.choices, field.name
        default = declared.default.value if hasattr(declared.default, "value") else declared.default
        assert (str(default) if field.default else "") == field.default, field.name
        if match := re.search(r"up to (\d+)", field.holds):
            assert _max_length(declared.type) == int(match[1]), field.name


@pytest.mark.parametrize(("record", "event", "out"), [(k[0], k[2], k[3]) for k in KINDS], ids=["item", "lot"])
def test_the_registered_event_and_the_response_carry_every_field_of_the_record(
    record: RecordFields, event: type[msgspec.Struct], out: type[msgspec.Struct]
) -> None:
    assert set(record.described) <= set(_info(event))
    assert set(record.described) - {"gross_mass_kg", "net_explosive_mass_kg"} <= set(_info(out)) - {"gross_mass_kg"}
    assert {f.name for f in record} <= set(_info(out)) | {"gross_mass_kg", "net_explosive_mass_kg"}


def test_what_the_registered_events_carry_is_what_they_always_carried() -> None:
    """The events log these fields (tests/fixtures/ledger-v1): the definition may reorder them, not change them."""
    assert set(ITEM.described) == {
        *("kind", "component_type", "parent_code", "manufacturer", "model", "calibre", "serial", "un_type"),
        *("country_of_manufacture", "year_of_manufacture", "import_country", "import_year", "marking_location"),
        *("other_marks", "eu_category", "intake_source", "case_reference", "court_order", "condition", "notes"),
    }
    assert set(LOT.described) == {
        *("lot_number", "manufacturer", "year", "calibre", "nature", "quantity", "gross_mass_kg"),
        *("net_explosive_mass_kg", "hazard_division", "compatibility_group", "intake_source", "case_reference"),
        *("court_order", "condition", "notes"),
    }


@pytest.mark.parametrize(("record", "struct", "sheet"), [(k[0], k[1], k[4]) for k in KINDS], ids=["item", "lot"])
def test_the_import_template_is_the_defined_columns_with_valid_examples(
    record: RecordFields, struct: type[msgspec.Struct], sheet: str
) -> None:
    template = SHEETS[sheet]
    assert template.columns == [f.column for f in record.importable]
    assert template.required == {f.column for f in record if f.required and f.column}
    assert set(template.columns[: len(template.required)]) == template.required  # the required come first
    row = {column: value for column, value in zip(template.columns, template.example, strict=True) if value}
    row.pop("location")
    assert msgspec.convert({"depot_id": "01a24254-4825-77e1-b812-652ea257907b", **row}, struct, strict=False)


def test_every_field_has_a_label_and_a_choice_field_a_select() -> None:
    for field in (*ITEM, *LOT):
        assert field.label[:1].isupper(), field.name
        assert (field.choices is not None) == (field.control == "select"), field.name
        assert not field.ask or not field.required or field.control in ("select", "depot"), field.name


def test_docs_fields_md_is_written_from_the_definition() -> None:
    written = (ROOT / "docs" / "fields.md").read_text()
    assert written == fields.markdown(), "docs/fields.md is stale: run `python -m caliber.items.fields > docs/fields.md`"
