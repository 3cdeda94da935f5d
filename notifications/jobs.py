"""The scheduled jobs, declared as data: name, what it does, when it runs, the function.

Every function takes ``(app, today, dry_run)`` and returns a ``JobResult``; it works out what
is due from the database and ``today``, so running it twice, or late, is harmless. Times are
Europe/London wall-clock times (``tracker scheduler`` builds every trigger in that zone).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from notifications import digests, duties, escalation_digest, reminders, statuses
from notifications.delivery import CLAIM_LEASE, deliver_pending, smtp_settings
from notifications.job_support import LONDON, JobFunction, JobResult, job_session
from tracker.db import SQLITE_BUSY_TIMEOUT_MS, get_engine
from tracker.models import utcnow
from tracker.services import health, outbox, security_log
from tracker.services.backup import BackupError
from tracker.services.backup import nightly as nightly_backup

TIMEZONE = "Europe/London"
logger = logging.getLogger(__name__)
DEFAULT_BACKUP_KEEP = 7


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    schedule: str  # in words, for `tracker jobs list` and the README
    cron: dict[str, Any] | None  # CronTrigger fields
    interval_seconds: int | None
    function: JobFunction
    catch_up: bool = True  # run once when the scheduler starts


def deliver(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    """Send the outbox's due emails over SMTP (``TRACKER_SMTP_*``), or leave them queued."""
    result = JobResult("deliver", dry_run=dry_run, verb="send")
    settings = smtp_settings(app.config)
    with job_session(app, dry_run=True) as session:  # delivery commits per message itself
        now = utcnow()
        if dry_run or settings is None:
            waiting = outbox.pending_count(session, now)
            if settings is None:
                result.say(f"No SMTP settings (TRACKER_SMTP_HOST): {waiting} email"
                           f"{'s' if waiting != 1 else ''} stay in the outbox.")
            else:
                result.say(f"Would send {waiting} email{'s' if waiting != 1 else ''} to "
                           f"{settings.host}:{settings.port}.")
            return result
        delivered = deliver_pending(session, now, settings, lease=claim_lease())
        result.queued = delivered.sent
        result.say(f"Delivery: {delivered.summary()}")
        for error in delivered.errors:
            result.say(f"  {error}")
    return result


SHORTEST_LEASE = timedelta(milliseconds=2 * SQLITE_BUSY_TIMEOUT_MS)
"""A claim outlasts any wait for the database: a run that has handed an email over may
wait up to the busy timeout to record it as sent, and a lease that ran out meanwhile would
let another run send it again."""


def claim_lease() -> timedelta:
    """How long a claimed email is held before another run may try it (a delivery killed
    while sending it): two minutes; ``TRACKER_DELIVERY_LEASE_SECONDS`` changes it (the test
    that kills the scheduler uses a few seconds), never below :data:`SHORTEST_LEASE`."""
    raw = os.environ.get("TRACKER_DELIVERY_LEASE_SECONDS", "").strip()
    asked = timedelta(seconds=int(raw)) if raw.isdigit() else CLAIM_LEASE
    return max(asked, SHORTEST_LEASE)


def deliver_seconds() -> int:
    """Every minute; ``TRACKER_SCHEDULER_DELIVER_SECONDS`` changes it (the tests use 1)."""
    raw = os.environ.get("TRACKER_SCHEDULER_DELIVER_SECONDS", "").strip()
    return max(1, int(raw)) if raw.isdigit() else 60


