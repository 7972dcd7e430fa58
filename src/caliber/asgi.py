"""ASGI entry point for servers started by ``caliber serve`` (``caliber.asgi:create``)."""

from __future__ import annotations

from litestar import Litestar

from caliber.app import create_app
from caliber.config import Settings


def create() -> Litestar:
    """The app for the settings in this process's environment."""
    return create_app(Settings.from_env())
