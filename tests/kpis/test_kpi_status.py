"""RAG status against a target: both directions, the exact boundaries, no target, no value."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kpitest import kingston

from kpis import KpiDefinition, status, status_reason

UP = KpiDefinition(ref="up", name="More is better", unit="count", better="higher",
                   frequency="quarterly", tolerance=5)
DOWN = KpiDefinition(ref="down", name="Less is better", unit="count", better="lower",
                     frequency="quarterly", tolerance=5)
STRICT_UP = KpiDefinition(ref="s-up", name="No slack", unit="count", better="higher",
                          frequency="quarterly", tolerance=0)
STRICT_DOWN = KpiDefinition(ref="s-down", name="No slack", unit="count", better="lower",
                            frequency="quarterly", tolerance=0)


@pytest.mark.parametrize(("defn", "value", "target", "expected"), [
    # better = higher, target 1,520, 5% tolerance: amber down to 1,444
    (UP, 1600, 1520, "green"),
    (UP, 1520, 1520, "green"),          # exactly on target
    (UP, 1519.9, 1520, "amber"),
    (UP, 1444, 1520, "amber"),          # exactly at the tolerance edge
    (UP, 1443.9, 1520, "red"),          # just beyond it
    (UP, 1420, 1520, "red"),
    # better = lower, target 1,100, 5% tolerance: amber up to 1,155
    (DOWN, 1000, 1100, "green"),
    (DOWN, 1100, 1100, "green"),
    (DOWN, 1100.1, 1100, "amber"),
    (DOWN, 1155, 1100, "amber"),
    (DOWN, 1155.1, 1100, "red"),
    # no target, no value
    (UP, 1600, None, "grey"),
    (DOWN, None, 1100, "grey"),
    (UP, None, None, "grey"),
    (UP, math.nan, 1520, "grey"),
    # tolerance 0: no amber at all
    (STRICT_UP, 100, 100, "green"),
    (STRICT_UP, 99.99, 100, "red"),
    (STRICT_DOWN, 100, 100, "green"),
    (STRICT_DOWN, 100.01, 100, "red"),
    # a target of 0 leaves no tolerance band (a percent of nothing is nothing)
    (DOWN, 0, 0, "green"),
    (DOWN, -1, 0, "green"),
    (DOWN, 0.5, 0, "red"),
    (UP, 0, 0, "green"),
    (UP, -0.5, 0, "red"),
    # a negative target: the band still lies on the worse side
    (UP, -10.5, -10, "amber"),
    (UP, -10.6, -10, "red"),
    (DOWN, -9.5, -10, "amber"),
    (DOWN, -9.4, -10, "red"),
])
def test_status(defn: KpiDefinition, value: float | None, target: float | None,
                expected: str) -> None:
    assert status(defn, value, target) == expected


@pytest.mark.parametrize(("ref", "value", "target", "expected"), [
    # edges that floating point would push over: 33 * 1.1 and 22.4 * 1.05
    ("marac-repeat", 36.3, 33, "amber"),
    ("marac-repeat", 36.31, 33, "red"),
    ("adult-reoffending", 23.52, 22.4, "amber"),
    ("adult-reoffending", 23.53, 22.4, "red"),
    ("drug-treatment-completions", 16.15, 17.0, "amber"),   # 17 * 0.95
    ("drug-treatment-completions", 16.14, 17.0, "red"),
    ("residents-feel-safe", 69.84, 72, "amber"),            # 72 * 0.97
    ("residents-feel-safe", 69.83, 72, "red"),
    ("knife-crime-injury", 17.25, 15, "amber"),             # 15 * 1.15
    ("knife-crime-injury", 18, 15, "red"),
])
def test_status_at_the_edges_of_kingston_kpis(ref: str, value: float, target: float,
                                               expected: str) -> None:
    assert status(kingston(ref), value, target) == expected


@pytest.mark.parametrize(("defn", "value", "target", "expected"), [
    (UP, 1420, 1520, "1,420 against a target of 1,520: 6.6% below target, beyond the 5% tolerance"),
    (UP, 1444, 1520,
     "1,444 against a target of 1,520: 5% below target, at the edge of the 5% tolerance"),
    (UP, 1500, 1520,
     "1,500 against a target of 1,520: 1.3% below target, within the 5% tolerance"),
    (UP, 1520, 1520, "1,520 against a target of 1,520: exactly on target"),
    (UP, 1600, 1520, "1,600 against a target of 1,520: 5.3% above target, meeting it"),
    (DOWN, 1210, 1100,
     "1,210 against a target of 1,100: 10% above target, beyond the 5% tolerance"),
    (DOWN, 990, 1100, "990 against a target of 1,100: 10% below target, meeting it"),
    # red by a whisker: the gap is shown with enough decimals not to read as 5%
    (UP, 949.9, 1000,
     "949.9 against a target of 1,000: 5.01% below target, beyond the 5% tolerance"),
    (STRICT_UP, 99, 100, "99 against a target of 100: 1% below target, with no tolerance"),
    (DOWN, 3, 0, "3 against a target of 0: above target (a target of 0 leaves no tolerance)"),
    (DOWN, 1420, None, "1,420, with no target to compare it with"),
    (DOWN, None, 1100, "No value to compare with the target of 1,100"),
])
def test_status_reason(defn: KpiDefinition, value: float | None, target: float | None,
                       expected: str) -> None:
    assert status_reason(defn, value, target) == expected


def test_status_reason_for_a_percent_kpi_gives_points_and_percent() -> None:
    assert status_reason(kingston("residents-feel-safe"), 70, 72) == (
        "70% against a target of 72%: 2 points (2.8%) below target, within the 3% tolerance")
    assert status_reason(kingston("marac-repeat"), 38, 33) == (
        "38% against a target of 33%: 5 points (15.2%) above target, beyond the 10% tolerance")


RANK = {"red": 0, "amber": 1, "green": 2}


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6), target=st.floats(-1e6, 1e6),
       tolerance=st.floats(0, 50), better=st.sampled_from(["higher", "lower"]))
def test_a_better_value_never_gets_a_worse_status(a: float, b: float, target: float,
                                                  tolerance: float, better: str) -> None:
    defn = KpiDefinition(ref="p", name="p", unit="score", better=better,
                         frequency="quarterly", tolerance=tolerance)
    worse, better_value = sorted((a, b)) if better == "higher" else sorted((a, b), reverse=True)
    assert RANK[status(defn, worse, target)] <= RANK[status(defn, better_value, target)]
