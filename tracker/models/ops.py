"""What running the tracker leaves behind for its health checks.

- :class:`SchedulerHeartbeat`: one row, written by ``tracker scheduler`` every minute (the
  ``heartbeat`` job of :mod:`notifications.jobs`), so that admins are told on every page
  when the scheduler has stopped (:mod:`tracker.services.health`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, utcnow


class SchedulerHeartbeat(Base):
    __tablename__ = "scheduler_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)  # 1: the one scheduler per database
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)  # this run of the scheduler
    host: Mapped[str] = mapped_column(String(255), default="")  # "host:pid", for IT

    def __repr__(self) -> str:
        return f"<SchedulerHeartbeat {self.beat_at:%Y-%m-%d %H:%M:%S} {self.host}>"
