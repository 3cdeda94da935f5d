"""Statutory-duty reminders: a duty with a due day (``due: "01-31"``, ``every: year``) is chased
like an action, by reminding the community safety team (active admins) before it falls due.

The steps are ``DAYS_BEFORE`` (30 and 7 days before the due day). As for update reminders,
only the latest step whose day has come is sent, so a scheduler that was down sends the
latest reminder once; nothing is sent once the due day has passed. The outbox key names the
duty, the year it falls due, the step and the recipient (``duties|REF|2027|7|EMAIL``).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from notifications.job_support import (
    JobResult,
    base_url,
    job_session,
    loaded_plan,
    queue_email,
)
from plans.periods import long_date
from tracker.services.duties import dated_duties
from tracker.services.recipients import admins

DAYS_BEFORE = (30, 7)


def next_due(due: str, today: date) -> date:
    """The next day on or after ``today`` that is the ``MM-DD`` day ``due`` (29 February
    falls on the 28th in other years)."""
    month, day = (int(part) for part in due.split("-"))

    def on(year: int) -> date:
        try:
            return date(year, month, day)
        except ValueError:
            return date(year, month, day - 1)

    found = on(today.year)
    return found if found >= today else on(today.year + 1)


def step_due(due_on: date, today: date) -> int | None:
    """The days-before step that applies on ``today``: the latest whose day has come."""
    started = [days for days in sorted(DAYS_BEFORE, reverse=True)
               if due_on - timedelta(days=days) <= today <= due_on]
    return started[-1] if started else None


def run(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    result = JobResult("duties", dry_run=dry_run)
    with job_session(app, dry_run) as session:
        if loaded_plan(session) is None:
            result.say("No plan is loaded: no duties.")
            return result
        duties = dated_duties(session)
        team = admins(session)
        if not team:
            result.say("No active admin accounts: nobody to remind about duties.")
        for duty in duties:
            assert duty.due is not None
            due_on = next_due(duty.due, today)
            step = step_due(due_on, today)
            if step is None:
                result.say(f"{duty.ref}: due {long_date(due_on)}, no reminder due yet.")
                continue
            days = (due_on - today).days
            for admin in team:
                queue_email(
                    session, result, key=f"duties|{duty.ref}|{due_on.year}|{step}|{admin.email}",
                    kind="duty", to=admin.email,
                    subject=f"Statutory duty due {long_date(due_on)}: {duty.ref}",
                    template="duty", describe=f"{step} days before", name=admin.name,
                    due=long_date(due_on), days=days, duty_text=duty.text,
                    plan_link=f"{base_url(app)}/",
                )
    return result
