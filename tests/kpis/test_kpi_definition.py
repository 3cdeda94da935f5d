"""KPI definitions: target lookup by financial year, checks, and the real Kingston KPIs."""

from __future__ import annotations

from datetime import date

import pytest
from kpitest import fy, kingston, kingston_refs

from kpis import KpiDefinition, period_label, year_label
from plans.periods import period_start, quarter_start, year_start

DA = kingston("da-reports")


def test_all_sixteen_kingston_kpis_are_valid_definitions() -> None:
    refs = kingston_refs()
    assert len(refs) == 16
    defs = [kingston(ref) for ref in refs]
    assert {d.frequency for d in defs} == {"quarterly", "annual"}
    assert {d.better for d in defs} == {"higher", "lower"}
    assert all(d.targets and d.baseline for d in defs)


@pytest.mark.parametrize(("period", "expected"), [
    (date(2024, 4, 1), 630),     # 2024/25 Q1
    (date(2025, 1, 1), 630),     # 2024/25 Q4: January is still the year that began in April
    (date(2025, 3, 31), 630),
    (date(2025, 4, 1), 640),     # 2025/26 Q1
    (date(2028, 10, 1), 670),
    (date(2029, 4, 1), None),    # after the plan: no target
    (date(2024, 3, 1), None),    # before it
])
def test_target_for_uses_the_financial_year(period: date, expected: float | None) -> None:
    assert DA.target_for(period) == expected


def test_a_plan_wide_target_fills_years_without_their_own() -> None:
    defn = KpiDefinition(ref="x", name="x", unit="count", better="lower", frequency="quarterly",
                         tolerance=5, targets={fy("2024/25"): 100}, target=90)
    assert defn.target_for(date(2024, 7, 1)) == 100
    assert defn.target_for(date(2025, 7, 1)) == 90
    assert defn.target_for(date(2019, 7, 1)) == 90
    only_plan_wide = KpiDefinition(ref="y", name="y", unit="count", better="lower",
                                   frequency="quarterly", tolerance=5, target=1600)
    assert only_plan_wide.target_for(date(2026, 10, 1)) == 1600


def test_january_years_look_up_targets_by_calendar_year() -> None:
    defn = KpiDefinition(ref="j", name="j", unit="count", better="higher", frequency="quarterly",
                         tolerance=5, year_start_month=1,
                         targets={date(2025, 1, 1): 10, date(2026, 1, 1): 12})
    assert defn.target_for(date(2025, 10, 1)) == 10
    assert defn.target_for(date(2026, 1, 1)) == 12


def test_targets_are_a_read_only_copy_and_the_definition_is_hashable() -> None:
    source = {fy("2024/25"): 100}
    defn = KpiDefinition(ref="x", name="x", unit="count", better="lower",
                         frequency="quarterly", tolerance=5, targets=source)
    source[fy("2025/26")] = 1
    assert dict(defn.targets) == {fy("2024/25"): 100.0}
    with pytest.raises(TypeError):
        defn.targets[fy("2025/26")] = 1  # type: ignore[index]
    assert hash(defn) == hash(KpiDefinition(ref="x", name="x", unit="count", better="lower",
                                            frequency="quarterly", tolerance=5, targets=source))


@pytest.mark.parametrize(("changes", "message"), [
    ({"unit": "widgets"}, "unit 'widgets' is not one of"),
    ({"better": "up"}, "better 'up' is not 'higher' or 'lower'"),
    ({"frequency": "weekly"}, "frequency 'weekly' is not one of"),
    ({"tolerance": -1}, "tolerance -1 must be a percent of 0 or more"),
    ({"year_start_month": 13}, "year_start_month 13 must be 1 to 12"),
    ({"targets": {date(2024, 7, 1): 5}}, "targets: 2024-07-01 is not the first day of a financial"),
    ({"baseline": (date(2023, 5, 1), 5)}, "baseline: 2023-05-01 is not the first day of a"),
])
def test_a_bad_definition_is_refused_with_its_ref(changes: dict[str, object],
                                                  message: str) -> None:
    fields: dict[str, object] = {"ref": "bad-kpi", "name": "n", "unit": "count",
                                 "better": "higher", "frequency": "quarterly", "tolerance": 5}
    fields.update(changes)
    with pytest.raises(ValueError, match="KPI bad-kpi: ") as raised:
        KpiDefinition(**fields)  # type: ignore[arg-type]
    assert message in str(raised.value)


def test_a_year_start_baseline_is_labelled_as_the_year() -> None:
    assert DA.baseline == (date(2023, 4, 1), 620.0)
    assert DA.baseline_label == "2023/24"
    quarter = KpiDefinition(ref="x", name="x", unit="count", better="lower",
                            frequency="quarterly", tolerance=5, baseline=(date(2023, 10, 1), 9))
    assert quarter.baseline_label == "2023/24 Q3"


@pytest.mark.parametrize(("start", "month", "frequency", "expected"), [
    (date(2025, 4, 1), 4, "quarterly", "2025/26 Q1"),
    (date(2025, 10, 1), 4, "quarterly", "2025/26 Q3"),
    (date(2026, 1, 1), 4, "quarterly", "2025/26 Q4"),
    (date(2099, 1, 1), 4, "quarterly", "2098/99 Q4"),
    (date(2099, 4, 1), 4, "quarterly", "2099/00 Q1"),
    (date(2025, 1, 1), 1, "quarterly", "2025 Q1"),
    (date(2025, 10, 1), 1, "quarterly", "2025 Q4"),
    (date(2025, 4, 1), 4, "annual", "2025/26"),
    (date(2025, 1, 1), 1, "annual", "2025"),
    (date(2025, 4, 1), 4, "monthly", "April 2025"),
    (date(2026, 2, 1), 1, "monthly", "February 2026"),
])
def test_period_label(start: date, month: int, frequency: str, expected: str) -> None:
    assert period_label(start, month, frequency) == expected


def test_period_arithmetic() -> None:
    assert year_start(date(2025, 3, 31)) == date(2024, 4, 1)
    assert year_start(date(2025, 4, 1)) == date(2025, 4, 1)
    assert year_start(date(2025, 3, 31), 1) == date(2025, 1, 1)
    assert quarter_start(date(2025, 6, 30)) == date(2025, 4, 1)
    assert quarter_start(date(2026, 3, 5)) == date(2026, 1, 1)
    assert quarter_start(date(2026, 3, 5), 1) == date(2026, 1, 1)
    assert period_start(date(2025, 8, 19), 4, "monthly") == date(2025, 8, 1)
    assert year_label(date(2026, 2, 1)) == "2025/26"
    with pytest.raises(ValueError, match="unknown frequency"):
        period_label(date(2025, 4, 1), 4, "weekly")
