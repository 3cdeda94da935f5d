"""What a KPI is: its unit, the direction that counts as better, its targets and tolerance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from plans.periods import FREQUENCIES, period_label, period_start, year_label, year_start

UNITS = ("count", "percent", "rate", "days", "score", "currency")
DIRECTIONS = ("higher", "lower")
SUMMED_UNITS = frozenset({"count", "currency"})
"""Units whose months add up to a quarter (and quarters to twelve months); the others average."""


def _no_targets() -> Mapping[date, float]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    """One KPI of the plan, as the ``kpis`` section of the plan file declares it.

    Targets and the baseline are per *reporting period*: a quarter for monthly and
    quarterly KPIs (monthly values roll up to quarters), a year for annual KPIs.
    ``targets`` maps the first day of a financial year to the target for each reporting
    period in that year; ``target`` is one target for the whole plan, used for any year
    without its own. ``tolerance`` is a percent of the target: worse than the target by
    at most this much is amber, beyond it is red.

    ``baseline`` is ``(first day of its period, value)``; its value, too, is per reporting
    period. A baseline on the first day of a financial year stands for that year (as the
    plan writes ``baseline: {period: 2023/24, value: 620}`` for a quarterly KPI).

    The definition is immutable (``targets`` is kept as a read-only copy) and checks its
    own values, raising ``ValueError`` with a message that names the KPI.
    """

    ref: str
    name: str
    unit: str
    better: str
    frequency: str
    tolerance: float
    year_start_month: int = 4
    baseline: tuple[date, float] | None = None
    targets: Mapping[date, float] = field(default_factory=_no_targets, hash=False)
    target: float | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.unit not in UNITS:
            problems.append(f"unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.better not in DIRECTIONS:
            problems.append(f"better {self.better!r} is not 'higher' or 'lower'")
        if self.frequency not in FREQUENCIES:
            problems.append(f"frequency {self.frequency!r} is not one of {', '.join(FREQUENCIES)}")
        if not self.tolerance >= 0:  # also refuses NaN
            problems.append(f"tolerance {self.tolerance!r} must be a percent of 0 or more")
        if not 1 <= self.year_start_month <= 12:
            problems.append(f"year_start_month {self.year_start_month!r} must be 1 to 12")
        elif self.frequency in FREQUENCIES:
            for first in self.targets:
                if first != year_start(first, self.year_start_month):
                    problems.append(f"targets: {first.isoformat()} is not the first day of a "
                                    "financial year")
            if self.baseline is not None:
                first = self.baseline[0]
                if first != period_start(first, self.year_start_month, self.reporting):
                    problems.append(f"baseline: {first.isoformat()} is not the first day of a "
                                    "reporting period")
        if problems:
            raise ValueError(f"KPI {self.ref}: " + "; ".join(problems))
        if self.baseline is not None:
            object.__setattr__(self, "baseline", (self.baseline[0], float(self.baseline[1])))
        targets = {day: float(value) for day, value in sorted(self.targets.items())}
        object.__setattr__(self, "targets", MappingProxyType(targets))

    @property
    def reporting(self) -> str:
        """The frequency measures and targets use: 'quarterly' (monthly values roll up to
        quarters) or 'annual'."""
        return "annual" if self.frequency == "annual" else "quarterly"

    @property
    def baseline_label(self) -> str | None:
        """The baseline period as people write it. A baseline dated on the first day of a
        financial year is that year (``2023/24``): the plan's baselines are years, with a
        value per reporting period; any other date is its quarter (``2023/24 Q3``)."""
        if self.baseline is None:
            return None
        first = self.baseline[0]
        if first == year_start(first, self.year_start_month):
            return year_label(first, self.year_start_month)
        return period_label(first, self.year_start_month, self.reporting)

    @property
    def is_annual(self) -> bool:
        return self.frequency == "annual"

    @property
    def is_summed(self) -> bool:
        """True where values add up (counts, money); False where they average."""
        return self.unit in SUMMED_UNITS

    def target_for(self, period_start: date) -> float | None:
        """The target for the reporting period that starts on ``period_start``.

        The year's own target if it has one, else the plan-wide ``target``, else None.
        """
        first = year_start(period_start, self.year_start_month)
        return self.targets.get(first, self.target)
