"""Request and response structs of the depots and locations API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from caliber.depots.models import (
    DepotKind,
    LocationKind,
)
from caliber.schemas import Code, Input, Lines, Name

JurisdictionCode = Annotated[str, msgspec.Meta(pattern=r"^(AL|BA|XK|ME|MK|RS)$")]
LocationName = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"^[^/]*\S[^/]*$")]


class JurisdictionOut(msgspec.Struct):
    """A Roadmap jurisdiction."""

    code: str
    name: str
    capital: str
    footnote: str | None


class NewDepot(Input, forbid_unknown_fields=True):
    """A depot to create."""

    code: Code
    name: Name
    kind: DepotKind
    jurisdiction: JurisdictionCode
    address: Lines = ""


class DepotUpdate(Input, forbid_unknown_fields=True):
    """Changes to a depot; its code and jurisdiction never change."""

    name: Name | None = None
    kind: DepotKind | None = None
    address: Lines | None = None
    active: bool | None = None


class DepotOut(msgspec.Struct):
    """A depot as the API shows it."""

    id: UUID
    code: str
    name: str
    kind: DepotKind
    jurisdiction: str
    address: str
    active: bool
    created_at: dt.datetime


class NewLocation(Input, forbid_unknown_fields=True):
    """A storage location; without ``parent_id`` it sits at the depot's top level."""

    kind: LocationKind
    name: LocationName
    parent_id: UUID | None = None


class LocationUpdate(Input, forbid_unknown_fields=True):
    """Rename or (de)activate a location."""

    name: LocationName | None = None
    active: bool | None = None


class LocationOut(msgspec.Struct):
    """A storage location with its full path."""

    id: UUID
    depot_id: UUID
    parent_id: UUID | None
    kind: LocationKind
    name: str
    path: str
    depth: int
    active: bool
    code: str | None = None
