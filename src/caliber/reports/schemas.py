"""Request bodies of the reports API: setting a target."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from caliber.schemas import LINES, Input

__all__ = ["TargetInput"]

Amount = Annotated[str, msgspec.Meta(max_length=24, pattern=r"^\s*\d{1,15}(\.\d{1,3})?\s*$")]


class TargetInput(Input, forbid_unknown_fields=True):
    """A target for one jurisdiction, KPI and year.

    An annual target gives ``amount`` (for example 5000 weapons, or 120.5 t);
    a clearance target gives ``declared_before``: the surplus declared before
    that day is to be gone by the end of ``year``. ``withdrawn`` takes a target
    back. Setting a target again replaces it; the earlier one stays in its history.
    """

    jurisdiction: Annotated[str, msgspec.Meta(min_length=2, max_length=2)]
    kpi: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000, pattern=r"\S", extra=LINES)]
    amount: Amount | None = None
    declared_before: dt.date | None = None
    withdrawn: bool = False
