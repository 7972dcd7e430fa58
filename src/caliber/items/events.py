"""The items' custody events: weapons, components and ammunition lots registered, moved, changed, corrected and split.

Each struct is the ``data`` of one event type; ``docs/events.md`` is written from them.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from caliber.items.lifecycle import Action, IntakeSource, Status
from caliber.items.models import CompatibilityGroup, ComponentType, Condition, EuCategory, HazardDivision, ItemKind, UnType
from caliber.ledger.events import Event

# -- weapons, components and ammunition lots ------------------------------------


class ItemRegistered(Event, frozen=True, kw_only=True, omit_defaults=True):
    """A weapon or a component was taken into custody and given a label code.

    Its label code is its ledger subject: every later event about it names that code.
    """

    type = "item.registered"
    id: UUID
    """The record's id."""
    code: str
    """Its label code (10 digits), printed on the tag fixed to it."""
    kind: ItemKind
    component_type: ComponentType | None
    """For a component, which part it is; null for a whole weapon."""
    parent_code: str | None
    """For a component, the label code of the weapon it came from, if known."""
    manufacturer: str
    model: str
    calibre: str
    serial: str
    """The serial number as marked; ``illegible`` or ``removed`` where it cannot be read."""
    un_type: UnType
    """Its category in the UN register of small arms and light weapons."""
    country_of_manufacture: str | None
    """ISO 3166-1 code of the country it was made in."""
    year_of_manufacture: int | None
    import_country: str | None
    """ISO 3166-1 code of the country it was imported from (import marking)."""
    import_year: int | None
    marking_location: str
    """Where on the weapon the markings are."""
    other_marks: str
    """Other marks on it (proof marks, arsenal marks...)."""
    eu_category: EuCategory | None
    """Its category under the EU Firearms Directive."""
    intake_source: IntakeSource
    """How it came into custody (surplus, seized, surrendered...)."""
    case_reference: str
    """The legal basis of the intake (a case number for a seizure); may be empty otherwise."""
    court_order: str
    """The court order holding it, if any."""
    condition: Condition
    notes: str
    depot_id: UUID
    """The depot holding it."""
    location_id: UUID | None
    """Where it was put in the depot, or null when not yet on a shelf."""
    status: Status
    """Its status on intake (seized records are held for the court, others await a decision)."""
    duplicates: list[str]
    """The label codes of records already held with the same maker, model, calibre and serial: it is flagged for a
    manager to review when there are any."""
    source_file: str | None = None
    """The SHA-256 of the file it was imported from; absent when it was not imported."""
    source_row: int | None = None
    """The row of that file it was imported from; absent when it was not imported."""


class LotRegistered(Event, frozen=True, kw_only=True, omit_defaults=True):
    """An ammunition lot was taken into custody and given a label code (its ledger subject)."""

    type = "lot.registered"
    id: UUID
    """The lot's id."""
    code: str
    """Its label code (10 digits)."""
    lot_number: str
    """The manufacturer's lot number, as marked on the boxes."""
    manufacturer: str
    year: int | None
    """The year it was made."""
    calibre: str
    nature: str
    """What the rounds are (``ball``, ``tracer``, ``mortar bomb HE``...)."""
    quantity: int
    """The number of pieces."""
    gross_mass_kg: str
    """Gross mass in kilograms as a decimal string, to the gram (``2343.25``)."""
    net_explosive_mass_kg: str
    """Net explosive mass in kilograms as a decimal string, to the gram."""
    hazard_division: HazardDivision
    """UN hazard division of class 1 explosives."""
    compatibility_group: CompatibilityGroup
    """UN compatibility group of class 1 explosives."""
    intake_source: IntakeSource
    """How it came into custody."""
    case_reference: str
    """The legal basis of the intake (a case number for a seizure); may be empty otherwise."""
    court_order: str
    """The court order holding it, if any."""
    condition: Condition
    notes: str
    depot_id: UUID
    """The depot holding it."""
    location_id: UUID | None
    """Where it was put in the depot, or null when not yet on a shelf."""
    status: Status
    """Its status on intake."""
    source_file: str | None = None
    """The SHA-256 of the file it was imported from; absent when it was not imported."""
    source_row: int | None = None
    """The row of that file it was imported from; absent when it was not imported."""


