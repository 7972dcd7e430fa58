"""The rate a target needs each month: never more than what remains, and enough to finish it in the months left."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caliber.reports.kpis import load_roadmap
from caliber.reports.models import ReportTarget
from caliber.reports.periods import parse_period
from caliber.reports.targets import _annual, _clearance, _months, needed_per_month
from tests.reports.test_targets import BELGRADE

ROADMAP = load_roadmap(Path("/nonexistent"))  # the shipped KPIs
ZONE = ZoneInfo(BELGRADE)
moments = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2031, 12, 31), timezones=st.just(dt.UTC))
figures = st.integers(min_value=0, max_value=10**7)
time_left = st.timedeltas(min_value=dt.timedelta(days=-60), max_value=dt.timedelta(days=800))
"""From a moment to its deadline: past it, the last weeks (where a rate per month could outrun what remains), or years."""


@given(remaining=figures, now=moments, deadline=moments)
def test_the_rate_needed_never_exceeds_what_remains_and_finishes_it_in_time(
    remaining: int, now: dt.datetime, deadline: dt.datetime
) -> None:
    needed = needed_per_month(remaining, now, deadline)
    assert 0 <= needed <= remaining
    assert needed * max(_months(now, deadline), 1.0) == pytest.approx(remaining)


def test_with_less_than_a_month_left_the_whole_remainder_is_needed_this_month() -> None:
    end = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert needed_per_month(7, dt.datetime(2026, 12, 20, tzinfo=dt.UTC), end) == 7
    assert needed_per_month(7, dt.datetime(2026, 10, 1, tzinfo=dt.UTC), end) == pytest.approx(7 / 3, rel=0.02)


@given(year=st.integers(2025, 2030), amount=st.integers(1, 10**6), done=figures, left=time_left)
def test_an_annual_targets_rate_needed_never_exceeds_its_remaining(year: int, amount: int, done: int, left: dt.timedelta) -> None:
    kpi = ROADMAP.kpi("6.1")
    assert kpi is not None
    assert kpi.target == "annual"
    target = ReportTarget(jurisdiction="RS", kpi=kpi.key, year=year, amount=str(amount))
    period = parse_period(str(year), ZONE)
    progress = _annual(target, kpi, float(done), period, period.end - left)
    assert progress.needed_per_month is None or 0 < progress.needed_per_month <= progress.remaining


@given(year=st.integers(2025, 2030), stock=figures, gone=figures, baseline=moments, left=time_left)
def test_a_clearance_targets_rate_needed_never_exceeds_its_remaining(
    year: int, stock: int, gone: int, baseline: dt.datetime, left: dt.timedelta
) -> None:
    kpi = ROADMAP.kpi("6.2")
    assert kpi is not None
    assert kpi.target == "clear"
    target = ReportTarget(jurisdiction="RS", kpi=kpi.key, year=year, declared_before=baseline.date())
    deadline = parse_period(str(year), ZONE).end
    now = deadline - left
    remaining = max(stock - gone, 0)
    progress = _clearance(target, kpi, (stock, remaining), baseline=baseline, deadline=deadline, now=now)
    assert progress.needed_per_month is None or 0 < progress.needed_per_month <= progress.remaining
