"""The reporting calendar: which quarter is open for updates, when updates are due, locks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Calendar, Plan, Quarter
from tracker.models import QuarterLock


@dataclass(frozen=True)
class Reporting:
    """The quarter being reported on, and its update window."""

    quarter: Quarter
    opens: date
    due: date

    def is_late(self, today: date) -> bool:
        return today > self.due


def open_quarter(calendar: Calendar, today: date, window_opens_days: int) -> Quarter:
    """The latest quarter whose update window has opened on ``today``."""
    quarter = calendar.quarter_of(today)
    if today < quarter.end - timedelta(days=window_opens_days):
        quarter = quarter.previous()
    return quarter


def reporting(plan: Plan, today: date) -> Reporting:
    rules = plan.rules.calendar
    quarter = open_quarter(plan.partnership.calendar, today, rules.window_opens_days)
    return window(plan, quarter)


def window(plan: Plan, quarter: Quarter) -> Reporting:
    rules = plan.rules.calendar
    return Reporting(
        quarter,
        opens=quarter.end - timedelta(days=rules.window_opens_days),
        due=quarter.end + timedelta(days=rules.update_due_days),
    )


def first_quarter(plan: Plan) -> Quarter:
    return plan.partnership.calendar.quarter_of(plan.partnership.plan.starts)


def quarters_between(first: Quarter, last: Quarter) -> Iterator[Quarter]:
    quarter = first
    while quarter <= last:
        yield quarter
        quarter = quarter.next()


def plan_quarters(plan: Plan, today: date) -> list[Quarter]:
    """Every quarter of the plan from its start up to the open quarter, in order."""
    last = min(reporting(plan, today).quarter,
               plan.partnership.calendar.quarter_of(plan.partnership.plan.ends))
    return list(quarters_between(first_quarter(plan), last))


def locked_quarters(session: Session) -> set[str]:
    return set(session.scalars(select(QuarterLock.quarter)))


def is_locked(session: Session, quarter: Quarter) -> bool:
    found = session.scalars(select(QuarterLock.id).where(QuarterLock.quarter == quarter.label))
    return found.first() is not None
