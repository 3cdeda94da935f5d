"""The plan's structure: partnership, partners, groups, themes, priorities, commitments."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, ForeignKey, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plans.periods import day_month
from tracker.models.base import Base, PlanItem, utcnow
from tracker.models.people import group_members

if TYPE_CHECKING:
    from tracker.models.delivery import Action
    from tracker.models.kpi import KPI
    from tracker.models.people import User

commitment_themes = Table(
    "commitment_themes",
    Base.metadata,
    Column("commitment_id", ForeignKey("commitments.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True),
)


class Partnership(PlanItem, Base):
    """The partnership whose plan this database holds (one per database)."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    area: Mapped[str | None] = mapped_column(String(300))
    vision: Mapped[str | None] = mapped_column(Text)
    plan_title: Mapped[str] = mapped_column(String(300))
    plan_starts: Mapped[date]
    plan_ends: Mapped[date]
    year_starts: Mapped[str] = mapped_column(String(5), default="04-01")
    aims: Mapped[list[str]] = mapped_column(JSON, default=list)

    def __repr__(self) -> str:
        return f"<Partnership {self.ref}>"


class PlanLoad(Base):
    """One load of a plan file: its text, who loaded it, and what it changed."""

    __tablename__ = "plan_loads"

    id: Mapped[int] = mapped_column(primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    loaded_by: Mapped[str | None] = mapped_column(String(320))
    filename: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the plan as parsed, frozen (plans.stored) by the code named by the stamp: a process
    # reads it in a fraction of the time parsing the text takes; never loaded unless asked
    parsed: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True, default=None)
    parsed_stamp: Mapped[str | None] = mapped_column(String(64), default=None)

    def __repr__(self) -> str:
        return f"<PlanLoad {self.id} {self.filename} {self.sha256[:8]}>"


class Authority(PlanItem, Base):
    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    is_responsible: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Authority {self.ref}>"


class Group(PlanItem, Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    reports_to_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reports_to: Mapped[Group | None] = relationship(remote_side="Group.id")
    lead: Mapped[User | None] = relationship()
    members: Mapped[list[User]] = relationship(
        secondary=group_members, back_populates="groups", order_by="User.name"
    )

    def __repr__(self) -> str:
        return f"<Group {self.ref} {self.kind}>"


class Theme(PlanItem, Base):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    points: Mapped[list[str]] = mapped_column(JSON, default=list)

    commitments: Mapped[list[Commitment]] = relationship(
        secondary=commitment_themes, back_populates="themes", order_by="Commitment.position"
    )

    def __repr__(self) -> str:
        return f"<Theme {self.ref}>"


class NamedText(PlanItem):
    """A plan item that is a name and a text: a principle or a prevention level."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.ref}>"


class Principle(NamedText, Base):
    """One of the principles of partnership working (e.g. the 5Cs)."""

    __tablename__ = "principles"


class PreventionLevel(NamedText, Base):
    """A public health prevention level: primary, secondary or tertiary."""

    __tablename__ = "prevention_levels"


class Duty(PlanItem, Base):
    """A statutory duty; with a due day it recurs every year and is chased like an action."""

    __tablename__ = "duties"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    text: Mapped[str] = mapped_column(Text)
    every: Mapped[str | None] = mapped_column(String(20))
    due: Mapped[str | None] = mapped_column(String(5))  # MM-DD

    @property
    def due_label(self) -> str:
        """``31 March`` for a due day of ``03-31``."""
        if not self.due:
            return ""
        month, day = (int(part) for part in self.due.split("-"))
        return day_month(month, day)

    def __repr__(self) -> str:
        return f"<Duty {self.ref}>"


class Priority(PlanItem, Base):
    __tablename__ = "priorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(Text)
    short_title: Mapped[str | None] = mapped_column(String(200))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))

    group: Mapped[Group | None] = relationship()
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="priority", order_by="Commitment.position"
    )

    @property
    def display_title(self) -> str:
        return self.short_title or self.title

    def __repr__(self) -> str:
        return f"<Priority {self.ref}>"


class Commitment(PlanItem, Base):
    """A lettered commitment (``1.a``) or a part of one (``2.c.ii``, with a parent)."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), unique=True)
    local_id: Mapped[str] = mapped_column(String(100))
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    text: Mapped[str] = mapped_column(Text)
    prevention_id: Mapped[int | None] = mapped_column(ForeignKey("prevention_levels.id"))

    priority: Mapped[Priority] = relationship(back_populates="commitments")
    parent: Mapped[Commitment | None] = relationship(
        remote_side="Commitment.id", back_populates="parts"
    )
    parts: Mapped[list[Commitment]] = relationship(
        back_populates="parent", order_by="Commitment.position"
    )
    prevention: Mapped[PreventionLevel | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(
        secondary=commitment_themes, back_populates="commitments", order_by="Theme.position"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="commitment", order_by="Action.position"
    )
    kpis: Mapped[list[KPI]] = relationship(
        secondary="kpi_commitments", back_populates="commitments", order_by="KPI.position"
    )

    @property
    def is_part(self) -> bool:
        return self.parent_id is not None

    def __repr__(self) -> str:
        return f"<Commitment {self.ref}>"
