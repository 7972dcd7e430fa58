"""Every table of Caliber, imported together for Alembic and for test set-up."""

from advanced_alchemy.base import orm_registry

from caliber.accounts import models as accounts_models
from caliber.inventory import models as inventory_models
from caliber.labels import models as labels_models
from caliber.ledger import models as ledger_models

metadata = orm_registry.metadata

__all__ = ["accounts_models", "inventory_models", "labels_models", "ledger_models", "metadata"]
