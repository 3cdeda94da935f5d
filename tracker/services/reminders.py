"""Reminders: which quarter is chased for its updates, and which actions' updates are missing.

Only the open reporting quarter is chased (:func:`tracker.services.calendar.reporting`), and
not once it is locked or when it lies outside the plan. An action is chased when it has
started, is not complete, and has no update for the quarter that counts or awaits approval
(a pending update counts as sent in). Reads only; the reminder and digest jobs write the
emails.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from plans import Plan, Quarter
from plans.engine import COMPLETE, NOT_STARTED, evaluate
from tracker.models import Action, ActionStatus, ActionUpdate, Group
from tracker.services.calendar import Reporting, is_locked, reporting
from tracker.services.statuses import counting_updates, facts_for

SUBMITTED = ("not_needed", "approved", "pending")  # the reviews under which it is sent in


def current_actions(session: Session) -> list[Action]:
    """Every action still in the plan, with its owner and group loaded."""
    return list(session.scalars(
        select(Action).where(Action.retired_at.is_(None))
        .order_by(Action.due, Action.position)
        .options(joinedload(Action.owner), joinedload(Action.group).joinedload(Group.lead),
                 joinedload(Action.commitment))
    ).unique())


def open_period(session: Session, plan: Plan, today: date) -> tuple[Reporting | None, str]:
    """The quarter being chased on ``today``, or None and why not."""
    period = reporting(plan, today)
    last = plan.partnership.calendar.quarter_of(plan.partnership.plan.ends)
    first = plan.partnership.calendar.quarter_of(plan.partnership.plan.starts)
    if period.quarter > last or period.quarter < first:
        return None, f"{period.quarter.label} is outside the plan."
    if is_locked(session, period.quarter):
        return None, f"{period.quarter.label} is locked: it is closed for updates."
    return period, ""


def missing_updates(session: Session, plan: Plan, quarter: Quarter) -> list[Action]:
    """Started, not complete, and no update sent in for the quarter (pending ones count).

    Whether an action has started or is complete is read from the quarter's stored statuses
    (the statuses job works them out each night); only an action with none stored (the
    quarter not worked out yet) has its updates read and the rules run for it."""
    actions = current_actions(session)
    sent_in = set(session.scalars(
        select(ActionUpdate.action_id).where(ActionUpdate.quarter == quarter.label,
                                             ActionUpdate.review.in_(SUBMITTED))))
    waiting = [a for a in actions if a.id not in sent_in]
    stored = dict(session.execute(
        select(ActionStatus.action_id, ActionStatus.rule)
        .where(ActionStatus.quarter == quarter.label)).all())
    unknown = [a.id for a in waiting if a.id not in stored]
    counting = counting_updates(session, unknown) if unknown else {}
    result = []
    for action in waiting:
        rule = stored.get(action.id)
        if rule is None:
            facts = facts_for(plan, action, counting.get(action.id, {}))
            rule = evaluate(plan.rules, facts, [quarter])[0].rule
        if rule in (NOT_STARTED, COMPLETE):
            continue
        result.append(action)
    return result
