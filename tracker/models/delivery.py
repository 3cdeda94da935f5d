"""The delivery plans: actions, their milestones and the quarterly updates on them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, PlanItem, utcnow

if TYPE_CHECKING:
    from tracker.models.kpi import KPI
    from tracker.models.people import User
    from tracker.models.plan import Authority, Commitment, Group, PreventionLevel, Theme

action_themes = Table(
    "action_themes",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True),
)

action_kpis = Table(
    "action_kpis",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("kpi_id", ForeignKey("kpis.id", ondelete="CASCADE"), primary_key=True),
)


class Action(PlanItem, Base):
    """An action of the annual delivery plans; the same ref in a later year continues it."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    starts: Mapped[date | None]
    due: Mapped[date]
    prevention_id: Mapped[int | None] = mapped_column(ForeignKey("prevention_levels.id"))
    years: Mapped[list[str]] = mapped_column(JSON, default=list)
    # moved on each time the action's facts change and its statuses are recomputed for it
    # (tracker.services.statuses)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")

    commitment: Mapped[Commitment] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship()
    lead: Mapped[Authority] = relationship()
    group: Mapped[Group | None] = relationship()
    prevention: Mapped[PreventionLevel | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(secondary=action_themes, order_by="Theme.position")
    kpis: Mapped[list[KPI]] = relationship(
        secondary=action_kpis, back_populates="actions", order_by="KPI.position"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="action", order_by="Milestone.position"
    )
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", order_by="(ActionUpdate.quarter, ActionUpdate.version)"
    )

    def __repr__(self) -> str:
        return f"<Action {self.ref}>"


class Milestone(PlanItem, Base):
    """A dated step of an action; its ref is ``ACTION#KEY`` (key: its id, else its title)."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(600), unique=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    due: Mapped[date]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    action: Mapped[Action] = relationship(back_populates="milestones")

    def __repr__(self) -> str:
        return f"<Milestone {self.ref}>"


class ActionUpdate(Base):
    """One version of an owner's quarterly update. Append-only: an edit is a new version."""

    __tablename__ = "action_updates"
    __table_args__ = (
        UniqueConstraint("action_id", "quarter", "version"),
        # which actions have an update that counts for a quarter, from the index alone
        Index("ix_action_updates_quarter_counting", "quarter", "review", "version",
              "action_id", "is_concern"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(20))  # label, e.g. "2025/26 Q1"
    version: Mapped[int] = mapped_column(default=1)
    rag: Mapped[str] = mapped_column(String(10))
    percent_complete: Mapped[int] = mapped_column(default=0)
    narrative: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    is_concern: Mapped[bool] = mapped_column(default=False)
    concern_reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # approval, when the plan's rules ask for it: pending, approved or returned;
    # "not_needed" when the update counts as soon as it is submitted
    review: Mapped[str] = mapped_column(String(20), default="not_needed")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    review_comment: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[Action] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def counts(self) -> bool:
        """Whether this version counts towards statuses and board pages."""
        return self.review in ("not_needed", "approved")

    def __repr__(self) -> str:
        return f"<ActionUpdate {self.action_id} {self.quarter} v{self.version}>"
