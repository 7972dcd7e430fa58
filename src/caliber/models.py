"""Every table of Caliber, imported together for Alembic and for test set-up."""

from advanced_alchemy.base import orm_registry

from caliber.accounts import models as accounts_models
from caliber.depots import models as depots_models
from caliber.destruction import models as destruction_models
from caliber.imports import models as imports_models
from caliber.items import models as items_models
from caliber.labels import models as labels_models
from caliber.ledger import models as ledger_models
from caliber.reports import models as reports_models
from caliber.stockchecks import models as stockchecks_models
from caliber.tracing import models as tracing_models
from caliber.transfers import models as transfers_models

metadata = orm_registry.metadata

SEARCH_PREFIX = "item_serial_search"
"""Objects outside the models, made per dialect by a migration for partial-serial search (SQLite FTS5
trigram table and its triggers, PostgreSQL pg_trgm index); schema comparison leaves them out."""


def include_object(_object: object, name: str | None, _type: str, _reflected: bool, _compare_to: object) -> bool:
    """Alembic's filter: compare everything but the search objects."""
    return not (name or "").startswith(SEARCH_PREFIX)


__all__ = [
    "SEARCH_PREFIX",
    "accounts_models",
    "depots_models",
    "destruction_models",
    "imports_models",
    "include_object",
    "items_models",
    "labels_models",
    "ledger_models",
    "metadata",
    "reports_models",
    "stockchecks_models",
    "tracing_models",
    "transfers_models",
]
