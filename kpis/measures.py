"""KPI series to measures: status against target, changes, rolling figures, trend and projection.

Values are read by ``kpis.series`` (monthly values are measured by financial quarter, so
their targets and baseline are per quarter, like those of quarterly KPIs).

RAG rules (``status``), for a target ``t`` and tolerance ``p`` percent:

* better = higher: green when the value is at or above ``t``; amber when it is below ``t``
  by at most ``p`` percent of ``t``; red beyond that.
* better = lower: green at or below ``t``; amber above ``t`` by at most ``p`` percent; red
  beyond.
* A value exactly on the target is green; a value exactly on the tolerance edge is amber
  (values within floating-point rounding of a boundary count as on it).
* No target or no value: grey.
* The tolerance is a percent *of the target*, so a target of 0 has no amber band: a percent
  of nothing is nothing. With better = lower and a target of 0, 0 (or less) is green and any
  value above 0 is red whatever the tolerance; a partnership that wants slack must set a
  target above 0. (With better = higher, anything at or above 0 meets a target of 0.)
  Negative targets use the size of the target, so the band always lies on the worse side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from kpis.definition import KpiDefinition
from kpis.formatting import number, percent_text, value_text
from kpis.series import (
    Values,
    clean,
    comparable,
    partial_quarters,
    period_values,
    quarterly,
    rolled,
)
from plans.periods import add_months, long_date, month_index, period_label, year_start

__all__ = [
    "AMBER", "GREEN", "GREY", "RED", "STABLE_PERCENT", "Change", "Measure", "Projection",
    "direction", "judge", "measure", "partial_quarters", "period_values", "quarterly",
    "status", "status_reason", "statuses_by_quarter", "tolerance_edge", "year_end_period",
]

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
STABLE_PERCENT = 2.0
"""A change between the last two periods of at most this percent (of the earlier value) is
'stable'; a change of exactly this much is still stable."""
TREND_PERIODS = 6
"""The projection fits a straight line through at most this many of the latest periods..."""
MIN_TREND_PERIODS = 3
"""...and needs at least this many."""


@dataclass(frozen=True, slots=True)
class Change:
    """The latest value against an earlier one."""

    since: date
    """The first day of the period compared with (the baseline period, the previous period
    with data, or the same period a year before)."""
    earlier: float
    absolute: float
    """Latest minus earlier, in the KPI's unit (percentage points for percent KPIs)."""
    percent: float | None
    """``absolute`` as a percent of the earlier value; None when the earlier value is 0."""


@dataclass(frozen=True, slots=True)
class Projection:
    """Where a straight-line trend puts the KPI at the end of the financial year."""

    period: date
    """The last reporting period of the financial year that contains ``as_of``."""
    value: float
    target: float | None
    status: str
    per_period: float
    """The trend's change per reporting period (quarter, or year for annual KPIs)."""
    based_on: tuple[date, ...]
    """The periods the line was fitted through: 3 to 6 of the latest, partial quarters of
    summed KPIs left out (two months' count would drag the line down)."""


@dataclass(frozen=True, slots=True)
class Measure:
    """Everything the dashboard says about one KPI on one date."""

    ref: str
    as_of: date
    period: date | None
    """The latest reporting period with data whose first day is on or before ``as_of``."""
    label: str | None
    value: float | None
    target: float | None
    status: str
    reason: str
    partial: bool
    """True when the latest period is a quarter rolled up from only some of its months."""
    vs_baseline: Change | None
    vs_previous: Change | None
    vs_last_year: Change | None
    rolling_twelve_months: float | None
    direction: str
    """'improving', 'stable' or 'worsening' by the KPI's direction, from the last two
    periods with data; 'no data' with fewer than two."""
    direction_between: tuple[date, date] | None
    """The two periods ``direction`` compares, earlier first (partial quarters of summed
    KPIs are skipped, so these may not include ``period``)."""
    projection: Projection | None


def statuses_by_quarter(defn: KpiDefinition, values: Values) -> dict[date, str]:
    """The status of each quarter that has data, keyed by the quarter's first day.

    For annual KPIs every quarter of a year with data takes that year's status. A partial
    quarter of a summed KPI is grey: two months of a count say nothing yet about the quarter.
    """
    points, partial = rolled(defn, clean(defn, values))
    statuses: dict[date, str] = {}
    for first, value in points.items():
        colour = judge(defn, first, value, partial)
        if defn.is_annual:
            for quarter in range(4):
                statuses[add_months(first, 3 * quarter)] = colour
        else:
            statuses[first] = colour
    return statuses


# ---------------------------------------------------------------------------- status


