"""What a board pack holds, gathered once for every format (the document, the workbook and
the CSV all read it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import kpis as measures
from plans import Quarter
from tracker.reports import trend as trend_report
from tracker.reports.dashboard import Dashboard, KpiRow
from tracker.services.layouts import EVERYTHING, Choice

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
class KpiFigure:
    """A KPI's latest value and target as numbers (the workbook's cells), in its unit."""

    unit: str
    """One of :data:`kpis.UNITS`: count, percent (``71`` for 71%), currency (pounds), ..."""
    value: float | None
    target: float | None


@dataclass(frozen=True)
class TrendLine:
    ref: str
    title: str
    cells: tuple[trend_report.Cell, ...]


@dataclass(frozen=True)
class Note:
    """A commentary as the pack shows it: the quarter's summary, or a lead's narrative."""

    text: str
    author: str
    written: date
    version: int


@dataclass
class Contents:
    """Everything the pack shows, gathered once for every format."""

    dashboard: Dashboard
    quarters: list[Quarter]
    """The trend's quarters, up to the pack's."""
    trend: list[TrendLine]
    kpis: list[KpiPanel]
    """The KPIs the document charts (see :data:`tracker.reports.pack.KPIS_CHARTED`)."""
    prepared: date
    filters: list[str]
    """The filters applied, in words (empty for the whole plan)."""
    kpi_figures: dict[str, KpiFigure] = field(default_factory=dict)
    """Each KPI's numbers, by its ref (for the workbook; empty for the other formats)."""
    priority_titles: dict[str, str] = field(default_factory=dict)
    """Each priority's full title in the plan, by its ref (the dashboard shows its short
    title, ``Safe communities``, where it has one)."""
    choice: Choice = EVERYTHING
    """The briefing book's layout: which sections, priorities and KPIs the document holds,
    and its cover note."""
    summary: Note | None = None
    """The community safety team's summary of the quarter."""
    narratives: dict[str, Note] = field(default_factory=dict)
    """Each priority's lead's narrative for the quarter, by the priority's ref."""
    kpi_rows: list[KpiRow] = field(default_factory=list)
    """Every KPI the document shows (those the layout chooses), charted or not."""

    @property
    def kpis_summarised(self) -> bool:
        """Whether the document lists more KPIs than it charts (a large plan)."""
        return len(self.kpi_rows) > len(self.kpis)

    @property
    def title(self) -> str:
        return f"{self.dashboard.partnership} board pack: {self.dashboard.quarter.label}"
