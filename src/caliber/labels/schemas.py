"""Request and response structs of the label printers API."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from caliber.schemas import Input

__all__ = ["Dpi", "NewPrinter", "PrinterOut", "PrinterUpdate", "Stock"]

Stock = Literal["2x1", "4x2"]
"""A ZPL label stock, width x height in inches (:data:`caliber.labels.zpl.SIZES`)."""
Dpi = Literal[203, 300]
"""A thermal printer's resolution (:data:`caliber.labels.zpl.DPIS`)."""
Host = Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
"""A host name or an IP address; the service checks that a resolver takes it."""
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PrinterModel = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
PrinterName = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]


class NewPrinter(Input, forbid_unknown_fields=True):
    """A thermal printer to register for a depot (Zebra printers take raw ZPL on port 9100)."""

    depot_id: UUID
    name: PrinterName
    host: Host
    model: PrinterModel
    dpi: Dpi
    size: Stock
    port: Port = 9100


class PrinterUpdate(Input, forbid_unknown_fields=True):
    """Changes to a printer (None: leave as is); its depot never changes: register it anew in another."""

    name: PrinterName | None = None
    host: Host | None = None
    port: Port | None = None
    model: PrinterModel | None = None
    dpi: Dpi | None = None
    size: Stock | None = None
    active: bool | None = None


class PrinterOut(msgspec.Struct):
    """A registered printer as the API shows it."""

    id: UUID
    depot_id: UUID
    name: str
    host: str
    port: int
    model: str
    dpi: int
    size: str
    active: bool
