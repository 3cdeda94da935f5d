"""What people write about a quarter above the actions: the community safety team's summary
of the quarter, and each group lead's narrative for their priority; and the board packs'
layouts (the briefing book: sections, priorities, KPIs and a cover note)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, utcnow

if TYPE_CHECKING:
    from tracker.models.people import User

SUMMARY = "summary"  # the scope of the quarter's summary; a priority's is its ref


class Commentary(Base):
    """One version of a quarter's summary (scope ``summary``) or of a priority's narrative
    (scope: the priority's ref). Versions are never changed: a new one is added."""

    __tablename__ = "commentaries"
    __table_args__ = (UniqueConstraint("quarter", "scope", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(20), index=True)
    scope: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Commentary {self.quarter} {self.scope} v{self.version}>"


class PackLayout(Base):
    """A named layout of the board pack: which sections, priorities and KPIs it holds, and a
    cover note. One may be the board's: built and emailed to the board when a quarter is
    locked."""

    __tablename__ = "pack_layouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    priorities: Mapped[list[str]] = mapped_column(JSON, default=list)  # refs; empty: all
    kpis: Mapped[list[str]] = mapped_column(JSON, default=list)  # refs; empty: all
    cover_note: Mapped[str] = mapped_column(Text, default="")
    is_for_board: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    updated_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PackLayout {self.id} {self.name!r}>"
