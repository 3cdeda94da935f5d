"""``tracker scheduler`` as a real process: it delivers, is killed with SIGKILL, is started
again, and every email in the outbox arrives exactly once; a second scheduler on the same
database refuses to start while one runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.notifications.conftest import SmtpServer
from tracker.db import make_engine
from tracker.models import OutboxMessage, utcnow

TRACKER = Path(sys.executable).parent / "tracker"
MESSAGES = 24


def _env(db: Path, smtp: SmtpServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({
        "TRACKER_ENV": "testing",
        "TRACKER_DATABASE_URL": f"sqlite:///{db}",
        "TRACKER_SMTP_HOST": smtp.host,
        "TRACKER_SMTP_PORT": str(smtp.port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_MAIL_FROM": "tracker@kingston.example.org",
        "TRACKER_SCHEDULER_DELIVER_SECONDS": "1",
        # a claim left by the killed scheduler is tried again after 3 s, not 2 minutes
        "TRACKER_DELIVERY_LEASE_SECONDS": "10",  # the shortest the tracker allows
    })
    return env


@pytest.fixture
def database(kingston_db_template: Path, tmp_path: Path) -> Path:
    db = tmp_path / "tracker.db"
    shutil.copy(kingston_db_template, db)
    return db


def _queue_test_messages(db: Path, keys: range = range(MESSAGES), prefix: str = "test") -> None:
    """An email for each of ``keys``, one becoming due every 0.4 s from a second from now."""
    engine = make_engine(f"sqlite:///{db}")
    now = utcnow()
    with Session(engine) as session:
        for order, n in enumerate(keys):
            session.add(OutboxMessage(
                key=f"{prefix}|{n}", kind="test", to_address=f"person{n}@example.org", cc=[],
                subject=f"Test message {n}", text_body=f"Message {n}.",
                html_body=f"<p>Message {n}.</p>", created_at=now,
                send_after=now + timedelta(seconds=1 + 0.4 * order), attempts=0))
        session.commit()
    engine.dispose()


def _start(db: Path, smtp: SmtpServer, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([str(TRACKER), "scheduler"], env=_env(db, smtp),
                                stdout=output, stderr=subprocess.STDOUT)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _keys(smtp: SmtpServer) -> list[str]:
    return [str(r.message["X-Tracker-Key"]) for r in smtp.received]


def _wait(condition: object, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; scheduler log:\n{log.read_text()}")


def _outbox(db: Path) -> list[OutboxMessage]:
    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine, expire_on_commit=False) as session:
            return list(session.scalars(select(OutboxMessage)))
    finally:
        engine.dispose()


def test_killed_and_restarted_scheduler_delivers_every_email_exactly_once(
        database: Path, smtp_server: SmtpServer, tmp_path: Path,
        processes: list[subprocess.Popen[bytes]]) -> None:
    log = tmp_path / "scheduler.log"
    first = _start(database, smtp_server, log)
    processes.append(first)
    test_keys = lambda: [k for k in _keys(smtp_server) if k.startswith("test|")]  # noqa: E731

    # a second scheduler on the same database refuses to start while the first runs
    _wait(lambda: "scheduler started" in log.read_text(), 60, "the scheduler to start", log)
    second = subprocess.run([str(TRACKER), "scheduler"], env=_env(database, smtp_server),
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "Another scheduler is already running on this database" in second.stderr

    # once its start-up catch-up runs are done, the test's emails are queued
    _wait(lambda: "duties:" in log.read_text(), 120, "the catch-up runs", log)
    _queue_test_messages(database)

    # some, not all, delivered: kill it between two deliveries (they run every second)
    _wait(lambda: len(test_keys()) >= 5, 60, "the first emails", log)

    def kill_between_deliveries() -> None:
        """Freeze the scheduler (SIGSTOP: it cannot move on while it is looked at), and kill
        it only if no email is between the SMTP server's acceptance and its ``sent_at`` (the
        window the delivery module documents as at-least-once), nor claimed and not yet
        sent, and some of the test's are still to come; else let it go on and look again."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            first.send_signal(signal.SIGSTOP)
            arrived = set(_keys(smtp_server))
            in_flight = [m for m in _outbox(database) if m.sent_at is None
                         and m.failed_at is None and (m.attempts > 0 or m.key in arrived)]
            if not in_flight and len(test_keys()) < MESSAGES:
                first.send_signal(signal.SIGKILL)
                return
            first.send_signal(signal.SIGCONT)
            time.sleep(0.05)
        pytest.fail(f"no moment between deliveries; scheduler log:\n{log.read_text()}")

    kill_between_deliveries()
    first.wait(timeout=10)
    delivered_before_kill = len(test_keys())
    assert 0 < delivered_before_kill < MESSAGES

    # started again (the lock died with the process): the rest arrive
    processes.append(_start(database, smtp_server, log))
    _wait(lambda: len(test_keys()) >= MESSAGES and all(
        m.sent_at is not None for m in _outbox(database)), 90, "every email", log)
    # a few more delivery runs: three emails queued after, due a second or more apart from
    # now, arrive; by then every earlier email has been looked at again, and none sent twice
    _queue_test_messages(database, range(3), prefix="after")
    _wait(lambda: sum(k.startswith("after|") for k in _keys(smtp_server)) >= 3 and all(
        m.sent_at is not None for m in _outbox(database)), 60, "the emails queued after", log)

    arrived = Counter(_keys(smtp_server))
    rows = _outbox(database)
    assert {m.key for m in rows} == set(arrived)  # none missing, nothing unknown
    assert [k for k, n in arrived.items() if n != 1] == []  # none twice
    assert len([m for m in rows if m.key.startswith("test|")]) == MESSAGES
    # the startup catch-up queued (and delivered) whatever the plan made due today, once
    assert all(m.sent_at is not None for m in rows)
