"""KPIs: measures and charts from a KPI's values, in pandas and matplotlib only.

A pure package: it imports pandas, numpy and matplotlib, nothing of the project's (not
even ``plans``) and neither Flask nor SQLAlchemy, so the tracker, the board pack and the
tests can all use it the same way.

Modules: ``definition`` (the KPI), ``series`` (values by period), ``measures`` (status,
measure, projection), ``charts`` (SVG, text alternative, table), ``periods`` (dates and
labels) and ``formatting`` (numbers in words).

Periods are plain dates: a month, quarter or financial year is identified by its first
day, and the financial year by the month it starts (April = 4, January = 1). Values are a
mapping from a period's first day to its value.

* ``KpiDefinition``: the KPI as the plan declares it (unit, better, frequency, tolerance,
  baseline, per-year targets or one plan-wide target); ``target_for(period_start)``.
* ``quarterly``: the values by reporting period as a pandas Series (monthly values roll up
  to quarters, partial quarters flagged; annual KPIs stay yearly); ``partial_quarters`` and
  ``period_values`` (the same as a dict, up to a date). ``Values`` is the input type.
* ``status`` and ``status_reason``: green, amber, red or grey against a target, and why.
* ``measure``: a ``Measure`` on a date: the latest value, its target and status, changes
  against the baseline, the previous period and the same period last year, the rolling
  twelve months, the direction of travel and a year-end ``Projection``.
* ``statuses_by_quarter``: each quarter's status, for the rules engine's ``{kpi: COLOUR}``.
* ``direction``: improving, stable (within ``STABLE_PERCENT``) or worsening.
* ``chart_svg``, ``describe`` and ``table``: the chart, its text alternative and its numbers.
* ``period_label`` and ``year_label``: ``2025/26 Q1``, ``2025 Q1``, ``2025/26``, ``April 2025``.
"""

from kpis.charts import TableRow, chart_svg, describe, small_chart_svg, table
from kpis.definition import UNITS, KpiDefinition
from kpis.measures import (
    AMBER,
    GREEN,
    GREY,
    RED,
    STABLE_PERCENT,
    Change,
    Measure,
    Projection,
    direction,
    measure,
    partial_quarters,
    period_values,
    quarterly,
    status,
    status_reason,
    statuses_by_quarter,
    year_end_period,
)
from kpis.series import Values
from plans.periods import period_label, period_start, quarter_start, year_label, year_start

__all__ = [
    "AMBER",
    "GREEN",
    "GREY",
    "RED",
    "STABLE_PERCENT",
    "UNITS",
    "Values",
    "Change",
    "KpiDefinition",
    "Measure",
    "Projection",
    "TableRow",
    "chart_svg",
    "describe",
    "direction",
    "measure",
    "partial_quarters",
    "period_label",
    "period_start",
    "period_values",
    "quarter_start",
    "quarterly",
    "small_chart_svg",
    "status",
    "status_reason",
    "statuses_by_quarter",
    "table",
    "year_end_period",
    "year_label",
    "year_start",
]
