"""Request and response structs of the items and ammunition lots API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from caliber.items.lifecycle import Action, IntakeSource, Status
from caliber.items.models import CompatibilityGroup, ComponentType, Condition, EuCategory, HazardDivision, ItemKind, UnType
from caliber.schemas import LINES, Input, Text

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
"""A maker, model or nature: 1 to 120 characters, not blank."""


Calibre = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"\S")]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"\S")]
"""As marked; ``illegible`` or ``removed`` where it cannot be read."""


Reference = Annotated[str, msgspec.Meta(max_length=120)]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Year = Annotated[int, msgspec.Meta(ge=1800, le=2100)]
LabelCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{10}$")]
Kilograms = Annotated[str, msgspec.Meta(pattern=r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,3})?$")]
"""A mass in kilograms as a decimal string, to the gram: ``12.5``."""


Notes = Annotated[str, msgspec.Meta(max_length=4000, extra=LINES)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=400, pattern=r"\S")]
MAX_PIECES = 10**12
"""The most pieces one lot can hold (far below 2^53, so every count is exact everywhere)."""


class NewItem(Input, forbid_unknown_fields=True):
    """A weapon or component taken into custody."""

    depot_id: UUID
    manufacturer: Short
    model: Short
    calibre: Calibre
    serial: Serial
    un_type: UnType
    intake_source: IntakeSource
    condition: Condition = Condition.UNKNOWN
    kind: ItemKind = ItemKind.WEAPON
    component_type: ComponentType | None = None
    parent_code: LabelCode | None = None
    location_id: UUID | None = None
    country_of_manufacture: Country | None = None
    year_of_manufacture: Year | None = None
    import_country: Country | None = None
    import_year: Year | None = None
    marking_location: Text = ""
    other_marks: Text = ""
    eu_category: EuCategory | None = None
    case_reference: Reference = ""
    court_order: Reference = ""
    notes: Notes = ""


class NewLot(Input, forbid_unknown_fields=True):
    """An ammunition lot taken into custody."""

    depot_id: UUID
    lot_number: Short
    manufacturer: Short
    calibre: Calibre
    nature: Short
    quantity: Annotated[int, msgspec.Meta(ge=1, le=MAX_PIECES)]
    gross_mass_kg: Kilograms
    net_explosive_mass_kg: Kilograms
    hazard_division: HazardDivision
    compatibility_group: CompatibilityGroup
    intake_source: IntakeSource
    condition: Condition = Condition.UNKNOWN
    year: Year | None = None
    location_id: UUID | None = None
    case_reference: Reference = ""
    court_order: Reference = ""
    notes: Notes = ""


class ItemOut(msgspec.Struct):
    """A weapon or component as the API shows it."""

    id: UUID
    code: str
    kind: ItemKind
    component_type: ComponentType | None
    parent_code: str | None
    manufacturer: str
    model: str
    calibre: str
    serial: str
    un_type: UnType
    country_of_manufacture: str | None
    year_of_manufacture: int | None
    import_country: str | None
    import_year: int | None
    marking_location: str
    other_marks: str
    eu_category: str | None
    intake_source: IntakeSource
    case_reference: str
    court_order: str
    condition: Condition
    notes: str
    depot_id: UUID
    location_id: UUID | None
    status: Status
    duplicate_review: str | None
    registered_at: dt.datetime
    photos: list[str] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)
    """On intake: what the person should know of the record just taken in, such as a possible duplicate."""
    missing_identifiers: list[str] = msgspec.field(default_factory=list)
    """The fields a trace needs that the record lacks (``caliber.items.identity``); empty: it can be traced."""
    maker_known: bool = True
    """Its manufacturer is in the reference list of makers (``caliber items makers``); false: flagged, not in the list."""


class LotOut(msgspec.Struct):
    """An ammunition lot as the API shows it."""

    id: UUID
    code: str
    lot_number: str
    parent_code: str | None
    manufacturer: str
    year: int | None
    calibre: str
    nature: str
    quantity: int
    gross_mass_kg: str
    net_explosive_mass_kg: str
    hazard_division: str
    compatibility_group: str
    intake_source: IntakeSource
    case_reference: str
    court_order: str
    condition: Condition
    notes: str
    depot_id: UUID
    location_id: UUID | None
    status: Status
    registered_at: dt.datetime


class StatusChange(Input, forbid_unknown_fields=True):
    """A lifecycle action on one record, with why (and the court order that releases a hold)."""

    action: Action
    reason: Reason
    court_order: Reference = ""


class Correction(Input, forbid_unknown_fields=True):
    """A corrected field: the record keeps its history, the page shows the new value."""

    field: str
    value: Annotated[str, msgspec.Meta(extra=LINES)] | Annotated[int, msgspec.Meta(ge=-(2**53), le=2**53)] | None
    reason: Reason


class MoveRequest(Input, forbid_unknown_fields=True):
    """Records (by label code) to put in one location (by id or by its label code)."""

    codes: Annotated[list[LabelCode], msgspec.Meta(min_length=1, max_length=5000)]
    location_id: UUID | None = None
    location_code: LabelCode | None = None


class SplitRequest(Input, forbid_unknown_fields=True):
    """Part of a lot taken off as a new lot (same lot number); masses are shared in proportion unless given."""

    quantity: Annotated[int, msgspec.Meta(ge=1, le=MAX_PIECES)]
    reason: Reason
    location_id: UUID | None = None


class DuplicateReview(Input, forbid_unknown_fields=True):
    """A manager's decision on a possible duplicate."""

    decision: Annotated[str, msgspec.Meta(pattern=r"^(distinct|same_item)$")]
    reason: Reason


class ItemQuery(Input, forbid_unknown_fields=True):
    """Search filters for items; every one optional."""

    q: str | None = None
    depot_id: UUID | None = None
    location_id: UUID | None = None
    status: Status | None = None
    un_type: UnType | None = None
    intake_source: IntakeSource | None = None
    kind: ItemKind | None = None
    manufacturer: str | None = None
    model: str | None = None
    calibre: str | None = None
    case_reference: str | None = None
    duplicate_review: str | None = None


class LotQuery(Input, forbid_unknown_fields=True):
    """Search filters for ammunition lots; every one optional."""

    q: str | None = None
    depot_id: UUID | None = None
    location_id: UUID | None = None
    status: Status | None = None
    calibre: str | None = None
    hazard_division: str | None = None
    intake_source: IntakeSource | None = None
