"""The year-end projection: a least-squares line through the last 3 to 6 periods."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kpitest import kingston, months, q, quarters

from kpis import KpiDefinition, measure, year_end_period
from plans.periods import add_months

DA = kingston("da-reports")
ASB = kingston("asb-incidents")
SAFE = kingston("residents-feel-safe")


def test_a_perfectly_linear_series_projects_exactly() -> None:
    m = measure(DA, quarters("2024/25 Q1", 600, 610, 620, 630, 640), date(2025, 5, 1))
    p = m.projection
    assert p is not None
    assert p.period == q("2025/26 Q4")
    assert p.value == pytest.approx(670)
    assert p.per_period == pytest.approx(10)
    assert (p.target, p.status) == (640.0, "green")
    assert p.based_on == tuple(quarters("2024/25 Q1", 0, 0, 0, 0, 0))


def test_fewer_than_three_periods_give_no_projection() -> None:
    assert measure(DA, quarters("2024/25 Q1", 600, 610), date(2024, 8, 1)).projection is None
    assert measure(DA, quarters("2024/25 Q1", 600, 610, 620), date(2024, 11, 1)
                   ).projection is not None


def test_only_the_last_six_periods_are_fitted() -> None:
    values = quarters("2024/25 Q1", 9000, 1, 600, 610, 620, 630, 640, 650)
    p = measure(DA, values, date(2026, 5, 15)).projection
    assert p is not None
    assert p.based_on == tuple(list(values)[2:])
    assert p.period == q("2026/27 Q4")
    assert p.value == pytest.approx(690)


def test_gaps_keep_their_real_width() -> None:
    # 2024/25 Q3 is missing; the series is linear in time, so the projection is exact
    values = {q("2024/25 Q1"): 600.0, q("2024/25 Q2"): 610.0, q("2024/25 Q4"): 630.0}
    p = measure(DA, values, date(2025, 4, 15)).projection
    assert p is not None
    assert p.period == q("2025/26 Q4")
    assert p.value == pytest.approx(670)


@pytest.mark.parametrize(("values", "expected_value", "expected_status"), [
    ((1000, 1050, 1100), 1150, "red"),      # target 1,080, amber to 1,134
    ((1040, 1060, 1080), 1100, "amber"),
    ((1200, 1150, 1100), 1050, "green"),
])
def test_the_projected_status_against_that_years_target(
        values: tuple[float, ...], expected_value: float, expected_status: str) -> None:
    p = measure(ASB, quarters("2025/26 Q1", *values), date(2025, 11, 1)).projection
    assert p is not None
    assert p.period == q("2025/26 Q4") and p.target == 1080
    assert p.value == pytest.approx(expected_value)
    assert p.status == expected_status


def test_the_year_end_is_that_of_as_of_not_of_the_latest_data() -> None:
    # data to 2025/26 Q4, looked at in 2026/27: projects to 2026/27 Q4 and its target
    p = measure(DA, quarters("2025/26 Q2", 600, 610, 620), date(2026, 5, 1)).projection
    assert p is not None
    assert (p.period, p.target) == (q("2026/27 Q4"), 650.0)
    assert p.value == pytest.approx(660)


def test_a_projected_count_does_not_go_below_zero() -> None:
    fires = kingston("accidental-dwelling-fires")
    p = measure(fires, quarters("2024/25 Q1", 30, 15, 0), date(2024, 12, 1)).projection
    assert p is not None and p.value == 0.0


def test_annual_projection() -> None:
    values = {date(2023, 4, 1): 70.0, date(2024, 4, 1): 71.0, date(2025, 4, 1): 72.0}
    this_year = measure(SAFE, values, date(2025, 6, 1)).projection
    assert this_year is not None
    assert this_year.period == date(2025, 4, 1)
    assert this_year.value == pytest.approx(72)
    next_year = measure(SAFE, values, date(2026, 5, 1)).projection
    assert next_year is not None
    assert next_year.period == date(2026, 4, 1)
    assert next_year.value == pytest.approx(73)
    assert next_year.per_period == pytest.approx(1)
    assert (next_year.target, next_year.status) == (74.0, "amber")   # 73 >= 74 * 0.97
    assert measure(SAFE, dict(list(values.items())[:2]), date(2025, 1, 1)).projection is None


def test_partial_quarters_of_counts_are_left_out_of_the_trend() -> None:
    monthly = KpiDefinition(ref="asb-m", name="ASB", unit="count", better="lower",
                            frequency="monthly", tolerance=5, targets=ASB.targets)
    values = months(date(2024, 10, 1), *([100] * 3 + [110] * 3 + [120] * 3 + [5]))
    p = measure(monthly, values, date(2025, 7, 10)).projection
    assert p is not None
    assert p.based_on == (q("2024/25 Q3"), q("2024/25 Q4"), q("2025/26 Q1"))
    assert p.value == pytest.approx(300 + 30 * 5)   # three more quarters at +30 a quarter


def test_year_end_period() -> None:
    assert year_end_period(DA, date(2025, 4, 1)) == q("2025/26 Q4")
    assert year_end_period(DA, date(2026, 3, 31)) == q("2025/26 Q4")
    assert year_end_period(SAFE, date(2026, 3, 31)) == date(2025, 4, 1)


@settings(max_examples=40, deadline=None)
@given(start=st.floats(-500, 500), slope=st.floats(-50, 50),
       present=st.lists(st.booleans(), min_size=6, max_size=6))
def test_any_straight_line_with_gaps_projects_onto_itself(start: float, slope: float,
                                                          present: list[bool]) -> None:
    defn = KpiDefinition(ref="score", name="score", unit="score", better="higher",
                         frequency="quarterly", tolerance=5)
    first = q("2024/25 Q1")
    values = {add_months(first, 3 * n): start + slope * n
              for n, keep in enumerate(present) if keep or n == 5}
    p = measure(defn, values, date(2025, 8, 1)).projection
    if len(values) < 3:
        assert p is None
        return
    assert p is not None
    assert p.value == pytest.approx(start + slope * 7, abs=1e-6)   # 2025/26 Q4 is n = 7