class RecordMoved(Event, frozen=True, kw_only=True):
    """A record was put in another place of its depot (the shape of ``item.moved`` and ``lot.moved``)."""

    code: str
    """The record's label code."""
    depot_id: UUID
    """The depot it is in (a move never leaves the depot: that is a transfer)."""
    from_location: UUID | None
    """Where it was, or null when it was on no shelf."""
    to_location: UUID
    """Where it was put."""


class ItemMoved(RecordMoved, frozen=True, kw_only=True):
    """A weapon or component was put in another place of its depot."""

    type = "item.moved"


class LotMoved(RecordMoved, frozen=True, kw_only=True):
    """An ammunition lot was put in another place of its depot."""

    type = "lot.moved"


class StatusChanged(Event, frozen=True, kw_only=True):
    """A lifecycle action was taken on a record (the shape of ``item.status_changed`` and ``lot.status_changed``)."""

    code: str
    """The record's label code."""
    action: Action
    """The action taken (declare surplus, place a hold, report missing...)."""
    from_: Status = msgspec.field(name="from")
    """Its status before."""
    to: Status
    """Its status after."""
    reason: str
    """Why, in the words of the person who took the action."""
    court_order: str
    """The court order that released a hold (for ``release_hold``); empty otherwise."""


class ItemStatusChanged(StatusChanged, frozen=True, kw_only=True):
    """A lifecycle action was taken on a weapon or component: its status changed."""

    type = "item.status_changed"


class LotStatusChanged(StatusChanged, frozen=True, kw_only=True):
    """A lifecycle action was taken on an ammunition lot: its status changed."""

    type = "lot.status_changed"


CorrectedValue = str | int | None
"""A field's value in a correction: text (enumerations by their value, masses as decimal strings of kg), a whole
number, or null."""


class Corrected(Event, frozen=True, kw_only=True):
    """One field of a record was corrected (the shape of ``item.corrected`` and ``lot.corrected``)."""

    code: str
    """The record's label code."""
    field: str
    """The field corrected (``model``, ``serial``, ``lot_number``, ``gross_mass_kg``...)."""
    old: CorrectedValue
    """Its value before."""
    new: CorrectedValue
    """Its value after."""
    reason: str
    """Why it was wrong."""


class ItemCorrected(Corrected, frozen=True, kw_only=True):
    """One field of a weapon's or component's record was corrected; the old value stays in the log."""

    type = "item.corrected"


class LotCorrected(Corrected, frozen=True, kw_only=True):
    """One field of an ammunition lot's record was corrected; the old value stays in the log."""

    type = "lot.corrected"


class ItemDuplicateReviewed(Event, frozen=True, kw_only=True):
    """A manager reviewed a record flagged as a possible duplicate, and closed the review."""

    type = "item.duplicate_reviewed"
    code: str
    """The flagged record's label code."""
    decision: Literal["distinct", "same_item"]
    """``distinct``: another weapon with the same markings; ``same_item``: a second record of one weapon (voiding it
    is a separate action)."""
    reason: str


class ItemPhotoAdded(Event, frozen=True, kw_only=True):
    """A photograph of a weapon or component was added to its record."""

    type = "item.photo_added"
    code: str
    """The record's label code."""
    sha256: str
    """The SHA-256 of the image file (hexadecimal): the file is stored under it."""
    content_type: str
    """``image/jpeg``, ``image/png`` or ``image/webp``."""
    size: int
    """The file's size in bytes."""


class LotSplit(Event, frozen=True, kw_only=True):
    """Part of an ammunition lot was taken off as a new lot with the same lot number and its own label code.

    The masses are shared in proportion to the pieces.
    """

    type = "lot.split"
    code: str
    """The label code of the lot split."""
    new_code: str
    """The label code of the new lot."""
    new_id: UUID
    """The new lot's id."""
    quantity: int
    """The pieces taken off into the new lot."""
    gross_mass_kg: str
    """The new lot's gross mass in kilograms as a decimal string, to the gram."""
    net_explosive_mass_kg: str
    """The new lot's net explosive mass in kilograms as a decimal string, to the gram."""
    location_id: UUID | None
    """Where the new lot is, or null when on no shelf."""
    reason: str
