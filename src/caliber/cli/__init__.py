"""The ``caliber`` command. Thin: it reads settings, calls services, prints.

Heavy modules (the app, SQLAlchemy, Alembic) are imported inside the commands
that use them, so ``--help`` answers at once. Each module adds its commands to
the one group, :func:`caliber.cli.base.main`.
"""

from caliber.cli import data, items, ledger, reports, serve, tracing, users
from caliber.cli.base import main

__all__ = ["data", "items", "ledger", "main", "reports", "serve", "tracing", "users"]
