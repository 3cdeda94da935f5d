"""The public progress page for residents: the partnership's vision, each priority's progress
in plain words (counts of stored action statuses, nothing else), the KPIs the plan marks
``public: true`` with the table of their numbers, and approved good-news stories.

It never reads a person, a narrative, a concern flag or an escalation: only the tables named
here, in a fixed number of queries whatever the size of the plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import kpis as measures
from kpis.formatting import value_text
from plans import Plan, Quarter
from plans.periods import month_year
from tracker.models import KPI, Action, ActionStatus, Commitment, Priority, QuarterLock
from tracker.models.stories import Story
from tracker.services import kpi_values, stories
from tracker.services.calendar import plan_quarters, reporting

# colour -> how a resident reads it, in the order the sentence gives them
WORDS = (("green", "on track"), ("blue", "complete"), ("amber", "at some risk"),
         ("red", "behind"), ("grey", "without an update yet"))


@dataclass(frozen=True)
class PriorityProgress:
    ref: str
    title: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sentence(self) -> str:
        """"7 of 9 actions on track, 1 complete": counts only."""
        if not self.total:
            return "No actions have been reported on yet."
        parts: list[str] = []
        for colour, word in WORDS:
            n = self.counts.get(colour, 0)
            if n and not parts:
                noun = "action" if self.total == 1 else "actions"
                parts.append(f"{n} of {self.total} {noun} {word}")
            elif n:
                parts.append(f"{n} {word}")
        return ", ".join(parts)


@dataclass(frozen=True)
class KpiRow:
    label: str
    value: str
    target: str


@dataclass(frozen=True)
class PublicKpi:
    ref: str
    name: str
    better: str
    rows: tuple[KpiRow, ...]
    latest: str  # the newest figure in words, for the chart's text alternative


@dataclass(frozen=True)
class PublicPage:
    name: str
    area: str | None
    vision: str | None
    quarter: Quarter | None
    priorities: tuple[PriorityProgress, ...]
    kpis: tuple[PublicKpi, ...]
    stories: Sequence[Story]


def shown_quarter(session: Session, plan: Plan, today: date) -> Quarter | None:
    """The last quarter the board sees as final: the newest locked quarter of the plan, or,
    before any is locked, the quarter being reported."""
    quarters = plan_quarters(plan, today)
    if not quarters:
        return None
    locked = set(session.scalars(select(QuarterLock.quarter)))
    for quarter in reversed(quarters):
        if quarter.label in locked:
            return quarter
    return reporting(plan, today).quarter if reporting(plan, today).quarter in quarters \
        else quarters[-1]


def as_of(quarter: Quarter | None, today: date) -> date:
    return today if quarter is None else min(quarter.end, today)


def public_kpis(session: Session) -> Sequence[KPI]:
    return session.scalars(select(KPI).where(KPI.is_public.is_(True), KPI.retired_at.is_(None))
                           .order_by(KPI.position, KPI.id)).all()


def public_kpi(session: Session, ref: str) -> KPI | None:
    return session.scalars(select(KPI).where(KPI.ref == ref, KPI.is_public.is_(True),
                                             KPI.retired_at.is_(None))).first()


def kpi_series(session: Session, plan: Plan, kpis: Sequence[KPI], until: date
               ) -> dict[int, tuple[measures.KpiDefinition, dict[date, float]]]:
    """Each KPI's definition and values up to ``until``, in one query."""
    calendar = plan.partnership.calendar
    series = kpi_values.current_series(session, kpis, calendar) if kpis else {}
    return {kpi.id: (kpi_values.definition(kpi, calendar),
                     {start: value for start, value in series.get(kpi.id, ()) if start <= until})
            for kpi in kpis}


def build(session: Session, plan: Plan, today: date) -> PublicPage:
    quarter = shown_quarter(session, plan, today)
    until = as_of(quarter, today)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if quarter is not None:
        rows = session.execute(
            select(Commitment.priority_id, ActionStatus.colour, func.count(ActionStatus.id))
            .join(Action, Action.id == ActionStatus.action_id)
            .join(Commitment, Commitment.id == Action.commitment_id)
            .where(ActionStatus.quarter == quarter.label, Action.retired_at.is_(None))
            .group_by(Commitment.priority_id, ActionStatus.colour))
        for priority_id, colour, n in rows:
            counts[priority_id][colour] = n
    priorities = tuple(
        PriorityProgress(p.ref, p.title, counts.get(p.id, {}))
        for p in session.scalars(select(Priority).where(Priority.retired_at.is_(None))
                                 .order_by(Priority.position, Priority.id)))
    shown = public_kpis(session)
    series = kpi_series(session, plan, shown, until)
    kpi_pages = []
    for kpi in shown:
        defn, values = series[kpi.id]
        table = []
        for start, value in sorted(values.items(), reverse=True)[:8]:
            label = _period_label(plan, defn, start)
            target = defn.target_for(start)
            table.append(KpiRow(label, value_text(defn, value),
                                value_text(defn, target) if target is not None else ""))
        latest = f"latest figure {table[0].value} for {table[0].label}" if table \
            else "no figures yet"
        kpi_pages.append(PublicKpi(kpi.ref, kpi.name, kpi.better, tuple(table), latest))
    return PublicPage(
        name=plan.partnership.name, area=plan.partnership.area,
        vision=plan.partnership.vision, quarter=quarter, priorities=priorities,
        kpis=tuple(kpi_pages), stories=stories.approved(session))


def _period_label(plan: Plan, defn: measures.KpiDefinition, start: date) -> str:
    calendar = plan.partnership.calendar
    if defn.is_annual:
        return calendar.year_of(start).label
    if defn.frequency == "monthly":
        return month_year(start)
    return calendar.quarter_of(start).label
