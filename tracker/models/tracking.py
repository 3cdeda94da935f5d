"""What the rules derive and what admins decide about quarters: statuses and locks."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, utcnow

if TYPE_CHECKING:
    from tracker.models.delivery import Action
    from tracker.models.people import User


class ActionStatus(Base):
    """An action's RAG status for a quarter, with the rule that produced it and why."""

    __tablename__ = "action_statuses"
    __table_args__ = (
        UniqueConstraint("action_id", "quarter"),
        # a quarter's statuses read from the index alone, without the table's rows: what the
        # board's pages read of the previous quarter (its reasons are not needed)
        Index("ix_action_statuses_quarter_figures", "quarter", "action_id", "colour", "rule",
              "has_update"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(20))
    colour: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    has_update: Mapped[bool] = mapped_column(default=False)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[Action] = relationship()

    def __repr__(self) -> str:
        return f"<ActionStatus {self.action_id} {self.quarter} {self.colour}>"


class RollupStatus(Base):
    """A commitment's, priority's or theme's status for a quarter, rolled up from actions."""

    __tablename__ = "rollup_statuses"
    __table_args__ = (UniqueConstraint("item_type", "item_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(20))  # commitment, priority or theme
    item_id: Mapped[int]
    quarter: Mapped[str] = mapped_column(String(20), index=True)
    colour: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<RollupStatus {self.item_type} {self.item_id} {self.quarter} {self.colour}>"


class StatusRun(Base):
    """A recompute of the whole plan's statuses, as stored: a recompute still working the
    statuses out elsewhere sees that another was stored since it read them."""

    __tablename__ = "status_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(320), default="")
    today: Mapped[date]
    actions: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<StatusRun {self.id} {self.today}>"


class QuarterLock(Base):
    """A quarter an admin locked after the board met: its updates are read-only."""

    __tablename__ = "quarter_locks"

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(20), unique=True)
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    locked_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<QuarterLock {self.quarter}>"


class HeldSubmission(Base):
    """Form text kept safe when a session expired mid-typing, restored after signing in."""

    __tablename__ = "held_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    path: Mapped[str] = mapped_column(String(500))
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"<HeldSubmission {self.id} {self.path}>"


class Escalation(Base):
    """An area of concern raised to the board or a group lead by an escalation rule.

    One row per episode: raised in the first quarter the rule matched, kept open (with the
    latest quarter it still matched) until someone resolves it. If the rule stops matching
    and later matches again, that is a new episode and a new escalation.
    """

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("action_id", "rule", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    rule: Mapped[str] = mapped_column(String(200))
    to: Mapped[list[str]] = mapped_column(JSON, default=list)  # board, group_lead, ...
    quarter: Mapped[str] = mapped_column(String(20), index=True)  # raised in
    last_quarter: Mapped[str] = mapped_column(String(20))  # the latest quarter it matched
    reason: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")
    # when the escalation digest announcing it was queued (notifications/escalation_digest.py)
    notified_at: Mapped[datetime | None] = mapped_column(default=None)

    action: Mapped[Action] = relationship()
    resolved_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def __repr__(self) -> str:
        return f"<Escalation {self.action_id} {self.rule!r} {self.quarter}>"
