"""Request and response structs of stock checks: opening one, scans, and a check as the API shows it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from caliber.items.schemas import MAX_PIECES
from caliber.schemas import Input
from caliber.stockchecks.models import StockCheckStatus

__all__ = ["DueOut", "NewStockCheck", "ResultOut", "Scan", "ScanBatch", "StockCheckOut", "StockCheckSummary"]


class Scan(Input, forbid_unknown_fields=True):
    """One scan during a count: a code, where it was found, and for a lot the pieces counted."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=400)]
    location_id: UUID | None = None
    quantity: Annotated[int, msgspec.Meta(ge=0, le=MAX_PIECES)] | None = None


class NewStockCheck(Input, forbid_unknown_fields=True):
    """A count of a depot, or of one part of its storage tree."""

    depot_id: UUID
    location_id: UUID | None = None


class ResultOut(msgspec.Struct):
    """A count against the records."""

    found: int
    missing: list[str]
    wrong_location: list[str]
    unknown: list[str]
    lot_differences: list[str]


class StockCheckOut(msgspec.Struct):
    """A stock check and its reconciliation so far."""

    id: UUID
    depot: str
    scope: str | None
    status: StockCheckStatus
    opened_by: str
    opened_at: dt.datetime
    counted_by: str | None
    closed_by: str | None
    closed_at: dt.datetime | None
    expected: int
    scanned: int
    result: ResultOut


class StockCheckSummary(msgspec.Struct):
    """A stock check in a list; counts are those recorded when it closed."""

    id: UUID
    depot: str
    status: StockCheckStatus
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    found: int
    missing: int
    wrong_location: int
    unknown: int


class ScanBatch(Input, forbid_unknown_fields=True):
    """Scans to record, in the order they were made."""

    scans: Annotated[list[Scan], msgspec.Meta(min_length=1, max_length=5000)]


class DueOut(msgspec.Struct):
    """A depot and its last full count."""

    depot: str
    last_full_count: dt.datetime | None
    due: bool
