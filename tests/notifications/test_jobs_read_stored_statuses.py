"""The statuses job works every status out once a day; the morning jobs read what it stored.

The rules depend on the date, so each night the statuses job works every status out as on
today (raising the escalations that a passing date brings). The escalation scan and the
reminders then read the stored statuses instead of working the whole plan out again; the
scan works them out itself only when the statuses job has not run that day.
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from notifications import escalation_digest
from notifications import statuses as statuses_job
from plans.engine import COMPLETE
from tracker.db import get_engine
from tracker.models import ActionStatus, StatusRun
from tracker.services import reminders
from tracker.services.calendar import reporting
from tracker.services.plan_load import current_plan

TODAY = date(2026, 10, 20)  # 2026/27 Q2's updates were due on 15 October


def _runs(app: Flask) -> int:
    with Session(get_engine(app)) as session:
        return session.scalar(select(func.count()).select_from(StatusRun)) or 0


def test_the_statuses_job_works_everything_out_once_a_day(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    first = runner.invoke(args=["jobs", "run", "statuses", "--today", TODAY.isoformat()])
    assert first.exit_code == 0, first.output
    assert "worked out the statuses of" in first.output
    assert "as on 2026-10-20, for 2026/27 Q2" in first.output
    runs = _runs(kingston_app)

    again = runner.invoke(args=["jobs", "run", "statuses", "--today", TODAY.isoformat()])
    assert again.exit_code == 0, again.output
    assert "the statuses are already worked out as on 2026-10-20" in again.output
    assert _runs(kingston_app) == runs

    tomorrow = runner.invoke(args=["jobs", "run", "statuses", "--today", "2026-10-21"])
    assert "worked out the statuses of" in tomorrow.output
    assert _runs(kingston_app) == runs + 1


def test_the_escalation_scan_reads_what_the_statuses_job_stored(kingston_app: Flask) -> None:
    late = escalation_digest.run(kingston_app, TODAY)  # the statuses job has not run today
    assert any(line.startswith("Statuses recomputed as on 2026-10-20") for line in late.lines)
    runs = _runs(kingston_app)

    statuses_job.run(kingston_app, date(2026, 10, 21))
    assert _runs(kingston_app) == runs + 1
    scan = escalation_digest.run(kingston_app, date(2026, 10, 21))
    assert "Statuses as stored, worked out as on 2026-10-21." in scan.lines
    assert _runs(kingston_app) == runs + 1  # nothing worked out again


def test_reminders_read_whether_an_action_is_under_way_from_the_stored_statuses(
        kingston_app: Flask) -> None:
    statuses_job.run(kingston_app, TODAY)
    with Session(get_engine(kingston_app)) as session:
        plan = current_plan(session)
        assert plan is not None
        quarter = reporting(plan, TODAY).quarter  # 2026/27 Q2, being chased
        missing = reminders.missing_updates(session, plan, quarter)
        assert missing, "no update is in for 2026/27 Q2 yet"
        chased = missing[0]
        # stored as complete (as the statuses job would, had it seen a completion)
        session.execute(update(ActionStatus).where(
            ActionStatus.action_id == chased.id, ActionStatus.quarter == quarter.label)
            .values(rule=COMPLETE))
        session.flush()
        after = reminders.missing_updates(session, plan, quarter)
        assert chased.id not in {a.id for a in after}
        assert len(after) == len(missing) - 1
        # with no stored statuses for the quarter, the rules are run instead
        session.execute(delete(ActionStatus).where(ActionStatus.quarter == quarter.label))
        session.flush()
        assert {a.id for a in reminders.missing_updates(session, plan, quarter)} == {
            a.id for a in missing}
        session.rollback()
