"""A KPI's values, checked and by reporting period: monthly values roll up to quarters.

Values come in as a mapping from a period's first day to its value: months for monthly KPIs,
quarters for quarterly KPIs, years for annual KPIs. A key that is not the first day of such a
period is refused (``ValueError``); ``None`` and NaN values count as no data; pandas
Timestamps and datetimes are read as their dates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime

import pandas as pd

from kpis.definition import KpiDefinition
from plans.periods import period_start

Values = Mapping[date, float | None]
"""A KPI's values by the first day of their period; None for no data."""


def quarterly(defn: KpiDefinition, values: Values) -> pd.Series:
    """The KPI's values by reporting period, as a float Series indexed by first days, sorted.

    Monthly values roll up to their financial quarter: summed for counts and currency,
    averaged for the other units. A quarter with only some of its months is still rolled
    up; ``series.attrs["partial"]`` maps each such quarter to the number of months it has
    (see also ``partial_quarters``). Quarterly values pass through. Annual KPIs stay
    yearly: the index holds year starts, never quarters.
    """
    return _series(defn, clean(defn, values))


def partial_quarters(defn: KpiDefinition, values: Values, as_of: date | None = None
                     ) -> dict[date, int]:
    """Quarters rolled up from fewer than three months, with the number of months each has
    (only months starting on or before ``as_of`` count, when it is given)."""
    return rolled(defn, clean(defn, values, as_of))[1]


def period_values(defn: KpiDefinition, values: Values, as_of: date | None = None
                  ) -> dict[date, float]:
    """``quarterly`` as a plain dict, oldest first, optionally only up to ``as_of``."""
    return rolled(defn, clean(defn, values, as_of))[0]


def comparable(defn: KpiDefinition, points: Mapping[date, float],
               partial: Mapping[date, int]) -> dict[date, float]:
    """The periods that can be set against whole periods: all but partial quarters of
    summed KPIs (two months' count is not a quarter's)."""
    if not defn.is_summed:
        return dict(points)
    return {first: value for first, value in points.items() if first not in partial}


def rolled(defn: KpiDefinition, points: Mapping[date, float]
           ) -> tuple[dict[date, float], dict[date, int]]:
    """Checked values (from ``clean``) by reporting period, and the partial quarters."""
    series = _series(defn, points)
    by_period = {_as_date(first, defn.ref): float(value) for first, value in series.items()}
    partial: dict[date, int] = dict(series.attrs["partial"])
    return by_period, partial


def clean(defn: KpiDefinition, values: Values, as_of: date | None = None) -> dict[date, float]:
    """Checked values, sorted by date; no data (None, NaN) and periods starting after
    ``as_of`` left out."""
    points: dict[date, float] = {}
    for key, raw in values.items():
        first = _as_date(key, defn.ref)
        if first != period_start(first, defn.year_start_month, defn.frequency):
            raise ValueError(f"KPI {defn.ref}: {first.isoformat()} is not the first day of a "
                             f"{_PERIOD_NOUN[defn.frequency]}")
        if first in points:
            raise ValueError(f"KPI {defn.ref}: two values for {first.isoformat()}")
        if raw is None or (as_of is not None and first > as_of):
            continue
        value = float(raw)
        if not math.isnan(value):
            points[first] = value
    return dict(sorted(points.items()))


_PERIOD_NOUN = {"monthly": "month", "quarterly": "financial quarter", "annual": "financial year"}


def _as_date(key: object, ref: str) -> date:
    if isinstance(key, datetime):  # pandas Timestamps are datetimes too
        return key.date()
    if isinstance(key, date):
        return key
    raise TypeError(f"KPI {ref}: a period is given by its first day as a date, not {key!r}")


def _series(defn: KpiDefinition, points: Mapping[date, float]) -> pd.Series:
    index = pd.Index(list(points), dtype=object, name="period")
    raw = pd.Series(list(points.values()), index=index, dtype="float64", name=defn.ref)
    if defn.frequency != "monthly" or raw.empty:
        raw.attrs["partial"] = {}
        return raw
    grouped = raw.groupby([period_start(day, defn.year_start_month, "quarterly")
                           for day in points], sort=True)
    quarters = grouped.sum() if defn.is_summed else grouped.mean()
    months = grouped.count()
    quarters.index.name = "period"
    quarters.name = defn.ref
    quarters.attrs["partial"] = {first: int(n) for first, n in months.items() if n < 3}
    return quarters
