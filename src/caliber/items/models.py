"""Tables of items (weapons and components), their photos and ammunition lots, with the enums their fields take."""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caliber.schemas import Labelled

__all__ = [
    "AmmunitionLot",
    "CompatibilityGroup",
    "ComponentType",
    "Condition",
    "EuCategory",
    "HazardDivision",
    "Item",
    "ItemKind",
    "ItemPhoto",
    "UnType",
]


class ItemKind(Labelled):
    """A whole weapon, or a part controlled on its own (Firearms Protocol art. 3)."""

    WEAPON = "weapon"
    COMPONENT = "component"


class ComponentType(Labelled):
    """Parts recorded as items of their own."""

    FRAME_RECEIVER = "frame_receiver"
    BARREL = "barrel"
    SLIDE = "slide"
    CYLINDER = "cylinder"
    BOLT = "bolt"
    SUPPRESSOR = "suppressor"


class UnType(Labelled):
    """UN SALW types (UN Panel of Experts 1997), plus shotgun and other."""

    REVOLVER = "revolver"
    SELF_LOADING_PISTOL = "self_loading_pistol"
    RIFLE = "rifle"
    CARBINE = "carbine"
    SUB_MACHINE_GUN = "sub_machine_gun"
    ASSAULT_RIFLE = "assault_rifle"
    LIGHT_MACHINE_GUN = "light_machine_gun"
    HEAVY_MACHINE_GUN = "heavy_machine_gun"
    GRENADE_LAUNCHER_HAND_HELD = "grenade_launcher_hand_held"
    GRENADE_LAUNCHER_UNDER_BARREL = "grenade_launcher_under_barrel"
    GRENADE_LAUNCHER_MOUNTED = "grenade_launcher_mounted"
    PORTABLE_ANTI_AIRCRAFT_GUN = "portable_anti_aircraft_gun"
    PORTABLE_ANTI_TANK_GUN = "portable_anti_tank_gun"
    RECOILLESS_RIFLE = "recoilless_rifle"
    ANTI_TANK_LAUNCHER = "anti_tank_launcher"
    MANPADS = "manpads"
    MORTAR = "mortar"
    SHOTGUN = "shotgun"
    OTHER = "other"

    @property
    def light_weapon(self) -> bool:
        """Light weapons (crew-served or heavier) as against small arms."""
        return self in _LIGHT_WEAPONS


_LIGHT_WEAPONS = frozenset(
    {
        UnType.HEAVY_MACHINE_GUN,
        UnType.GRENADE_LAUNCHER_HAND_HELD,
        UnType.GRENADE_LAUNCHER_UNDER_BARREL,
        UnType.GRENADE_LAUNCHER_MOUNTED,
        UnType.PORTABLE_ANTI_AIRCRAFT_GUN,
        UnType.PORTABLE_ANTI_TANK_GUN,
        UnType.RECOILLESS_RIFLE,
        UnType.ANTI_TANK_LAUNCHER,
        UnType.MANPADS,
        UnType.MORTAR,
    }
)


class Condition(Labelled):
    """The physical state of a weapon or a lot."""

    SERVICEABLE = "serviceable"
    UNSERVICEABLE = "unserviceable"
    DAMAGED = "damaged"
    INCOMPLETE = "incomplete"
    UNSAFE = "unsafe"
    UNKNOWN = "unknown"


class EuCategory(enum.StrEnum):
    """EU Firearms Directive categories, where known."""

    A = "A"
    A1 = "A1"
    A2 = "A2"
    A3 = "A3"
    A4 = "A4"
    A5 = "A5"
    A6 = "A6"
    A7 = "A7"
    A8 = "A8"
    A9 = "A9"
    B = "B"
    C = "C"


class HazardDivision(enum.StrEnum):
    """UN hazard divisions of class 1 explosives."""

    D1_1 = "1.1"
    D1_2 = "1.2"
    D1_3 = "1.3"
    D1_4 = "1.4"
    D1_5 = "1.5"
    D1_6 = "1.6"


