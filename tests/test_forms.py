"""The one decoding of forms: every field refused at once, each in a plain sentence naming it as the form does."""

from __future__ import annotations

import re

import msgspec.inspect as mi
import pytest

from caliber.accounts.schemas import LoginForm, NewToken, NewUser, PasswordReset, UserUpdate
from caliber.depots.schemas import DepotUpdate, LocationUpdate, NewDepot, NewLocation
from caliber.destruction.schemas import AttestationInput, Completion, ManifestChange, NewDestruction, ResidueCheck, Verification, Withdrawal
from caliber.errors import InvalidInput
from caliber.forms import describe, label
from caliber.items.schemas import Correction, NewItem, NewLot, SplitRequest, StatusChange
from caliber.labels.schemas import NewPrinter, PrinterUpdate
from caliber.reports.schemas import TargetInput
from caliber.schemas import convert
from caliber.stockchecks.schemas import Scan
from caliber.transfers.schemas import LotPart

DEVELOPER_WORDING = re.compile(r"Expected|\$\.|got `|Object missing|`")
FORM_STRUCTS = [
    NewUser, UserUpdate, PasswordReset, LoginForm, NewToken,
    NewDepot, DepotUpdate, NewLocation, LocationUpdate, NewItem, NewLot, StatusChange, Correction, SplitRequest, Scan, LotPart,
    NewDestruction, ManifestChange, Verification, Withdrawal, AttestationInput, Completion, ResidueCheck,
    NewPrinter, PrinterUpdate, TargetInput,
]  # fmt: skip
"""The request structs the HTML forms decode into."""


def refused(data: dict[str, object], schema: type) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        convert(data, schema)
    return dict(caught.value.errors)


def test_every_field_of_a_lot_is_refused_at_once_in_plain_words() -> None:
    errors = refused(
        {"depot_id": "x", "lot_number": " ", "quantity": "0", "gross_mass_kg": "12,5", "hazard_division": "9.9", "year": "19x7"},
        NewLot,
    )
    assert errors == {
        "depot_id": "Choose the depot",
        "lot_number": "Lot or batch number is required",
        "manufacturer": "Manufacturer is required",
        "calibre": "Calibre is required",
        "nature": "Nature is required",
        "quantity": "Quantity must be a whole number of 1 or more",
        "gross_mass_kg": "Gross mass must be a number of kilograms, like 12.5",
        "net_explosive_mass_kg": "Net explosive mass is required",
        "hazard_division": "Choose one of the listed hazard divisions",
        "compatibility_group": "Compatibility group is required",
        "intake_source": "Intake source is required",
        "year": "Year must be a year, like 1987",
    }


def test_each_kind_of_field_has_its_sentence() -> None:
    item = refused({"year_of_manufacture": "1700", "condition": "shiny", "serial": "A\u202eB", "notes": "n" * 4001}, NewItem)
    assert (
        item.items()
        >= {
            "year_of_manufacture": "Year of manufacture must be a year from 1800 to 2100",
            "condition": "Choose one of the listed conditions",
            "serial": "Serial holds a hidden control or direction character (U+202E): type it again without it",
            "notes": "Notes can be at most 4000 characters",
        }.items()
    )
    plan = refused({"planned_date": "3.12.2026", "methods": [], "required_witnesses": "1", "observers": [{"name": ""}]}, NewDestruction)
    assert plan["planned_date"] == "Planned date must be a date, like 2026-12-03"
    assert plan["methods"] == "Choose at least one of the methods"
    assert plan["required_witnesses"] == "Required witnesses must be a whole number from 2 to 20"
    assert plan["observers[0].name"] == "Observer 1: Name is required"
    done = refused({"methods_used": ["fire"], "started_at": "noon"}, Completion)
    assert done["started_at"] == "Started at must be a date and time, like 2026-12-03 09:30"
    assert refused({"username": "Bad Name", "role": "emperor"}, NewUser)["role"] == "Choose one of the listed roles"
    assert refused({"code": "rs bg"}, NewDepot)["code"] == "Code must be capital letters, digits and hyphens, like RS-BG-01"
    assert refused({"jurisdiction": "FR"}, NewDepot)["jurisdiction"] == "Jurisdiction must be one of AL, BA, XK, ME, MK, RS"
    assert refused({"active": "maybe"}, DepotUpdate)["active"] == "Active must be yes or no"
    assert refused({"x": 1}, NewToken)["x"] == "x is not asked for here"


def test_a_message_names_the_field_as_the_form_labels_it() -> None:
    assert [label(f) for f in ("year_of_manufacture", "depot_id", "gross_mass_kg", "un_type")] == [
        "Year of manufacture",
        "Depot",
        "Gross mass",
        "UN SALW type",
    ]


@pytest.mark.parametrize("schema", FORM_STRUCTS, ids=lambda s: s.__name__)
def test_every_field_type_of_the_forms_has_a_plain_sentence(schema: type) -> None:
    """A field of a new type (or a text pattern without words in ``caliber.forms.PATTERNS``) fails here."""
    for field in mi.type_info(schema).fields:  # type: ignore[attr-defined]
        sentence = describe(label(field.name), field.type)
        assert sentence, f"{schema.__name__}.{field.name}: no plain sentence for {field.type}"
        assert not DEVELOPER_WORDING.search(sentence), sentence
