"""The statuses job: a quarter's statuses are worked out as soon as its update window opens.

Pages only read the statuses that are stored (a page never writes), so when the calendar
reaches a new quarter's update window, this job works its statuses out: just after midnight,
and whenever the scheduler starts. Until it has run, pages say the quarter's statuses are
not worked out yet. The escalations job recomputes every status each morning as well, which
also catches up after a plan load whose recompute did not finish.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from notifications.job_support import JobResult, job_session, loaded_plan, settle_statuses
from tracker.services.calendar import reporting
from tracker.services.statuses import Recomputed, needs_opening, recompute


def run(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    result = JobResult("statuses", dry_run=dry_run)
    with job_session(app, dry_run=True) as session:  # a look first: it writes nothing
        plan = loaded_plan(session)
        if plan is None:
            result.headline = "no plan is loaded: nothing to work out."
            return result
        quarter = reporting(plan, today).quarter
        if not needs_opening(session, plan, today):
            result.headline = f"the statuses of {quarter.label} are already worked out."
            return result
        done: Recomputed | None = None
        if dry_run:
            done = recompute(session, plan, today, actor="scheduler")  # and rolled back
    if not dry_run:
        done = settle_statuses(app, today, everything=False)
    count = done.actions if done is not None else 0
    verb = "would work out" if dry_run else "worked out"
    result.headline = (f"{verb} the statuses of {count} action{'s' if count != 1 else ''} "
                       f"for {quarter.label}, the quarter now open.")
    return result
