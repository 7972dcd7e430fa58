"""Every domain service, imported together so that each registers its event appliers.

Replay (``caliber ledger check``) needs the appliers of every event type the
ledger may hold; a new domain adds its service here.
"""

from caliber.accounts import service as accounts_service
from caliber.destruction import service as destruction_service
from caliber.inventory import items as inventory_items
from caliber.inventory import service as inventory_service
from caliber.inventory import stockchecks as inventory_stockchecks
from caliber.inventory import transfers as inventory_transfers
from caliber.labels import printers as labels_printers
from caliber.labels import printing as labels_printing
from caliber.ledger import witness as ledger_witness
from caliber.reports import projection as reports_projection
from caliber.reports import targets as reports_targets

__all__ = [
    "accounts_service",
    "destruction_service",
    "inventory_items",
    "inventory_service",
    "inventory_stockchecks",
    "inventory_transfers",
    "labels_printers",
    "labels_printing",
    "ledger_witness",
    "reports_projection",
    "reports_targets",
]
