"""The labels' custody events: label printers registered and changed, labels printed, sheet layouts calibrated.

Each struct is the ``data`` of one event type; ``docs/events.md`` is written from them.
"""

from __future__ import annotations

from uuid import UUID

from caliber.ledger.events import Change, Event

__all__ = ["LabelCalibrated", "LabelPrinted", "PrinterChanged", "PrinterRegistered"]


class PrinterRegistered(Event, frozen=True, kw_only=True):
    """An admin registered a thermal label printer for a depot: an address the server may send print jobs to."""

    type = "printer.registered"
    id: UUID
    """The printer's id."""
    depot_id: UUID
    """The depot it serves."""
    name: str
    """Its name, unique within the depot."""
    host: str
    """Its IP address (written the standard way) or host name (in lower case)."""
    port: int
    """The TCP port it takes raw jobs on (Zebra printers: 9100)."""
    model: str
    dpi: int
    """Its resolution, in dots per inch."""
    size: str
    """The ZPL label stock loaded, in inches (``2x1``)."""


class PrinterChanged(Event, frozen=True, kw_only=True):
    """An admin changed a registered printer: renamed, moved to another address, restocked, or put in or out of service."""

    type = "printer.changed"
    id: UUID
    """The printer's id."""
    depot_id: UUID
    """The depot it serves."""
    changes: dict[str, Change]
    """The changed fields (``name``, ``host``, ``port``, ``model``, ``dpi``, ``size``, ``active``), each with its old and new value."""


class LabelPrinted(Event, frozen=True, kw_only=True, omit_defaults=True):
    """Labels were printed: a sheet downloaded as PDF or a thermal job; a label printed before is a reprint, with a reason."""

    type = "label.printed"
    codes: list[str]
    """The label codes printed, in the order of the job."""
    output: str
    """What was made: ``pdf:<layout>`` for a sheet, ``zpl:<size>@<dpi>`` for a thermal job."""
    start: int
    """The position on the first sheet where the labels start (1 for a thermal job)."""
    reason: str
    """Why the labels were printed again (empty for a first print)."""
    printer: str
    """Where the job was sent, ``host:port``; empty when the file was downloaded; free text in entries from
    before printers were registered."""
    printer_id: UUID | None = None
    """The registered printer the job was sent to; absent when none was (a download, or before printers were registered)."""


class LabelCalibrated(Event, frozen=True, kw_only=True):
    """An admin set how far a sheet layout's printer moves everything, from the test print."""

    type = "label.calibrated"
    layout: str
    """The sheet layout's key (``a4-3x8-70x37``)."""
    dx_mm: str
    """How far to move everything right, in millimetres: a decimal as text (``0.5``, ``-1.2``), kept exactly as set."""
    dy_mm: str
    """How far to move everything down, in millimetres: a decimal as text, kept exactly as set."""
