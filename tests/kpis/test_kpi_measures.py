"""Measures on a date: latest value, target, changes, rolling twelve months, direction."""

from __future__ import annotations

from datetime import date

import pytest
from kpitest import kingston, months, q, quarters

from kpis import STABLE_PERCENT, KpiDefinition, direction, measure, statuses_by_quarter

DA = kingston("da-reports")                 # count, better: higher, 5%, 630/640/650...
ASB = kingston("asb-incidents")             # count, better: lower, 5%, 1100/1080/...
MARAC = kingston("marac-repeat")            # percent, better: lower, 10%
SAFE = kingston("residents-feel-safe")      # annual percent, better: higher, 3%

DA_VALUES = quarters("2024/25 Q1", 600, 612, 625, 618, 630, 655)   # to 2025/26 Q2


def test_the_latest_period_on_or_before_as_of() -> None:
    m = measure(DA, DA_VALUES, date(2025, 9, 30))
    assert (m.period, m.label, m.value) == (q("2025/26 Q2"), "2025/26 Q2", 655.0)
    assert (m.target, m.status) == (640.0, "green")
    assert m.reason == "655 against a target of 640: 2.3% above target, meeting it"
    assert m.partial is False
    # a quarter starting exactly on as_of counts; later ones are ignored
    assert measure(DA, DA_VALUES, date(2025, 7, 1)).period == q("2025/26 Q2")
    earlier = measure(DA, DA_VALUES, date(2025, 6, 30))
    assert (earlier.period, earlier.value, earlier.target) == (q("2025/26 Q1"), 630.0, 640.0)
    assert earlier.status == "amber"


def test_no_data_on_or_before_as_of() -> None:
    m = measure(DA, DA_VALUES, date(2024, 3, 31))
    assert (m.period, m.value, m.status, m.direction) == (None, None, "grey", "no data")
    assert m.reason == "No data on or before 31 March 2024"
    assert m.vs_baseline is None and m.vs_previous is None and m.vs_last_year is None
    assert m.projection is None
    assert measure(DA, {}, date(2026, 1, 1)).status == "grey"


def test_changes_against_baseline_previous_and_last_year() -> None:
    m = measure(DA, DA_VALUES, date(2025, 9, 30))
    assert m.vs_baseline is not None and m.vs_previous is not None
    assert m.vs_last_year is not None
    assert (m.vs_baseline.since, m.vs_baseline.earlier) == (date(2023, 4, 1), 620.0)
    assert m.vs_baseline.absolute == 35.0
    assert m.vs_baseline.percent == pytest.approx(35 / 620 * 100)
    assert (m.vs_previous.since, m.vs_previous.absolute) == (q("2025/26 Q1"), 25.0)
    assert m.vs_previous.percent == pytest.approx(25 / 630 * 100)
    assert (m.vs_last_year.since, m.vs_last_year.earlier) == (q("2024/25 Q2"), 612.0)
    assert m.vs_last_year.absolute == 43.0
    assert m.vs_last_year.percent == pytest.approx(43 / 612 * 100)


def test_changes_are_none_without_the_data() -> None:
    first = measure(DA, DA_VALUES, date(2024, 5, 1))
    assert first.vs_previous is None and first.vs_last_year is None
    assert first.vs_baseline is not None
    no_baseline = KpiDefinition(ref="nb", name="nb", unit="count", better="higher",
                                frequency="quarterly", tolerance=5)
    assert measure(no_baseline, DA_VALUES, date(2025, 9, 30)).vs_baseline is None
    from_zero = measure(DA, quarters("2024/25 Q1", 0, 5), date(2024, 9, 1))
    assert from_zero.vs_previous is not None and from_zero.vs_previous.percent is None