def purge(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    """Delete what is kept no longer: old security events, sign-in attempts, ended sessions
    and held form text (``tracker.services.security_log``)."""
    result = JobResult("purge", dry_run=dry_run)
    with job_session(app, dry_run=dry_run) as session:
        deleted = security_log.purge(session, utcnow())
    verb = "would delete" if dry_run else "deleted"
    result.headline = f"{verb} " + ", ".join(f"{n} {what}" for what, n in deleted.items()) + "."
    return result


def backup_settings() -> tuple[Path | None, int]:
    """Where the nightly backups go (``TRACKER_BACKUP_DIR``; unset: no backups) and how
    many the job keeps (``TRACKER_BACKUP_KEEP``, 7 unless set)."""
    folder = os.environ.get("TRACKER_BACKUP_DIR", "").strip()
    raw = os.environ.get("TRACKER_BACKUP_KEEP", "").strip()
    if raw and not (raw.isdigit() and int(raw) >= 1):
        raise BackupError(f"TRACKER_BACKUP_KEEP must be a whole number of copies, 1 or "
                          f"more (it is {raw!r}).")
    return (Path(folder) if folder else None), (int(raw) if raw else DEFAULT_BACKUP_KEEP)


def backup(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    """Today's copy of the database in ``TRACKER_BACKUP_DIR`` (if there is none from today
    yet), keeping the newest ``TRACKER_BACKUP_KEEP`` of the job's own files."""
    result = JobResult("backup", dry_run=dry_run)
    try:
        folder, keep = backup_settings()
    except BackupError as error:
        logger.error("the nightly backup is misconfigured: %s", error)
        result.headline = f"FAILED: {error}"
        return result
    if folder is None:
        result.headline = "off (TRACKER_BACKUP_DIR is not set)."
        return result
    if dry_run:
        result.headline = f"would back up to {folder}, keeping the newest {keep}."
        return result
    now = datetime.combine(today, datetime.now(LONDON).time())  # the file's name: London time
    try:
        rotation = nightly_backup(get_engine(app), folder, keep, now)
    except BackupError as error:
        logger.error("the nightly backup failed: %s", error)
        result.headline = f"FAILED: {error}"
        return result
    made = f"made {rotation.made}" if rotation.made else "today's copy was already made"
    gone = len(rotation.deleted)
    result.headline = (f"{made}; {len(rotation.kept)} kept, {gone} older deleted.")
    return result


_STARTED_AT: list[datetime] = []  # when this process first beat: the scheduler's start


def heartbeat(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    """The scheduler is alive: one row's time written, so admins are warned on every page
    when it stops (:mod:`tracker.services.health`)."""
    result = JobResult("heartbeat", dry_run=dry_run)
    now = utcnow()
    if not _STARTED_AT:
        _STARTED_AT.append(now)
    with job_session(app, dry_run=dry_run) as session:
        health.record_heartbeat(session, now, started_at=_STARTED_AT[0])
    result.headline = f"{'would record' if dry_run else 'recorded'} the scheduler alive at " \
                      f"{now.astimezone(LONDON):%H:%M:%S}."
    return result


JOBS: tuple[Job, ...] = (
    Job("statuses", "every status worked out as on today (a quarter opening, a date passing)",
        "daily at 00:05", {"hour": 0, "minute": 5}, None, statuses.run),
    Job("reminders", "update reminders, by the plan's rules.reminders ladder",
        "daily at 07:00", {"hour": 7, "minute": 0}, None, reminders.run),
    Job("escalations", "escalation scan: new escalations, one digest per recipient",
        "daily at 07:15", {"hour": 7, "minute": 15}, None, escalation_digest.run),
    Job("digests", "weekly digest for each group lead: statuses and missing updates",
        "Mondays at 08:00", {"day_of_week": "mon", "hour": 8, "minute": 0}, None,
        digests.run),
    Job("duties", "statutory-duty reminders to the admins, 30 and 7 days before",
        "daily at 07:30", {"hour": 7, "minute": 30}, None, duties.run),
    Job("deliver", "outbox delivery over SMTP", "every minute", None, 60, deliver),
    Job("purge", "old security events (after a year), sign-in attempts, ended sessions and "
        "held form text (after 30 days) deleted", "daily at 03:30",
        {"hour": 3, "minute": 30}, None, purge),
    Job("backup", "a copy of the database in TRACKER_BACKUP_DIR (off when unset), the newest "
        "TRACKER_BACKUP_KEEP (7) kept", "daily at 02:30", {"hour": 2, "minute": 30}, None,
        backup),
    Job("heartbeat", "the scheduler's heartbeat: admins are warned on every page when it is "
        "over five minutes old", "every minute", None, 60, heartbeat),
)


def find(name: str) -> Job | None:
    return next((job for job in JOBS if job.name == name), None)
