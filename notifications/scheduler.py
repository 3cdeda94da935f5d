"""``tracker scheduler``: one process that runs the jobs of ``notifications.jobs`` on time.

- APScheduler 3's ``BlockingScheduler`` in Europe/London time; every trigger is built with
  ``timezone=`` (a trigger without one uses the machine's zone).
- One worker thread: jobs run one after another, each inside ``app.app_context()`` with its
  own session; an exception is logged and the scheduler carries on.
- Catching up: when it starts, every job runs once (``catch_up``). Jobs work out what is due
  from the database and today, so this sends what is still due after the process was down
  and nothing twice. ``coalesce`` and ``misfire_grace_time`` make a run missed while the
  process was alive but stalled (a suspended machine) happen once, late.
- One runner: a second scheduler on the same database refuses to start. On SQLite the
  guard is an ``fcntl.flock`` on a lock file beside the database file (the lock belongs to
  the database, not to the checkout); on PostgreSQL a ``pg_try_advisory_lock`` on a
  connection held for the life of the process, which also works across hosts. The operating
  system or the database releases either when the process dies, even by ``kill -9``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from notifications.job_support import LONDON
from notifications.jobs import JOBS, TIMEZONE, Job, deliver_seconds, find
from tracker import clock
from tracker.config import PROJECT_ROOT
from tracker.db import advisory_lock, get_engine

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x7472_6163  # "trac": the scheduler's PostgreSQL advisory lock
MISFIRE_GRACE_SECONDS = 6 * 3600


class AlreadyRunning(RuntimeError):
    """Another scheduler holds the single-runner lock for this database."""


class RunnerLock:
    """The single-runner guard; ``acquire`` raises ``AlreadyRunning`` if it is taken."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._file: Any = None
        self._connection: Any = None

    def acquire(self) -> None:
        engine = get_engine(self.app)
        backend = engine.url.get_backend_name()
        if backend == "sqlite":
            self._acquire_file(lock_path(engine.url.database))
        elif backend == "postgresql":
            self._acquire_advisory(engine)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            logger.warning("no single-runner guard for %s", backend)

    def _acquire_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise AlreadyRunning(
                f"Another scheduler is already running on this database "
                f"({'process ' + holder if holder else 'lock ' + str(path)}): only one may "
                "run at a time. Stop it first.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def _acquire_advisory(self, engine: Any) -> None:
        connection = advisory_lock(engine, ADVISORY_LOCK_KEY)
        if connection is None:
            raise AlreadyRunning("Another scheduler is already running on this database "
                                 "(it holds the PostgreSQL advisory lock): only one may run "
                                 "at a time. Stop it first.")
        self._connection = connection

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def lock_path(database: str | None) -> Path:
    if not database or database == ":memory:":
        return PROJECT_ROOT / "instance" / "scheduler.lock"
    return Path(database + ".scheduler.lock")


def run_job(app: Flask, name: str) -> None:
    """Run one job as on today in London; log its result, never raise (the scheduler lives)."""
    job = find(name)
    assert job is not None
    try:
        result = job.function(app, clock.today(), False)
    except Exception:
        logger.exception("job %s failed; it will run again at its next time", name)
        return
    quiet = name in ("deliver", "heartbeat")  # every minute: logged when they send
    level = logging.INFO if (result.queued or not quiet) else logging.DEBUG
    logger.log(level, "%s", result.summary())
    for line in result.lines:
        logger.log(level, "%s", line)


def trigger_for(job: Job) -> Any:
    if job.cron is not None:
        return CronTrigger(timezone=TIMEZONE, **job.cron)
    seconds = deliver_seconds() if job.name == "deliver" else job.interval_seconds
    return IntervalTrigger(seconds=seconds or 60, timezone=TIMEZONE)


def next_runs(now: datetime | None = None) -> list[tuple[Job, datetime | None]]:
    """Each job and when it next runs (London time), as the scheduler would schedule it."""
    now = now or datetime.now(LONDON)
    result: list[tuple[Job, datetime | None]] = []
    for job in JOBS:
        trigger = trigger_for(job)
        if job.cron is None:
            result.append((job, now + timedelta(seconds=trigger.interval.total_seconds())))
        else:
            result.append((job, trigger.get_next_fire_time(None, now)))
    return result


def build(app: Flask) -> Any:
    scheduler = BlockingScheduler(
        timezone=TIMEZONE,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    now = datetime.now(LONDON)
    for job in JOBS:
        scheduler.add_job(run_job, trigger_for(job), args=(app, job.name), id=job.name,
                          name=job.description, replace_existing=True)
        if job.catch_up:
            # once now as well: catches up on whatever is still due after a stop
            scheduler.add_job(run_job, "date", run_date=now, args=(app, job.name),
                              id=f"{job.name}-catch-up", name=f"{job.name} (catch-up)",
                              misfire_grace_time=None)
    return scheduler


def serve(app: Flask) -> None:
    """Take the single-runner lock, then run the jobs until stopped (SIGINT or SIGTERM)."""
    lock = RunnerLock(app)
    lock.acquire()
    scheduler = build(app)

    def stop(signum: int, _frame: object) -> None:
        logger.info("signal %d: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    try:
        logger.info("scheduler started (pid %d): %s", os.getpid(),
                    ", ".join(f"{job.name} {job.schedule}" for job in JOBS))
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()
        logger.info("scheduler stopped")