def status(defn: KpiDefinition, value: float | None, target: float | None) -> str:
    """'green', 'amber', 'red' or 'grey' (no target or no value): see the module's rules."""
    if value is None or target is None or math.isnan(value) or math.isnan(target):
        return GREY
    if _meets(defn, value, target):
        return GREEN
    if _meets(defn, value, tolerance_edge(defn, target)):
        return AMBER
    return RED


def tolerance_edge(defn: KpiDefinition, target: float) -> float:
    """The worst value that is still amber."""
    allowance = abs(target) * defn.tolerance / 100
    return target - allowance if defn.better == "higher" else target + allowance


def judge(defn: KpiDefinition, first: date, value: float, partial: Mapping[date, int]) -> str:
    """The status of one period's value against its year's target; grey for a partial
    quarter (listed in ``partial``) of a summed KPI."""
    if defn.is_summed and first in partial:
        return GREY
    return status(defn, value, defn.target_for(first))


def status_reason(defn: KpiDefinition, value: float | None, target: float | None) -> str:
    """Why the status is what it is, in a sentence: ``1,420 against a target of 1,520: 6.6%
    below target, beyond the 5% tolerance``."""
    if value is None or math.isnan(value):
        if target is None:
            return "No value and no target"
        return f"No value to compare with the target of {value_text(defn, target)}"
    shown = value_text(defn, value)
    if target is None or math.isnan(target):
        return f"{shown}, with no target to compare it with"
    head = f"{shown} against a target of {value_text(defn, target)}"
    if _close(value, target):
        return f"{head}: exactly on target"
    colour = status(defn, value, target)
    side = "above" if value > target else "below"
    if target == 0:
        if colour == GREEN:
            return f"{head}: {side} target, meeting it"
        return f"{head}: {side} target (a target of 0 leaves no tolerance)"
    tolerance = f"{number(defn.tolerance)}%"
    gap = abs(value - target) / abs(target) * 100
    size = _gap_text(gap, defn.tolerance, colour)
    if defn.unit == "percent":
        points = number(abs(value - target))
        size = f"{points} point{'' if points == '1' else 's'} ({size})"
    if colour == GREEN:
        return f"{head}: {size} {side} target, meeting it"
    if colour == AMBER:
        if _close(value, tolerance_edge(defn, target)):
            return f"{head}: {size} {side} target, at the edge of the {tolerance} tolerance"
        return f"{head}: {size} {side} target, within the {tolerance} tolerance"
    if defn.tolerance == 0:
        return f"{head}: {size} {side} target, with no tolerance"
    return f"{head}: {size} {side} target, beyond the {tolerance} tolerance"


def direction(defn: KpiDefinition, earlier: float, later: float) -> str:
    """'improving', 'stable' or 'worsening' from ``earlier`` to ``later``, by the KPI's
    direction; within ``STABLE_PERCENT`` of the earlier value (inclusive) is stable."""
    change = later - earlier
    if earlier == 0:
        if change == 0:
            return "stable"
    else:
        share = abs(change) / abs(earlier) * 100
        if share <= STABLE_PERCENT or _close(share, STABLE_PERCENT):
            return "stable"
    rising_is_better = defn.better == "higher"
    return "improving" if (change > 0) == rising_is_better else "worsening"


# ---------------------------------------------------------------------------- measure


def measure(defn: KpiDefinition, values: Values, as_of: date) -> Measure:
    """The KPI as it stands on ``as_of``, from the data for periods starting on or before it.

    A partial quarter of a summed KPI (a count or money from only some of its months) is
    reported as the latest period, flagged, but not judged: its status is grey and its
    changes are None, and direction and projection use whole quarters. A partial quarter
    of an averaged KPI is a fair estimate of the quarter, so it is judged and used, flagged.
    """
    cleaned = clean(defn, values, as_of)
    points, partial = rolled(defn, cleaned)
    whole = comparable(defn, points, partial)
    projection = _projection(defn, whole, as_of)
    pair = list(whole)[-2:]
    between = (pair[0], pair[1]) if len(pair) == 2 else None
    travel = direction(defn, whole[pair[0]], whole[pair[1]]) if between else "no data"
    if not points:
        return Measure(
            ref=defn.ref, as_of=as_of, period=None, label=None, value=None, target=None,
            status=GREY, reason=f"No data on or before {long_date(as_of)}",
            partial=False, vs_baseline=None, vs_previous=None, vs_last_year=None,
            rolling_twelve_months=None, direction=travel, direction_between=between,
            projection=projection,
        )
    latest = list(points)[-1]
    value = points[latest]
    target = defn.target_for(latest)
    judged = latest in whole
    previous = list(whole)[-2] if judged and len(whole) > 1 else None
    year_before = add_months(latest, -12)
    baseline = defn.baseline
    return Measure(
        ref=defn.ref,
        as_of=as_of,
        period=latest,
        label=period_label(latest, defn.year_start_month, defn.reporting),
        value=value,
        target=target,
        status=status(defn, value, target) if judged else GREY,
        reason=_reason(defn, value, target, partial.get(latest)),
        partial=latest in partial,
        vs_baseline=_change(baseline[0], baseline[1], value) if baseline and judged else None,
        vs_previous=(_change(previous, whole[previous], value)
                     if previous is not None else None),
        vs_last_year=(_change(year_before, whole[year_before], value)
                      if judged and year_before in whole else None),
        rolling_twelve_months=_rolling(defn, points, cleaned),
        direction=travel,
        direction_between=between,
        projection=projection,
    )


