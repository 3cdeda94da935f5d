"""The exception report, read a page at a time: every Red and Amber action and every area
of concern, grouped by priority, Red first; narrowed to Red only or to areas of concern.

At Kingston's size it is one page; at a large partnership's, thousands of actions, it is
read :data:`PER_PAGE` at a time, each page with a summary table of its actions and links to
the page on which each priority starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tracker.reports.figures import ActionRow, Dashboard, PriorityRow

PER_PAGE = 50
ONLY = {"red": "Red only", "concern": "Areas of concern"}


@dataclass(frozen=True)
class Start:
    """Where a priority's exceptions begin: its page, and how many it has."""

    priority: PriorityRow
    page: int
    count: int


@dataclass
class ExceptionPage:
    only: str  # "", "red" or "concern"
    page: int
    pages: int
    total: int
    rows: list[tuple[PriorityRow, ActionRow]]
    starts: list[Start]

    @property
    def groups(self) -> list[tuple[PriorityRow, list[ActionRow]]]:
        """This page's rows, by priority, in order."""
        result: list[tuple[PriorityRow, list[ActionRow]]] = []
        for priority, row in self.rows:
            if not result or result[-1][0] is not priority:
                result.append((priority, []))
            result[-1][1].append(row)
        return result

    @property
    def first_ids(self) -> set[int]:
        """Priorities whose first exception is on this page (their headings go here)."""
        return {s.priority.id for s in self.starts if s.page == self.page}


def read(view: Dashboard, only: str, page: int) -> ExceptionPage:
    only = only if only in ONLY else ""
    every: list[tuple[PriorityRow, ActionRow]] = []
    starts: list[Start] = []
    for priority, rows in view.exceptions():
        chosen = [r for r in rows if (only != "red" or r.colour == "red")
                  and (only != "concern" or r.is_concern)]
        if chosen:
            starts.append(Start(priority, len(every) // PER_PAGE + 1, len(chosen)))
            every.extend((priority, r) for r in chosen)
    pages = max(1, math.ceil(len(every) / PER_PAGE))
    page = min(max(page, 1), pages)
    window = every[(page - 1) * PER_PAGE:page * PER_PAGE]
    return ExceptionPage(only=only, page=page, pages=pages, total=len(every), rows=window,
                         starts=starts)
