"""Quarterly updates: recording them (append-only, version-checked), approving, locking.

Services flush and never commit: the view or command that calls them commits once. Every
change is written to the audit trail in the same transaction, and the statuses it can
change are recomputed before the commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from plans import Plan, Quarter
from plans.periods import long_date
from tracker.access import can_approve, can_update, leads_action, led_group_ids
from tracker.db import hold
from tracker.models import (
    Action,
    ActionUpdate,
    Commitment,
    Group,
    Milestone,
    QuarterLock,
    User,
    utcnow,
)
from tracker.models.people import group_members
from tracker.services import audit
from tracker.services.calendar import first_quarter, is_locked, reporting, window
from tracker.services.statuses import COUNTING, action_start, recompute

TEXT_FIELDS = ("narrative", "next_steps", "risks", "corrective_action", "concern_reason")


@dataclass
class UpdateData:
    """What the owner typed, as the form validated it."""

    rag: str
    percent_complete: int
    narrative: str
    next_steps: str = ""
    risks: str = ""
    corrective_action: str = ""
    is_concern: bool = False
    concern_reason: str = ""
    evidence: list[str] = field(default_factory=list)
    milestones_done: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rag": self.rag, "percent_complete": self.percent_complete,
            "narrative": self.narrative, "next_steps": self.next_steps, "risks": self.risks,
            "corrective_action": self.corrective_action, "is_concern": self.is_concern,
            "concern_reason": self.concern_reason, "evidence": list(self.evidence),
        }


class UpdateRefused(Exception):
    """The update cannot be recorded; the message says why, for the person who tried."""


class StaleEdit(Exception):
    """Someone saved a newer version since the form was opened; nothing was overwritten."""

    def __init__(self, latest: ActionUpdate) -> None:
        super().__init__(f"version {latest.version} was saved while this form was open")
        self.latest = latest


def find_action(session: Session, ref: str) -> Action | None:
    """An action by its ref, with its commitment and priority, owner and milestones: what
    the update pages show of it."""
    return session.scalars(
        select(Action).where(Action.ref == ref)
        .options(joinedload(Action.commitment).joinedload(Commitment.priority),
                 joinedload(Action.owner), selectinload(Action.milestones))
    ).first()


def find_update(session: Session, update_id: int) -> ActionUpdate | None:
    """One version of an update, by its id."""
    return session.get(ActionUpdate, update_id)


def actions_for(session: Session, user_id: int, group_ids: Collection[int]) -> list[Action]:
    """The current actions a person owns or whose group they lead, soonest due first, with
    owner, group and commitment (My actions)."""
    return list(session.scalars(
        select(Action).where(Action.retired_at.is_(None))
        .where((Action.owner_id == user_id) | Action.group_id.in_(group_ids))
        .order_by(Action.due, Action.position)
        .options(joinedload(Action.owner), joinedload(Action.group),
                 joinedload(Action.commitment))))


def latest_updates(session: Session, action_ids: Collection[int],
                   quarter: Quarter) -> dict[int, ActionUpdate]:
    """The latest version of each of these actions' updates for a quarter, by action id."""
    latest: dict[int, ActionUpdate] = {}
    for update in session.scalars(select(ActionUpdate).where(
            ActionUpdate.action_id.in_(action_ids), ActionUpdate.quarter == quarter.label)
            .order_by(ActionUpdate.version)):
        latest[update.action_id] = update
    return latest


def latest_version(session: Session, action: Action, quarter: Quarter) -> ActionUpdate | None:
    return session.scalars(
        select(ActionUpdate)
        .where(ActionUpdate.action_id == action.id, ActionUpdate.quarter == quarter.label)
        .order_by(ActionUpdate.version.desc()).limit(1)
    ).first()


