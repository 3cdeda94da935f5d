"""The community safety team's overview: what needs doing, at a glance (``/admin``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import Plan, Quarter
from tracker.models import (
    AccountToken,
    ActionUpdate,
    ChangeRequest,
    Commentary,
    Escalation,
    OutboxMessage,
    PackBuild,
    User,
    utcnow,
)
from tracker.models.changes import OPEN
from tracker.models.commentary import SUMMARY
from tracker.services.calendar import locked_quarters, plan_quarters, reporting

LISTED = 8


@dataclass
class Overview:
    open_quarter: Quarter | None
    unlocked: list[Quarter] = field(default_factory=list)
    """Quarters before the one being reported on that are still open to changes."""
    no_password: list[User] = field(default_factory=list)
    """Active accounts that have never set a password (the first few)."""
    no_password_total: int = 0
    invitations_lapsed: int = 0
    """Of those, how many have no invitation link that still works."""
    failed_emails: int = 0
    queued_emails: int = 0
    oldest_queued: datetime | None = None
    board_escalations: int = 0
    failed_packs: int = 0
    awaiting_approval: int = 0
    """Actions whose update for the open quarter waits for its group lead's approval."""
    open_changes: int = 0
    """Change requests waiting for a decision."""
    summary_written: bool = True
    """Whether the open quarter's summary for the board is written."""

    @property
    def is_clear(self) -> bool:
        return not (self.unlocked or self.no_password_total or self.failed_emails
                    or self.board_escalations or self.failed_packs or self.open_changes
                    or not self.summary_written)


def overview(session: Session, plan: Plan | None, today: date) -> Overview:
    now = utcnow()
    found = Overview(open_quarter=reporting(plan, today).quarter if plan else None)
    if plan is not None and found.open_quarter is not None:
        locked = locked_quarters(session)
        found.unlocked = [q for q in plan_quarters(plan, today)
                          if q < found.open_quarter and q.label not in locked]
    waiting = (select(User).where(User.is_active.is_(True), User.password_hash.is_(None))
               .order_by(User.name))
    found.no_password_total = session.scalar(
        select(func.count()).select_from(waiting.subquery())) or 0
    found.no_password = list(session.scalars(waiting.limit(LISTED)))
    working = (select(AccountToken.user_id).where(AccountToken.used_at.is_(None),
                                                  AccountToken.expires_at > now))
    found.invitations_lapsed = session.scalar(
        select(func.count()).select_from(User).where(
            User.is_active.is_(True), User.password_hash.is_(None),
            User.id.not_in(working))) or 0
    found.failed_emails = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_not(None))) or 0
    queued = select(func.count(), func.min(OutboxMessage.created_at)).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    found.queued_emails, found.oldest_queued = session.execute(queued).one()
    found.board_escalations = sum(
        1 for to in session.scalars(select(Escalation.to).where(
            Escalation.resolved_at.is_(None))) if "board" in (to or []))
    found.failed_packs = session.scalar(select(func.count()).select_from(PackBuild).where(
        PackBuild.state == "failed")) or 0
    found.open_changes = session.scalar(select(func.count()).select_from(ChangeRequest).where(
        ChangeRequest.state == OPEN)) or 0
    if found.open_quarter is not None:
        label = found.open_quarter.label
        found.awaiting_approval = session.scalar(
            select(func.count(func.distinct(ActionUpdate.action_id))).where(
                ActionUpdate.quarter == label, ActionUpdate.review == "pending")) or 0
        found.summary_written = session.scalar(select(Commentary.id).where(
            Commentary.quarter == label, Commentary.scope == SUMMARY).limit(1)) is not None
    return found
