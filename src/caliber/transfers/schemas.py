"""Request and response structs of transfers: a new transfer, its lines and receipts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from caliber.items.schemas import MAX_PIECES, LabelCode, Notes
from caliber.schemas import Input
from caliber.transfers.models import TransferStatus

__all__ = ["LineOut", "LotPart", "NewTransfer", "Receipt", "TransferOut"]
MAX_MANIFEST = 50_000


class LotPart(Input, forbid_unknown_fields=True):
    """Part of a lot to send: it is split off first."""

    code: LabelCode
    quantity: Annotated[int, msgspec.Meta(ge=1, le=MAX_PIECES)]


class NewTransfer(Input, forbid_unknown_fields=True):
    """A manifest to dispatch: whole records by code, parts of lots, seal numbers."""

    from_depot_id: UUID
    to_depot_id: UUID
    codes: Annotated[list[LabelCode], msgspec.Meta(max_length=MAX_MANIFEST)] = msgspec.field(default_factory=list)
    lot_parts: list[LotPart] = msgspec.field(default_factory=list)
    seals: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=60)]], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )
    notes: Notes = ""


# -- API structs ------------------------------------------------------------------------------


class LineOut(msgspec.Struct):
    """One record on a transfer."""

    code: str
    kind: str
    outcome: str


class TransferOut(msgspec.Struct):
    """A transfer with its manifest."""

    id: UUID
    from_depot: str
    to_depot: str
    status: TransferStatus
    seals: str
    notes: str
    dispatched_by: str
    dispatched_at: dt.datetime
    received_by: str | None
    received_at: dt.datetime | None
    lines: list[LineOut]


class Receipt(Input, forbid_unknown_fields=True):
    """The codes scanned at the receiving depot, and where they are put."""

    codes: Annotated[list[str], msgspec.Meta(max_length=50_000)]
    location_id: UUID | None = None
