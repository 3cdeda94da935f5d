"""Board packs built in the background: a request queues a build, a builder process makes
it, and every web server serves the file from here (nothing lives on one host's disk)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tracker.models.base import Base, utcnow

if TYPE_CHECKING:
    from tracker.models.people import User

QUEUED, BUILDING, READY, FAILED = "queued", "building", "ready", "failed"
PENDING = (QUEUED, BUILDING)


class PackBuild(Base):
    """One board pack: a format, a quarter and filters, built from the data as it was when
    it was asked for (``key`` names all of it, so the same pack is built once)."""

    __tablename__ = "pack_builds"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(10))
    quarter: Mapped[str] = mapped_column(String(20), index=True)
    filters: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # the briefing book's layout, as it was when asked for (empty: the whole pack); see
    # tracker.services.layouts.Choice
    layout: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    today: Mapped[date]
    state: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    step: Mapped[str] = mapped_column(String(200), default="")
    progress: Mapped[int] = mapped_column(default=0)  # percent
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")  # asked for, or built ahead
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    filename: Mapped[str] = mapped_column(String(300), default="")
    mimetype: Mapped[str] = mapped_column(String(120), default="")
    summary: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(default=0)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, default=None))
    error: Mapped[str] = mapped_column(Text, default="")

    requested_by: Mapped[User | None] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING

    def __repr__(self) -> str:
        return f"<PackBuild {self.id} {self.format} {self.quarter} {self.state}>"


class PackRequest(Base):
    """Who asked for a build (several people may wait for the same one)."""

    __tablename__ = "pack_requests"
    __table_args__ = (UniqueConstraint("build_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("pack_builds.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PackRequest {self.build_id} {self.user_id}>"



