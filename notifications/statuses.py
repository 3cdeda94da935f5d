"""The statuses job: every status worked out as on today, once a day.

Pages only read the statuses that are stored (a page never writes), and the rules depend on
the date (a quarter's update window opening, a due date passing, an update becoming late).
So just after midnight, and whenever the scheduler starts, this job works every status out
as on today, without holding the write lock for long (:mod:`tracker.work`), unless that was
already done today since the plan was last loaded. Escalations are raised as the statuses
are stored; the morning jobs (reminders, the escalation scan) then read what is stored
instead of working it all out again. Until a newly opened quarter's statuses are worked
out, pages say they are not worked out yet.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from notifications.job_support import JobResult, job_session, loaded_plan, settle_statuses
from tracker.services.calendar import reporting
from tracker.services.statuses import Recomputed, needs_opening, recompute, worked_out_on


def run(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    result = JobResult("statuses", dry_run=dry_run)
    with job_session(app, dry_run=True) as session:  # a look first: it writes nothing
        plan = loaded_plan(session)
        if plan is None:
            result.headline = "no plan is loaded: nothing to work out."
            return result
        quarter = reporting(plan, today).quarter
        if worked_out_on(session, today):
            result.headline = (f"the statuses are already worked out as on "
                               f"{today.isoformat()} ({quarter.label} open).")
            return result
        opening = needs_opening(session, plan, today)
        done: Recomputed | None = None
        if dry_run:
            done = recompute(session, plan, today, actor="scheduler")  # and rolled back
    if not dry_run:
        done = settle_statuses(app, today, everything=True)
    count = done.actions if done is not None else 0
    raised = done.raised if done is not None else 0
    verb = "would work out" if dry_run else "worked out"
    result.headline = (f"{verb} the statuses of {count} action{'s' if count != 1 else ''} "
                       f"as on {today.isoformat()}, for {quarter.label}"
                       + (", the quarter now open" if opening else "")
                       + f"; {raised} escalation{'s' if raised != 1 else ''} raised.")
    return result
