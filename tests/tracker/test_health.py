"""Health: ``/healthz`` (the process answers), ``/readyz`` (the database answers and is at
this code's migration head), and the scheduler's heartbeat, which admins are warned about on
every page when it is over five minutes old; the outbox says when an email last went out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import update

from tests.conftest import _make_app, db_fingerprint
from tests.tracker.helpers import banners, browser, counted_get, db, visible
from tests.tracker.signing import ADMIN, BOARD, LEAD, MEMBER
from tracker import create_app, migrate
from tracker.db import get_engine
from tracker.models import OutboxMessage, SchedulerHeartbeat, utcnow
from tracker.services import health
from tracker.services.backup import head_revision

WARNING = "reminders and escalations are not being sent. Ask IT to check the tracker " \
          "scheduler service."


def beat(app: Flask, minutes_ago: float) -> None:
    with db(app) as s:
        at = utcnow() - timedelta(minutes=minutes_ago)
        row = s.get(SchedulerHeartbeat, 1)
        if row is None:
            s.add(SchedulerHeartbeat(id=1, beat_at=at, started_at=at, host="test:1"))
        else:
            row.beat_at = at
        s.commit()


def warned(client, url: str = "/") -> bool:  # type: ignore[no-untyped-def]
    page = visible(client.get(url).get_data(as_text=True))
    return WARNING in page


def test_healthz_answers_without_touching_the_database(kingston_app: Flask) -> None:
    client = browser(kingston_app)
    before = db_fingerprint(kingston_app)
    queries, response = counted_get(kingston_app, client, "/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert queries == 0
    assert db_fingerprint(kingston_app) == before


def test_readyz_is_ready_on_a_database_at_the_migration_head(kingston_app: Flask) -> None:
    client = browser(kingston_app)
    before = db_fingerprint(kingston_app)
    queries, response = counted_get(kingston_app, client, "/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ok", "reason": "ok",
                                   "migration": head_revision(),
                                   "expected_migration": head_revision()}
    assert queries <= 3  # (SQLite's BEGIN,) SELECT 1 and the migration revision
    assert db_fingerprint(kingston_app) == before


def test_readyz_is_unavailable_behind_the_migrations_or_without_a_database(
        kingston_app: Flask, tmp_path: Path) -> None:
    from alembic import command

    config = migrate.alembic_config(kingston_app.config["DATABASE_URL"])
    with get_engine(kingston_app).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    behind = browser(kingston_app).get("/readyz")
    assert behind.status_code == 503
    body = behind.get_json()
    assert body["status"] == "unavailable"
    assert body["reason"].endswith("run 'tracker db upgrade'")
    assert body["migration"] != head_revision() and body["expected_migration"] == head_revision()

    never = _make_app(tmp_path / "empty.db")  # no migrations run
    body = browser(never).get("/readyz").get_json()
    assert body["reason"] == "the database has no migrations: run 'tracker db upgrade'"

    folder = tmp_path / "a-folder.db"
    folder.mkdir()  # not a file SQLite can open
    broken = _make_app(folder)
    response = browser(broken).get("/readyz")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "cannot be reached (OperationalError)" in text
    assert str(tmp_path) not in text and "Traceback" not in text  # no paths, no stack


def test_health_needs_no_sign_in_even_on_a_private_production_deployment(
        kingston_app: Flask) -> None:
    private = create_app({"TESTING": True, "PUBLIC_READ": False, "ENV_NAME": "production",
                          "DATABASE_URL": kingston_app.config["DATABASE_URL"],
                          "SECRET_KEY": kingston_app.config["SECRET_KEY"]})
    client = private.test_client()
    # a load balancer checks its backends over plain HTTP: answered, while pages are not
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 400
    get_engine(private).dispose()
    assert browser(kingston_app).post("/readyz").status_code == 405  # GET only


def test_admins_are_warned_on_every_page_when_the_heartbeat_is_stale(
        demo_app: Flask) -> None:
    admin = browser(demo_app, ADMIN)
    # never run on this (development) database: no warning
    assert not warned(admin)
    beat(demo_app, minutes_ago=1)
    assert not warned(admin)
    beat(demo_app, minutes_ago=12)
    with db(demo_app) as s:
        at = s.get(SchedulerHeartbeat, 1).beat_at  # type: ignore[union-attr]
    from tracker.clock import LONDON

    local = at.astimezone(LONDON)
    expected = f"The scheduler has not run since {local:%H:%M} on {local.day} {local:%B}: "
    for url in ("/", "/admin", "/board", "/admin/outbox", "/kpis", "/account"):
        page = admin.get(url).get_data(as_text=True)
        assert expected + WARNING in visible(page), url
        assert "<code>tracker scheduler</code>" in page
        assert f"info: {expected}{WARNING}" in banners(page)
    for email in (BOARD, LEAD, MEMBER):  # only admins can do anything about it
        assert not warned(browser(demo_app, email))
    assert not warned(browser(demo_app))


def test_the_warning_reads_one_row_for_admins_and_nothing_for_anyone_else(
        demo_app: Flask) -> None:
    admin, board = browser(demo_app, ADMIN), browser(demo_app, BOARD)
    for client in (admin, board):
        client.get("/kpis")
    with_row = counted_get(demo_app, admin, "/kpis")[0]
    board_count = counted_get(demo_app, board, "/kpis")[0]
    import tracker.templating

    original = tracker.templating.scheduler_warning
    tracker.templating.scheduler_warning = lambda: None  # type: ignore[assignment]
    try:
        without = counted_get(demo_app, admin, "/kpis")[0]
        assert counted_get(demo_app, board, "/kpis")[0] == board_count
    finally:
        tracker.templating.scheduler_warning = original  # type: ignore[assignment]
    assert with_row == without + 1


def test_a_missing_heartbeat_warns_only_where_jobs_are_expected() -> None:
    now = utcnow()
    assert not health.scheduler_stopped(None, now, expected=False)
    assert health.scheduler_stopped(None, now, expected=True)
    assert not health.scheduler_stopped(now - timedelta(minutes=5), now, expected=True)
    assert health.scheduler_stopped(now - timedelta(minutes=5, seconds=1), now, expected=False)


def test_the_outbox_says_when_an_email_last_went_out(demo_app: Flask) -> None:
    admin = browser(demo_app, ADMIN)
    assert "No email has been sent yet." in visible(
        admin.get("/admin/outbox").get_data(as_text=True))
    with db(demo_app) as s:
        now = utcnow()
        s.add(OutboxMessage(key="test|sent", kind="test", to_address="a@example.org", cc=[],
                            subject="Sent one", text_body="x", html_body="<p>x</p>",
                            created_at=now, send_after=now, attempts=1))
        s.commit()
        sent_at = now.replace(hour=9, minute=41, second=0, microsecond=0)
        s.execute(update(OutboxMessage).values(sent_at=sent_at))
        s.commit()
    from tracker.templating import long_datetime

    page = visible(admin.get("/admin/outbox").get_data(as_text=True))
    assert f"The last email went out on {long_datetime(sent_at)}." in page


def test_a_real_scheduler_records_its_heartbeat(kingston_app: Flask, tmp_path: Path) -> None:
    database = Path(str(get_engine(kingston_app).url.database))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({"TRACKER_ENV": "testing", "TRACKER_DATABASE_URL": f"sqlite:///{database}"})
    log = tmp_path / "scheduler.log"
    tracker = Path(sys.executable).parent / "tracker"
    with open(log, "wb") as output:
        process = subprocess.Popen([str(tracker), "scheduler"], env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        found = None
        while found is None:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            with db(kingston_app) as s:
                found = s.get(SchedulerHeartbeat, 1)
            time.sleep(0.1)
        assert utcnow() - found.beat_at < timedelta(minutes=1)
        assert found.host.endswith(f":{process.pid}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    admin = browser(kingston_app, ADMIN)
    assert not warned(admin)  # it has just beaten
