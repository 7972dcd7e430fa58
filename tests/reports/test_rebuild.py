"""Rebuilding the report projection from the ledger gives the same figures and passes the ledger check."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from caliber.destruction.service import DestructionService
from caliber.ledger.store import Ledger
from caliber.reports.models import ReportDay, ReportHold, ReportMonth, ReportRecord
from caliber.reports.periods import parse_period
from caliber.reports.projection import rebuild
from caliber.reports.service import ReportService
from tests.destruction.helpers import approved, cast, through_the_day
from tests.factories import OPERATOR, Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")


async def test_an_emptied_projection_is_rebuilt_to_the_same_figures(
    factory: Factory, ledger: Ledger, destructions: DestructionService
) -> None:
    day = await cast(factory, items=3, lots=1)
    await through_the_day(destructions, day, await approved(destructions, day))
    year = parse_period(str(dt.datetime.now(dt.UTC).year), ZoneInfo("Europe/Belgrade"))
    before = await ReportService(ledger.db).figures(OPERATOR, year)
    async with ledger.db.write() as session:
        await session.execute(delete(ReportHold))
        await session.execute(delete(ReportRecord))
        await session.execute(delete(ReportDay))
        await session.execute(delete(ReportMonth))
    assert (await ReportService(ledger.db).figures(OPERATOR, year))["RS"].destroyed == 0
    seen: list[int] = []
    assert await rebuild(ledger, seen.append) == await ledger.size()
    assert sum(seen) == await ledger.size()
    assert await ReportService(ledger.db).figures(OPERATOR, year) == before