def year_end_period(defn: KpiDefinition, as_of: date) -> date:
    """The last reporting period of the financial year containing ``as_of``: its Q4, or the
    year itself for annual KPIs."""
    first = year_start(as_of, defn.year_start_month)
    return first if defn.is_annual else add_months(first, 9)


# ---------------------------------------------------------------------------- internals


def _reason(defn: KpiDefinition, value: float, target: float | None, months: int | None
            ) -> str:
    if months is None:
        return status_reason(defn, value, target)
    if not defn.is_summed:
        return f"{status_reason(defn, value, target)} (from {months} of 3 months)"
    head = f"{value_text(defn, value)} so far, from {months} of 3 months: too early to"
    if target is None:
        return f"{head} judge, and there is no target"
    return f"{head} compare with the target of {value_text(defn, target)}"


def _change(since: date, earlier: float, later: float) -> Change:
    absolute = later - earlier
    percent = absolute / abs(earlier) * 100 if earlier != 0 else None
    return Change(since=since, earlier=earlier, absolute=absolute, percent=percent)


def _rolling(defn: KpiDefinition, points: Mapping[date, float],
             cleaned: Mapping[date, float]) -> float | None:
    """The latest year for annual KPIs; else the twelve months to the latest data: the last
    four quarters (or, for monthly KPIs, the last twelve months), all of them needed."""
    latest = max(cleaned)
    if defn.is_annual:
        return points[latest]
    step, count = (1, 12) if defn.frequency == "monthly" else (3, 4)
    wanted = [add_months(latest, -step * n) for n in range(count)]
    if any(first not in cleaned for first in wanted):
        return None
    window = [cleaned[first] for first in wanted]
    return float(sum(window)) if defn.is_summed else float(np.mean(window))


def _projection(defn: KpiDefinition, points: Mapping[date, float], as_of: date
                ) -> Projection | None:
    """A least-squares line through the last up-to-6 comparable periods, read at the year end.

    The line's x is the period's month number, so gaps keep their real width and a series
    that is exactly linear projects exactly.
    """
    whole = list(points)[-TREND_PERIODS:]
    if len(whole) < MIN_TREND_PERIODS:
        return None
    x = np.array([month_index(first) for first in whole], dtype=np.float64)
    y = np.array([points[first] for first in whole], dtype=np.float64)
    x_mean, y_mean = float(x.mean()), float(y.mean())
    spread = x - x_mean
    slope = float((spread * (y - y_mean)).sum() / (spread * spread).sum())
    end = year_end_period(defn, as_of)
    value = _clip(defn, y_mean + slope * (month_index(end) - x_mean))
    target = defn.target_for(end)
    return Projection(
        period=end, value=value, target=target, status=status(defn, value, target),
        per_period=slope * (12 if defn.is_annual else 3), based_on=tuple(whole),
    )


def _clip(defn: KpiDefinition, value: float) -> float:
    """Keep a projected value possible: no negative counts, days, rates or money; percents
    between 0 and 100. Scores may be negative."""
    if defn.unit == "percent":
        return min(max(value, 0.0), 100.0)
    if defn.unit == "score":
        return value
    return max(value, 0.0)


def _gap_text(gap: float, tolerance: float, colour: str) -> str:
    """The gap to target as a percent, with enough decimals that it never reads as 0% nor,
    when red, as inside the tolerance."""
    for decimals in (1, 2, 3):
        shown = round(gap, decimals)
        if shown == 0 or (colour == RED and shown <= tolerance):
            continue
        return percent_text(gap, decimals)
    return percent_text(gap, 3)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _meets(defn: KpiDefinition, value: float, bar: float) -> bool:
    """True when ``value`` is at ``bar`` or on its better side."""
    if _close(value, bar):
        return True
    return value > bar if defn.better == "higher" else value < bar
