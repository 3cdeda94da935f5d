"""Update reminders: the plan's ``rules.reminders`` ladder, for each missing quarterly update.

Each step of the ladder (``{at: -7, to: owner}``) falls on a day counted from the open
quarter's update due date. What is due is worked out from the database and ``today`` alone
(the quarter and the actions chased by ``tracker.services.reminders``):

- only the open reporting quarter is chased (``tracker.services.calendar.reporting``), and
  not once it is locked or beyond the plan's end: a quarter already closed is never chased;
- an action is chased when it has started, is not complete, and has no update for the
  quarter that counts or awaits approval (a pending update counts as sent in);
- on a day, the step that applies is the **latest step whose day has come**. Earlier steps
  are skipped once a later one is due: a scheduler that was down for three days sends the
  latest reminder once, not every step it missed.

Each step sends one email per person, listing every action of theirs that the step covers,
each with a link to its update form. When a step names the owner, the owner is written to
and everyone else it names (``group_lead``, ``board``, an address) is copied. A step that
does not name the owner writes to each person it names, listing the actions they are
named for. The outbox key, ``reminders|QUARTER|STEP|EMAIL``, makes a second run harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from notifications.job_support import (
    JobResult,
    address,
    job_session,
    loaded_plan,
    name_of,
    queue_email,
    update_link,
)
from plans import Plan
from plans.periods import long_date
from plans.rules import Reminder
from tracker.models import Action, User
from tracker.services.calendar import Reporting
from tracker.services.recipients import resolve
from tracker.services.reminders import missing_updates, open_period


@dataclass(frozen=True)
class Step:
    at: int
    to: tuple[str, ...]
    day: date

    @property
    def label(self) -> str:
        return f"{self.at:+d}"


def steps(plan: Plan, period: Reporting) -> list[Step]:
    """The ladder for a quarter, in date order."""
    ladder: list[Reminder] = sorted(plan.rules.reminders, key=lambda r: r.at)
    return [Step(r.at, tuple(r.to), period.due + timedelta(days=r.at)) for r in ladder]


def step_due(plan: Plan, period: Reporting, today: date) -> Step | None:
    """The latest step whose day has come, or None before the first."""
    due = [step for step in steps(plan, period) if step.day <= today]
    return due[-1] if due else None


def plan_step(session: Session, step: Step, actions: list[Action]
              ) -> list[tuple[User | str, list[Action], set[str]]]:
    """(addressee, their actions, copied addresses) for each email of a step."""
    letters: dict[str, tuple[User | str, list[Action], set[str]]] = {}
    others = [role for role in step.to if role != "owner"]
    for action in actions:
        if "owner" in step.to:
            if not action.owner.is_active:
                continue
            entry = letters.setdefault(action.owner.email, (action.owner, [], set()))
            entry[1].append(action)
            for role in others:
                entry[2].update(address(r) for r in resolve(session, role, action))
        else:
            for role in others:
                for recipient in resolve(session, role, action):
                    entry = letters.setdefault(address(recipient), (recipient, [], set()))
                    if action not in entry[1]:
                        entry[1].append(action)
    return [letters[key] for key in sorted(letters)]


def run(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    """Queue the reminders due on ``today`` (see the module's docstring)."""
    result = JobResult("reminders", dry_run=dry_run)
    with job_session(app, dry_run) as session:
        plan = loaded_plan(session)
        if plan is None:
            result.say("No plan is loaded: nothing to remind anyone about.")
            return result
        period, why = open_period(session, plan, today)
        if period is None:
            result.say(f"No reminders: {why}")
            return result
        step = step_due(plan, period, today)
        if step is None:
            first = steps(plan, period)
            when = f" (the first is on {long_date(first[0].day)})" if first else ""
            result.say(f"No reminders yet for {period.quarter.label}{when}.")
            return result
        actions = missing_updates(session, plan, period.quarter)
        result.say(f"{period.quarter.label}: updates due {long_date(period.due)}; step "
                   f"{step.label} ({long_date(step.day)}, to {', '.join(step.to)}); "
                   f"{len(actions)} update{'s' if len(actions) != 1 else ''} missing.")
        late = today > period.due
        for recipient, listed, copies in plan_step(session, step, actions):
            to = address(recipient)
            count = f"{len(listed)} action{'s' if len(listed) != 1 else ''}"
            subject = (f"Overdue: your update for {period.quarter.label} ({count})" if late
                       else f"Reminder: your update for {period.quarter.label} is due "
                            f"{long_date(period.due)} ({count})")
            queue_email(
                session, result, key=f"reminders|{period.quarter.label}|{step.label}|{to}",
                kind="reminder", to=to, cc=copies, subject=subject, template="reminder",
                describe=", ".join(a.ref for a in listed),
                name=name_of(recipient), quarter=period.quarter, due=long_date(period.due),
                is_late=late, is_owner="owner" in step.to,
                actions=[{"ref": a.ref, "title": a.title, "link": update_link(app, a,
                                                                            period.quarter),
                          "owner": a.owner.name} for a in listed],
            )
    return result
