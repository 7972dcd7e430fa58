"""ASGI entry point for servers started by ``caliber serve`` (``caliber.asgi:create``)."""

from __future__ import annotations

import gc

from litestar import Litestar

from caliber.app import create_app
from caliber.config import Settings


def create() -> Litestar:
    """The app for the settings in this process's environment.

    Its long-lived objects (about 190,000: routes, models, compiled templates) are moved out of the garbage
    collector's sight once built: a full collection over them takes about 100 ms here, and stalled whatever
    requests were in flight each time one ran.
    """
    app = create_app(Settings.from_env())
    gc.collect()
    gc.freeze()
    return app