def test_missing_periods_previous_is_the_last_with_data_and_says_which() -> None:
    values = {q("2024/25 Q1"): 100.0, q("2024/25 Q2"): 110.0, q("2024/25 Q4"): 130.0}
    m = measure(ASB, values, date(2025, 3, 1))
    assert m.period == q("2024/25 Q4")
    assert m.vs_previous is not None
    assert (m.vs_previous.since, m.vs_previous.absolute) == (q("2024/25 Q2"), 20.0)
    assert m.direction_between == (q("2024/25 Q2"), q("2024/25 Q4"))
    assert m.vs_last_year is None
    assert m.rolling_twelve_months is None     # 2024/25 Q3 is missing


@pytest.mark.parametrize(("as_of", "expected"), [
    (date(2024, 12, 1), None),                   # three quarters only
    (date(2025, 2, 1), 600 + 612 + 625 + 618),   # 2024/25 Q1 to Q4
    (date(2025, 9, 30), 625 + 618 + 630 + 655),  # the last four
])
def test_rolling_twelve_months_sums_counts(as_of: date, expected: float | None) -> None:
    assert measure(DA, DA_VALUES, as_of).rolling_twelve_months == expected


def test_rolling_twelve_months_averages_percents() -> None:
    values = quarters("2024/25 Q2", 30, 32, 34, 36, 40)
    assert measure(MARAC, values, date(2025, 5, 1)).rolling_twelve_months == 33.0
    assert measure(MARAC, values, date(2025, 8, 1)).rolling_twelve_months == 35.5


def test_rolling_twelve_months_of_monthly_values_uses_the_last_twelve_months() -> None:
    monthly = KpiDefinition(ref="m", name="m", unit="count", better="lower",
                            frequency="monthly", tolerance=5)
    values = months(date(2024, 4, 1), *range(1, 17))       # April 2024 (1) to July 2025 (16)
    m = measure(monthly, values, date(2025, 7, 20))
    assert m.rolling_twelve_months == sum(range(5, 17))     # August 2024 to July 2025
    assert measure(monthly, values, date(2025, 2, 1)).rolling_twelve_months is None


@pytest.mark.parametrize(("defn", "earlier", "later", "expected"), [
    (DA, 100, 103, "improving"),
    (DA, 100, 102, "stable"),        # exactly 2%: still stable
    (DA, 100, 102.01, "improving"),
    (DA, 100, 98, "stable"),
    (DA, 100, 97.99, "worsening"),
    (DA, 620, 632.4, "stable"),      # 2% in floating point
    (ASB, 100, 103, "worsening"),
    (ASB, 100, 97, "improving"),
    (ASB, 100, 101.5, "stable"),
    (ASB, 1100, 1078, "stable"),
    (ASB, 1100, 1077.9, "improving"),
    (DA, 0, 0, "stable"),
    (DA, 0, 1, "improving"),
    (ASB, 0, 1, "worsening"),
])
def test_direction(defn: KpiDefinition, earlier: float, later: float, expected: str) -> None:
    assert STABLE_PERCENT == 2.0
    assert direction(defn, earlier, later) == expected


def test_direction_in_a_measure_compares_the_last_two_periods() -> None:
    assert measure(DA, DA_VALUES, date(2025, 9, 30)).direction == "improving"    # 630 -> 655
    assert measure(DA, DA_VALUES, date(2025, 3, 1)).direction == "stable"        # 625 -> 618
    assert measure(ASB, quarters("2024/25 Q1", 1100, 1150), date(2024, 8, 1)).direction == (
        "worsening")
    assert measure(DA, DA_VALUES, date(2024, 4, 1)).direction == "no data"


