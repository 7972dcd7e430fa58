"""Every domain of Caliber, joined into the one registry of event types that the app and the command line give the ledger.

A new domain declares its events (its ``events.py``) and an
:class:`~caliber.ledger.registry.Appliers` of its own, and is added here.
The ledger imports no domain: it knows only the registry it is given.
"""

from __future__ import annotations

from functools import cache

from caliber.accounts import service as accounts_service
from caliber.depots import service as depots_service
from caliber.destruction import appliers as destruction_appliers
from caliber.items import appliers as items_appliers
from caliber.labels import printers as labels_printers
from caliber.labels import printing as labels_printing
from caliber.ledger import witness as ledger_witness
from caliber.ledger.registry import Registry
from caliber.reports import projection as reports_projection
from caliber.reports import targets as reports_targets
from caliber.reports import traces as reports_traces
from caliber.stockchecks import appliers as stockchecks_appliers
from caliber.tracing import appliers as tracing_appliers
from caliber.transfers import service as transfers_service

__all__ = ["registry"]


@cache
def registry() -> Registry:
    """Every event type of every domain, with its struct, its applier and the projections after it."""
    domains = (
        depots_service,
        items_appliers,
        transfers_service,
        stockchecks_appliers,
        destruction_appliers,
        tracing_appliers,
        accounts_service,
        labels_printers,
        labels_printing,
        ledger_witness,
        reports_targets,
        reports_projection,
        reports_traces,
    )
    return Registry(module.appliers for module in domains)
