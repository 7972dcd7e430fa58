"""Fixtures of the tracing tests."""

from __future__ import annotations

import datetime as dt

import pytest

from caliber.ledger.store import Ledger
from caliber.tracing.service import TracingService


@pytest.fixture
def tracing(ledger: Ledger) -> TracingService:
    """The tracing service over the test database (UTC days)."""
    return TracingService(ledger, dt.UTC)
