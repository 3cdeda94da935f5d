"""Values to a series by reporting period: monthly roll-up, partial quarters, annual KPIs."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kpitest import kingston, months, q, quarters

from kpis import KpiDefinition, partial_quarters, period_values, quarterly

MONTHLY_ASB = KpiDefinition(ref="asb-monthly", name="ASB incidents", unit="count",
                            better="lower", frequency="monthly", tolerance=5,
                            targets={date(2025, 4, 1): 1080})
MONTHLY_PERCENT = KpiDefinition(ref="repeat-monthly", name="Repeat referrals", unit="percent",
                                better="lower", frequency="monthly", tolerance=10)
MONTHLY_MONEY = KpiDefinition(ref="spend", name="Spend", unit="currency", better="lower",
                              frequency="monthly", tolerance=10)
MONTHLY_DAYS = KpiDefinition(ref="wait", name="Days to first contact", unit="days",
                             better="lower", frequency="monthly", tolerance=10)


def test_monthly_counts_sum_to_their_quarter_and_a_partial_quarter_is_flagged() -> None:
    values = months(date(2025, 4, 1), 350, 360, 370, 340)   # April to July 2025
    series = quarterly(MONTHLY_ASB, values)
    assert list(series.index) == [q("2025/26 Q1"), q("2025/26 Q2")]
    assert list(series) == [1080.0, 340.0]
    assert series.attrs["partial"] == {q("2025/26 Q2"): 1}
    assert partial_quarters(MONTHLY_ASB, values) == {q("2025/26 Q2"): 1}
    assert series.name == "asb-monthly"
    assert series.dtype == "float64"


def test_monthly_percents_average_to_their_quarter() -> None:
    values = months(date(2025, 1, 1), 30, 33, 36, 40, 42)   # Jan-Mar 2025 is 2024/25 Q4
    series = quarterly(MONTHLY_PERCENT, values)
    assert series.to_dict() == {q("2024/25 Q4"): 33.0, q("2025/26 Q1"): 41.0}
    assert partial_quarters(MONTHLY_PERCENT, values) == {q("2025/26 Q1"): 2}


@pytest.mark.parametrize(("defn", "expected"), [
    (MONTHLY_MONEY, 600.0),   # currency sums
    (MONTHLY_DAYS, 200.0),    # days average
])
def test_money_sums_and_days_average(defn: KpiDefinition, expected: float) -> None:
    assert list(quarterly(defn, months(date(2025, 4, 1), 100, 200, 300))) == [expected]


def test_a_quarter_without_its_first_month_is_partial_too() -> None:
    values = {date(2025, 5, 1): 10.0, date(2025, 6, 1): 20.0}
    assert quarterly(MONTHLY_ASB, values).to_dict() == {q("2025/26 Q1"): 30.0}
    assert partial_quarters(MONTHLY_ASB, values) == {q("2025/26 Q1"): 2}


def test_quarterly_values_pass_through_sorted() -> None:
    da = kingston("da-reports")
    values = {q("2025/26 Q2"): 655.0, q("2024/25 Q1"): 600.0, q("2025/26 Q1"): 630.0}
    series = quarterly(da, values)
    assert list(series.index) == [q("2024/25 Q1"), q("2025/26 Q1"), q("2025/26 Q2")]
    assert list(series) == [600.0, 630.0, 655.0]
    assert series.attrs["partial"] == {}


def test_annual_kpis_stay_yearly() -> None:
    safe = kingston("residents-feel-safe")
    series = quarterly(safe, {date(2024, 4, 1): 70, date(2025, 4, 1): 73.5})
    assert list(series.index) == [date(2024, 4, 1), date(2025, 4, 1)]
    assert list(series) == [70.0, 73.5]


def test_no_data_and_missing_values() -> None:
    da = kingston("da-reports")
    assert quarterly(da, {}).empty
    values: dict[date, float | None] = {q("2024/25 Q1"): None, q("2024/25 Q2"): math.nan,
                                        q("2024/25 Q3"): 610}
    assert quarterly(da, values).to_dict() == {q("2024/25 Q3"): 610.0}
    assert quarterly(MONTHLY_ASB, {}).empty


def test_timestamps_and_datetimes_are_read_as_dates() -> None:
    da = kingston("da-reports")
    values = {pd.Timestamp("2024-04-01"): 600.0, datetime(2024, 7, 1): 610.0}
    assert period_values(da, values) == {date(2024, 4, 1): 600.0, date(2024, 7, 1): 610.0}


@pytest.mark.parametrize(("ref", "key", "message"), [
    ("da-reports", date(2024, 5, 1), "2024-05-01 is not the first day of a financial quarter"),
    ("da-reports", date(2024, 4, 2), "2024-04-02 is not the first day of a financial quarter"),
    ("residents-feel-safe", date(2025, 1, 1),
     "2025-01-01 is not the first day of a financial year"),
])
def test_a_value_not_on_a_period_start_is_refused(ref: str, key: date, message: str) -> None:
    with pytest.raises(ValueError, match=f"KPI {ref}: {message}"):
        quarterly(kingston(ref), {key: 1.0})


def test_a_monthly_value_must_be_on_the_first_of_the_month() -> None:
    with pytest.raises(ValueError, match="2025-04-15 is not the first day of a month"):
        quarterly(MONTHLY_ASB, {date(2025, 4, 15): 1.0})


def test_january_years_roll_months_into_calendar_quarters() -> None:
    defn = KpiDefinition(ref="jan", name="j", unit="count", better="lower", frequency="monthly",
                         tolerance=5, year_start_month=1)
    series = quarterly(defn, months(date(2025, 2, 1), 1, 2, 3))   # Feb, Mar, Apr
    assert series.to_dict() == {date(2025, 1, 1): 3.0, date(2025, 4, 1): 3.0}


def test_period_values_stop_at_as_of() -> None:
    values = quarters("2024/25 Q1", 1, 2, 3, 4)
    assert list(period_values(kingston("da-reports"), values, as_of=date(2024, 10, 1))) == [
        q("2024/25 Q1"), q("2024/25 Q2"), q("2024/25 Q3")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5000), min_size=1, max_size=30), st.integers(0, 11))
def test_rolling_counts_up_keeps_the_total(counts: list[int], offset: int) -> None:
    values = months(date(2024, 1 + offset, 1), *counts)
    series = quarterly(MONTHLY_ASB, values)
    assert series.sum() == sum(counts)
    whole = len(series) - len(partial_quarters(MONTHLY_ASB, values))
    assert whole == sum(1 for first in series.index
                        if all(m in values for m in months(first, 0, 0, 0)))
