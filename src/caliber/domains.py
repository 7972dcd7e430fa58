"""Every domain of Caliber, joined into the one registry of event types that the app and the command line give the ledger.

A new domain declares its events (its ``events.py``) and an
:class:`~caliber.ledger.registry.Appliers` of its own, and is added here.
The ledger imports no domain: it knows only the registry it is given.
"""

from __future__ import annotations

from functools import cache

from caliber.accounts import service as accounts_service
from caliber.destruction import service as destruction_service
from caliber.inventory import items as inventory_items
from caliber.inventory import service as inventory_service
from caliber.inventory import stockchecks as inventory_stockchecks
from caliber.inventory import transfers as inventory_transfers
from caliber.labels import printers as labels_printers
from caliber.labels import printing as labels_printing
from caliber.ledger import store
from caliber.ledger import witness as ledger_witness
from caliber.ledger.registry import Registry
from caliber.reports import projection as reports_projection
from caliber.reports import targets as reports_targets

__all__ = ["registry"]

_MODULES = (  # TRANSITIONAL: importing these registers their untyped appliers
    accounts_service,
    destruction_service,
    inventory_stockchecks,
    inventory_transfers,
    labels_printers,
    labels_printing,
    ledger_witness,
    reports_projection,
    reports_targets,
)
# TRANSITIONAL: the state tables of domains whose events have no structs yet.
store.LEGACY.tables = [
    "user_account",
    "user_depot",
    "ledger_witness",
    "label",
    "transfer",
    "transfer_line",
    "stock_check",
    "stock_check_line",
    "label_calibration",
    "label_printer",
    "destruction_event",
    "destruction_line",
    "destruction_observer",
    "destruction_party",
    "destruction_attestation",
    "destruction_photo",
    "report_record",
    "report_hold",
    "report_target",
    "report_day",
    "report_month",
]


@cache
def registry() -> Registry:
    """Every event type of every domain, with its struct, its applier and the projections after it."""
    typed = [module.appliers for module in (inventory_service, inventory_items)]
    return Registry([*typed, store.LEGACY])
