"""``tracker jobs list`` and ``tracker jobs run NAME [--today] [--dry-run]``."""

from __future__ import annotations

from flask import Flask

from tests.conftest import count, db_fingerprint
from tracker.models import OutboxMessage


def test_jobs_list_shows_each_job_and_its_next_run(kingston_app: Flask) -> None:
    result = kingston_app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for name, schedule in [("reminders", "daily at 07:00"), ("escalations", "daily at 07:15"),
                           ("digests", "Mondays at 08:00"), ("duties", "daily at 07:30"),
                           ("deliver", "every minute")]:
        line = next(li for li in result.output.splitlines() if li.startswith(name))
        assert schedule in line and "next: " in line


def test_dry_run_prints_what_it_would_queue_and_writes_nothing(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    before = db_fingerprint(kingston_app)
    result = runner.invoke(args=["jobs", "run", "reminders", "--today", "2026-10-16",
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "step +1" in result.output
    assert "reminders: would queue" in result.output
    assert "Overdue: your update for 2026/27 Q2" in result.output
    assert db_fingerprint(kingston_app) == before


def test_run_commits_once_and_a_second_run_queues_nothing(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    first = runner.invoke(args=["jobs", "run", "reminders", "--today", "2026-10-16"])
    assert first.exit_code == 0, first.output
    queued = count(kingston_app, OutboxMessage)
    assert queued > 0 and f"reminders: queued {queued} emails." in first.output
    second = runner.invoke(args=["jobs", "run", "reminders", "--today", "2026-10-16"])
    assert f"queued 0 emails, {queued} already queued" in second.output
    assert count(kingston_app, OutboxMessage) == queued


def test_deliver_without_smtp_leaves_the_emails_in_the_outbox(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    runner.invoke(args=["jobs", "run", "duties", "--today", "2027-01-01"])
    result = runner.invoke(args=["jobs", "run", "deliver"])
    assert result.exit_code == 0, result.output
    assert "No SMTP settings" in result.output and "2 emails stay in the outbox" in result.output


def test_an_unknown_job_is_refused(kingston_app: Flask) -> None:
    result = kingston_app.test_cli_runner().invoke(args=["jobs", "run", "remind"])
    assert result.exit_code == 2
    assert "No job called 'remind'" in result.output