def previous_update(session: Session, plan: Plan, action: Action, quarter: Quarter
                    ) -> ActionUpdate | None:
    """The update that counts for the latest quarter before ``quarter`` that has one (its
    latest counting version): what the owner last told the board, to start this quarter from.
    """
    parse = plan.partnership.calendar.parse_quarter
    found: tuple[Quarter, ActionUpdate] | None = None
    for row in session.scalars(
            select(ActionUpdate)
            .where(ActionUpdate.action_id == action.id, ActionUpdate.quarter != quarter.label,
                   ActionUpdate.review.in_(COUNTING))
            .order_by(ActionUpdate.version)):
        try:
            earlier = parse(row.quarter)
        except ValueError:
            continue
        if earlier < quarter and (found is None or earlier >= found[0]):
            found = (earlier, row)
    return found[1] if found is not None else None


def check_can_edit(session: Session, plan: Plan, user: User, action: Action, quarter: Quarter,
                   today: date) -> None:
    """Refuse with a reason: not theirs, locked, not open yet, before the action starts."""
    if not can_update(user, action):
        raise PermissionError("only the action's owner or its group's lead can update it")
    if is_locked(session, quarter):
        raise UpdateRefused(f"{quarter.label} is locked: the board has met and its updates "
                            "are now read-only")
    open_quarter = reporting(plan, today).quarter
    if quarter > open_quarter:
        raise UpdateRefused(f"updates for {quarter.label} open on "
                            f"{long_date(reporting_opens(plan, quarter))}")
    calendar = plan.partnership.calendar
    if quarter < max(first_quarter(plan), calendar.quarter_of(action_start(plan, action))):
        raise UpdateRefused(f"{action.ref} had not started in {quarter.label}")


def reporting_opens(plan: Plan, quarter: Quarter) -> date:
    return window(plan, quarter).opens


def has_approver(session: Session, action: Action) -> bool:
    """Whether anyone leads the action's group, to approve its updates: without a group or a
    lead (a plan may leave one out), an update counts as soon as it is sent, as it would
    without ``approval: group_lead``; the plan check warns about such groups."""
    if action.group_id is None:
        return False
    group = session.get(Group, action.group_id)
    if group is None:
        return False
    if group.lead_id is not None:
        return True
    return session.scalar(select(group_members.c.user_id).join(
        User, User.id == group_members.c.user_id).where(
        group_members.c.group_id == group.id, User.role == "lead", User.is_active)
        .limit(1)) is not None


def record_update(session: Session, plan: Plan, user: User, action: Action, quarter: Quarter,
                  data: UpdateData, base_version: int, today: date) -> ActionUpdate:
    """Add a new version of the quarter's update; refuse if the form was stale."""
    check_can_edit(session, plan, user, action, quarter, today)
    latest = latest_version(session, action, quarter)
    current = latest.version if latest is not None else 0
    if current != base_version:
        assert latest is not None
        raise StaleEdit(latest)
    needs_approval = (plan.rules.approval == "group_lead" and not leads_action(user, action)
                      and has_approver(session, action))
    update = ActionUpdate(
        action_id=action.id, quarter=quarter.label, version=current + 1, author_id=user.id,
        review="pending" if needs_approval else "not_needed", **data.as_dict(),
    )
    session.add(update)
    _tick_milestones(session, user, action, data.milestones_done)
    audit.record(
        session, user, "update.submitted", "action", action.ref,
        f"{quarter.label} version {current + 1}: {data.rag}, {data.percent_complete}%"
        + (" (awaiting approval)" if needs_approval else ""),
        old=_fields(latest) if latest is not None else None, new=data.as_dict(),
    )
    session.flush()
    recompute(session, plan, today, [action.id], actor=user)
    return update


def _fields(update: ActionUpdate) -> dict[str, Any]:
    return {
        "version": update.version, "rag": update.rag,
        "percent_complete": update.percent_complete, "narrative": update.narrative,
        "next_steps": update.next_steps, "risks": update.risks,
        "corrective_action": update.corrective_action, "is_concern": update.is_concern,
        "concern_reason": update.concern_reason, "evidence": update.evidence,
    }


