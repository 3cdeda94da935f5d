"""What a board pack holds, gathered once for every format (the document, the workbook and
the CSV all read it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import kpis as measures
from plans import Quarter
from tracker.reports import trend as trend_report
from tracker.reports.dashboard import Dashboard, KpiRow

KPI_WORDS = {"red": "Red", "amber": "Amber", "green": "Green", "grey": "No data"}


@dataclass(frozen=True)
class KpiPanel:
    """One KPI as its page of the pack shows it."""

    row: KpiRow
    chart: str
    """The chart as a ``data:image/svg+xml`` URI."""
    description: str
    numbers: tuple[measures.TableRow, ...]
    """The latest periods, oldest first."""

    @property
    def word(self) -> str:
        return KPI_WORDS.get(self.row.status, "No data")


@dataclass(frozen=True)
class TrendLine:
    ref: str
    title: str
    cells: tuple[trend_report.Cell, ...]


@dataclass
class Contents:
    """Everything the pack shows, gathered once for every format."""

    dashboard: Dashboard
    quarters: list[Quarter]
    """The trend's quarters, up to the pack's."""
    trend: list[TrendLine]
    kpis: list[KpiPanel]
    prepared: date
    filters: list[str]
    """The filters applied, in words (empty for the whole plan)."""

    @property
    def title(self) -> str:
        return f"{self.dashboard.partnership} board pack: {self.dashboard.quarter.label}"