def test_monthly_values_are_measured_by_quarter_and_a_partial_count_is_not_judged() -> None:
    monthly = KpiDefinition(ref="asb-m", name="ASB", unit="count", better="lower",
                            frequency="monthly", tolerance=5, targets=ASB.targets)
    values = months(date(2025, 1, 1), 360, 370, 380, 350, 360, 370, 340)   # Jan to Jul 2025
    m = measure(monthly, values, date(2025, 8, 5))
    assert (m.period, m.label, m.value, m.partial) == (q("2025/26 Q2"), "2025/26 Q2", 340, True)
    assert m.status == "grey"
    assert m.reason == ("340 so far, from 1 of 3 months: too early to compare with the "
                        "target of 1,080")
    assert m.vs_previous is None
    assert m.direction_between == (q("2024/25 Q4"), q("2025/26 Q1"))   # 1,110 -> 1,080
    assert m.direction == "improving"
    whole = measure(monthly, values, date(2025, 6, 30))
    assert (whole.period, whole.value, whole.status, whole.partial) == (
        q("2025/26 Q1"), 1080.0, "green", False)


def test_a_partial_quarter_of_a_percent_is_judged_and_flagged() -> None:
    monthly = KpiDefinition(ref="marac-m", name="MARAC", unit="percent", better="lower",
                            frequency="monthly", tolerance=10, targets=MARAC.targets)
    m = measure(monthly, months(date(2025, 4, 1), 30, 34), date(2025, 5, 31))
    assert (m.value, m.target, m.status, m.partial) == (32.0, 32.0, "green", True)
    assert m.reason == "32% against a target of 32%: exactly on target (from 2 of 3 months)"


def test_an_annual_kpi_is_measured_by_year() -> None:
    values = {date(2024, 4, 1): 70.0, date(2025, 4, 1): 73.5, date(2026, 4, 1): 70.0}
    m = measure(SAFE, values, date(2026, 10, 1))
    assert (m.period, m.label, m.value, m.target, m.status) == (
        date(2026, 4, 1), "2026/27", 70.0, 74.0, "red")
    assert m.rolling_twelve_months == 70.0
    assert m.vs_last_year is not None and m.vs_previous is not None
    assert m.vs_last_year.since == m.vs_previous.since == date(2025, 4, 1)
    assert m.vs_last_year.absolute == -3.5
    assert m.direction == "worsening"
    assert m.vs_baseline is not None and m.vs_baseline.absolute == -1.0
    assert m.reason == ("70% against a target of 74%: 4 points (5.4%) below target, "
                        "beyond the 3% tolerance")


def test_a_year_without_a_target_is_grey() -> None:
    m = measure(DA, {q("2030/31 Q1"): 700}, date(2030, 6, 1))
    assert (m.target, m.status) == (None, "grey")
    assert m.reason == "700, with no target to compare it with"


def test_statuses_by_quarter() -> None:
    values = quarters("2024/25 Q3", 600, 630, 600, 700)
    assert statuses_by_quarter(DA, values) == {
        q("2024/25 Q3"): "amber",     # 600 vs 630: 4.8% below
        q("2024/25 Q4"): "green",
        q("2025/26 Q1"): "red",       # 600 vs 640: 6.3% below
        q("2025/26 Q2"): "green",
    }


def test_statuses_by_quarter_for_an_annual_kpi_covers_every_quarter_of_the_year() -> None:
    values = {date(2024, 4, 1): 70.0, date(2025, 4, 1): 73.5}
    assert statuses_by_quarter(SAFE, values) == {
        q("2024/25 Q1"): "amber", q("2024/25 Q2"): "amber",
        q("2024/25 Q3"): "amber", q("2024/25 Q4"): "amber",
        q("2025/26 Q1"): "green", q("2025/26 Q2"): "green",
        q("2025/26 Q3"): "green", q("2025/26 Q4"): "green",
    }


def test_statuses_by_quarter_leaves_a_partial_count_grey() -> None:
    monthly = KpiDefinition(ref="asb-m", name="ASB", unit="count", better="lower",
                            frequency="monthly", tolerance=5, targets=ASB.targets)
    values = months(date(2025, 4, 1), 400, 400, 400, 500)
    assert statuses_by_quarter(monthly, values) == {q("2025/26 Q1"): "red",
                                                    q("2025/26 Q2"): "grey"}