def _tick_milestones(session: Session, user: User, action: Action, done: set[int]) -> None:
    for milestone in session.scalars(select(Milestone).where(Milestone.action_id == action.id,
                                                             Milestone.retired_at.is_(None))):
        ticked = milestone.id in done
        if ticked and milestone.completed_at is None:
            milestone.completed_at, milestone.completed_by_id = utcnow(), user.id
            audit.record(session, user, "milestone.completed", "milestone", milestone.ref,
                         milestone.title, old={"completed": False}, new={"completed": True})
        elif not ticked and milestone.completed_at is not None:
            milestone.completed_at, milestone.completed_by_id = None, None
            audit.record(session, user, "milestone.reopened", "milestone", milestone.ref,
                         milestone.title, old={"completed": True}, new={"completed": False})


def review(session: Session, plan: Plan, user: User, update: ActionUpdate, approve: bool,
           comment: str, today: date) -> None:
    """A lead approves a pending update, or sends it back with a comment."""
    # the update's row is held until the decision is committed, so that of two leads
    # deciding at the same moment the second finds it already reviewed
    hold(session, update)
    action = session.get(Action, update.action_id)
    assert action is not None
    if not can_approve(user, action):
        raise PermissionError("only a lead of the action's group can approve its updates")
    if update.review != "pending":
        raise UpdateRefused("this update has already been reviewed")
    latest = latest_version(session, action, plan.partnership.calendar.parse_quarter(
        update.quarter))
    if latest is not None and latest.id != update.id:
        raise UpdateRefused("a newer version of this update has been submitted since; "
                            "review that one")
    if is_locked(session, plan.partnership.calendar.parse_quarter(update.quarter)):
        raise UpdateRefused(f"{update.quarter} is locked")
    if not approve and not comment.strip():
        raise UpdateRefused("say what needs to change when you send an update back")
    update.review = "approved" if approve else "returned"
    update.reviewed_by_id, update.reviewed_at = user.id, utcnow()
    update.review_comment = comment.strip()
    audit.record(session, user, "update.approved" if approve else "update.returned", "action",
                 action.ref, f"{update.quarter} version {update.version}"
                 + (f": {comment.strip()}" if comment.strip() else ""),
                 old={"review": "pending"}, new={"review": update.review})
    session.flush()
    recompute(session, plan, today, [action.id], actor=user)


def lock_quarter(session: Session, user: User, quarter: Quarter, note: str = "") -> None:
    if is_locked(session, quarter):
        raise UpdateRefused(f"{quarter.label} is already locked")
    session.add(QuarterLock(quarter=quarter.label, locked_by_id=user.id, note=note))
    audit.record(session, user, "quarter.locked", "quarter", quarter.label, note,
                 old={"locked": False}, new={"locked": True})
    session.flush()


def unlock_quarter(session: Session, user: User, quarter: Quarter, reason: str) -> None:
    lock = session.scalars(select(QuarterLock).where(QuarterLock.quarter == quarter.label)
                           .with_for_update()).first()
    if lock is None:
        raise UpdateRefused(f"{quarter.label} is not locked")
    if not reason.strip():
        raise UpdateRefused("say why the quarter is being unlocked")
    session.delete(lock)
    audit.record(session, user, "quarter.unlocked", "quarter", quarter.label, reason.strip(),
                 old={"locked": True}, new={"locked": False})
    session.flush()


def pending_for(session: Session, user: User) -> list[ActionUpdate]:
    """Updates awaiting this lead's approval (latest versions only)."""
    groups = led_group_ids(user)
    if not groups:
        return []
    latest = (select(ActionUpdate.action_id, ActionUpdate.quarter,
                     func.max(ActionUpdate.version).label("version"))
              .group_by(ActionUpdate.action_id, ActionUpdate.quarter).subquery())
    query = (select(ActionUpdate)
             .join(latest, (ActionUpdate.action_id == latest.c.action_id)
                   & (ActionUpdate.quarter == latest.c.quarter)
                   & (ActionUpdate.version == latest.c.version))
             .join(Action, Action.id == ActionUpdate.action_id)
             .where(ActionUpdate.review == "pending", Action.group_id.in_(groups))
             .order_by(ActionUpdate.created_at))
    return list(session.scalars(query))
