"""Good-news stories (the plan's commitment 4.a): written by staff, shown on the public
progress page only once an admin approves them, and never with the submitter's name."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, utcnow

if TYPE_CHECKING:
    from tracker.models.people import User

SUBMITTED = "submitted"
APPROVED = "approved"
WITHDRAWN = "withdrawn"
STORY_STATUSES = (SUBMITTED, APPROVED, WITHDRAWN)
TITLE_MAX = 120
BODY_MAX = 2000


class Story(Base):
    """One good-news story. Its body is plain text; ``commitment_ref`` optionally names the
    commitment it tells of (``4.a``)."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)
    commitment_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[str] = mapped_column(String(20), default=SUBMITTED, index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)

    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<Story {self.id} {self.status} {self.title!r}>"
