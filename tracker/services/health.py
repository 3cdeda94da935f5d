"""Is the tracker running as it should: the database reachable and up to date (``/readyz``),
and the scheduler alive (its heartbeat, shown to admins when it stops).

The scheduler's ``heartbeat`` job writes :class:`~tracker.models.SchedulerHeartbeat` every
minute. A heartbeat older than :data:`STALE_AFTER` means reminders, escalations and emails
are not going out. No heartbeat at all is a scheduler that has never run on this database:
that is only a warning where jobs are expected to run (``TRACKER_ENV=production``), so a
development database or a test's, with no scheduler, shows none.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.models import OutboxMessage, SchedulerHeartbeat
from tracker.services.backup import head_revision

STALE_AFTER = timedelta(minutes=5)
HEARTBEAT_ROW = 1


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str  # for a load balancer's log: no secrets, no stack trace
    revision: str | None = None
    head: str | None = None


def readiness(engine: Engine) -> Readiness:
    """Whether the database answers ``SELECT 1`` and is at this code's migration head."""
    head = head_revision()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")).scalar()
            except SQLAlchemyError:
                return Readiness(False, "the database has no migrations: run 'tracker db "
                                        "upgrade'", None, head)
    except SQLAlchemyError as error:
        return Readiness(False, f"the database cannot be reached ({type(error).__name__})",
                         None, head)
    if revision != head:
        return Readiness(False, f"the database is at migration {revision}, not {head}: run "
                                "'tracker db upgrade'", revision, head)
    return Readiness(True, "ok", revision, head)


def record_heartbeat(session: Session, now: datetime, *, started_at: datetime) -> None:
    """The scheduler is alive at ``now``. Flushes only."""
    row = session.get(SchedulerHeartbeat, HEARTBEAT_ROW)
    if row is None:
        row = SchedulerHeartbeat(id=HEARTBEAT_ROW)
        session.add(row)
    row.beat_at = now
    row.started_at = started_at
    row.host = f"{socket.gethostname()}:{os.getpid()}"[:255]
    session.flush()


def last_heartbeat(session: Session) -> datetime | None:
    beat: datetime | None = session.scalar(
        select(SchedulerHeartbeat.beat_at).where(SchedulerHeartbeat.id == HEARTBEAT_ROW))
    return beat


def scheduler_stopped(beat_at: datetime | None, now: datetime, *, expected: bool
                      ) -> bool:
    """Whether to warn that the scheduler has stopped: its heartbeat is older than
    :data:`STALE_AFTER`, or it never ran where jobs are ``expected``."""
    if beat_at is None:
        return expected
    return now - beat_at > STALE_AFTER


def last_email_sent(session: Session) -> datetime | None:
    sent: datetime | None = session.scalar(select(func.max(OutboxMessage.sent_at)))
    return sent