class CompatibilityGroup(enum.StrEnum):
    """UN compatibility groups of class 1 explosives."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"
    H = "H"
    J = "J"
    K = "K"
    L = "L"
    N = "N"
    S = "S"


class Item(UUIDv7AuditBase):
    """A weapon, or a component controlled on its own (frame or receiver, barrel, slide, cylinder, bolt, suppressor)."""

    __tablename__ = "item"
    __table_args__ = (
        Index("ix_item_depot_status", "depot_id", "status", "id"),
        Index("ix_item_identity_key", "identity_key"),
        Index("ix_item_serial_key", "serial_key"),
        Index("ix_item_location_id", "location_id"),
        Index("ix_item_case_reference", "case_reference"),
        Index("ix_item_manufacturer", "manufacturer", "id"),
    )

    code: Mapped[str] = mapped_column(String(10), unique=True)
    """The label code, issued at intake."""
    kind: Mapped[str] = mapped_column(String(16))
    component_type: Mapped[str | None] = mapped_column(String(24), default=None)
    parent_code: Mapped[str | None] = mapped_column(String(10), default=None)
    """For a component: the label code of the weapon it came from, where known."""
    manufacturer: Mapped[str] = mapped_column(String(120))
    model: Mapped[str] = mapped_column(String(120))
    calibre: Mapped[str] = mapped_column(String(40))
    serial: Mapped[str] = mapped_column(String(80))
    serial_key: Mapped[str] = mapped_column(String(80))
    """The serial in capitals without spaces: what searches and duplicate checks compare."""
    identity_key: Mapped[str] = mapped_column(String(400))
    """Manufacturer, model, calibre and serial, normalised: equal keys are flagged as possible duplicates."""
    un_type: Mapped[str] = mapped_column(String(40))
    country_of_manufacture: Mapped[str | None] = mapped_column(String(2), default=None)
    year_of_manufacture: Mapped[int | None] = mapped_column(Integer, default=None)
    import_country: Mapped[str | None] = mapped_column(String(2), default=None)
    import_year: Mapped[int | None] = mapped_column(Integer, default=None)
    marking_location: Mapped[str] = mapped_column(String(200), default="")
    other_marks: Mapped[str] = mapped_column(String(400), default="")
    eu_category: Mapped[str | None] = mapped_column(String(4), default=None)
    intake_source: Mapped[str] = mapped_column(String(32))
    case_reference: Mapped[str] = mapped_column(String(120), default="")
    court_order: Mapped[str] = mapped_column(String(120), default="")
    condition: Mapped[str] = mapped_column(String(24))
    notes: Mapped[str] = mapped_column(Text, default="")
    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"))
    location_id: Mapped[UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    status: Mapped[str] = mapped_column(String(32))
    prior_status: Mapped[str | None] = mapped_column(String(32), default=None)
    """While in transit or missing: the status to return to."""
    duplicate_review: Mapped[str | None] = mapped_column(String(16), default=None)
    """``open`` while a manager has to review a possible duplicate; ``cleared`` after."""
    registered_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    status_changed_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class ItemPhoto(DefaultBase):
    """A photograph of an item, stored in the data dir under its SHA-256."""

    __tablename__ = "item_photo"

    item_id: Mapped[UUID] = mapped_column(GUID, ForeignKey("item.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)


class AmmunitionLot(UUIDv7AuditBase):
    """A quantity of ammunition of one lot, tracked by count and mass; a split keeps the parent's lot number."""

    __tablename__ = "ammunition_lot"
    __table_args__ = (
        Index("ix_ammunition_lot_depot_status", "depot_id", "status", "id"),
        Index("ix_ammunition_lot_lot_number", "lot_number"),
        Index("ix_ammunition_lot_location_id", "location_id"),
    )

    code: Mapped[str] = mapped_column(String(10), unique=True)
    lot_number: Mapped[str] = mapped_column(String(80))
    parent_code: Mapped[str | None] = mapped_column(String(10), default=None)
    """The lot this one was split from."""
    manufacturer: Mapped[str] = mapped_column(String(120))
    year: Mapped[int | None] = mapped_column(Integer, default=None)
    calibre: Mapped[str] = mapped_column(String(40))
    nature: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(BigInteger)
    gross_mass_g: Mapped[int] = mapped_column(BigInteger)
    """Gross mass in grams (events carry kilograms as decimal strings)."""
    net_explosive_mass_g: Mapped[int] = mapped_column(BigInteger)
    hazard_division: Mapped[str] = mapped_column(String(4))
    compatibility_group: Mapped[str] = mapped_column(String(1))
    condition: Mapped[str] = mapped_column(String(24))
    intake_source: Mapped[str] = mapped_column(String(32))
    case_reference: Mapped[str] = mapped_column(String(120), default="")
    court_order: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    depot_id: Mapped[UUID] = mapped_column(ForeignKey("depot.id"))
    location_id: Mapped[UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    status: Mapped[str] = mapped_column(String(32))
    prior_status: Mapped[str | None] = mapped_column(String(32), default=None)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    status_changed_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
