"""Change requests: a revised due date (an action's or a milestone's) or a revised KPI
target, asked for with a reason and approved or declined as the plan's rules say.

The plan file's date or target stays where plan loads put it (``actions.due``,
``milestones.due``, ``kpis.targets``, ``kpis.target``): that is the baseline. An approved
request is kept here, apart from it, so that a plan load never loses it
(:mod:`tracker.services.changes` says which revision is in force).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, utcnow

if TYPE_CHECKING:
    from tracker.models.delivery import Action, Milestone
    from tracker.models.kpi import KPI
    from tracker.models.people import User

ACTION_DUE, MILESTONE_DUE, KPI_TARGET = "action_due", "milestone_due", "kpi_target"
OPEN, APPROVED, DECLINED = "open", "approved", "declined"


class ChangeRequest(Base):
    """One request to change a due date or a target, and its decision.

    ``action_id`` is set for an action's and a milestone's due date (the milestone's
    action), ``kpi_id`` for a KPI's target, whose ``period`` is the year it is for (``""``:
    the target for the whole plan). ``baseline_*`` is the plan file's date or target when
    the request was made (and again when it was approved), ``from_*`` the one in force then,
    ``requested_*`` the one asked for. ``open_key`` names the item while the request is
    open, so that an item has one open request at a time; it is cleared by the decision.
    """

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # action_due, milestone_due or kpi_target
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"), index=True)
    kpi_id: Mapped[int | None] = mapped_column(ForeignKey("kpis.id"), index=True)
    period: Mapped[str] = mapped_column(String(20), default="")
    baseline_date: Mapped[date | None] = mapped_column(default=None)
    from_date: Mapped[date | None] = mapped_column(default=None)
    requested_date: Mapped[date | None] = mapped_column(default=None)
    baseline_value: Mapped[float | None] = mapped_column(default=None)
    from_value: Mapped[float | None] = mapped_column(default=None)
    requested_value: Mapped[float | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default=OPEN, index=True)
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    # whose decision it is: group_lead, board (recorded by an admin) or admin
    decided_as: Mapped[str] = mapped_column(String(20), default="")
    comment: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[Action | None] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    kpi: Mapped[KPI | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_open(self) -> bool:
        return self.state == OPEN

    @property
    def is_date(self) -> bool:
        return self.kind in (ACTION_DUE, MILESTONE_DUE)

    def __repr__(self) -> str:
        item = self.milestone_id or self.action_id or self.kpi_id
        return f"<ChangeRequest {self.id} {self.kind} {item} {self.state}>"
