"""``tracker backup FILE`` and ``tracker restore FILE`` on SQLite: a backup taken while a
group lead keeps writing is a consistent copy; restored into a fresh database it serves
what was saved; a restore refuses a database with data in it (without ``--force``), a file
that is not a backup, and a backup from a newer version, leaving everything as it was.

The scene is the Kingston demo on 25 November 2026: daniel.price leads priority 2 and
writes its narrative for 2026/27 Q2 (version 1 is the demo's).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from tests.conftest import _make_app, db_fingerprint
from tests.tracker.helpers import browser, db, token_for, visible
from tests.tracker.servers import run_tracker, serving
from tests.tracker.signing import BOARD, LEAD
from tracker.db import get_engine
from tracker.models import Commentary
from tracker.services import backup as backups

TODAY = date(2026, 11, 25)
NARRATIVE = "/board/commentary/2026-27-Q2/2"
WRITES = 2000  # the writer's bound (it stops when the test has seen enough)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def database_file(app: Flask) -> Path:
    return Path(str(get_engine(app).url.database))


def narratives(app: Flask) -> list[tuple[int, str]]:
    with db(app) as s:
        return [(row.version, row.text) for row in s.scalars(
            select(Commentary).where(Commentary.quarter == "2026/27 Q2",
                                     Commentary.scope == "2").order_by(Commentary.version))]


def write_narrative(client, text: str):  # type: ignore[no-untyped-def]
    page = client.get(NARRATIVE).get_data(as_text=True)
    found = re.search(r'name="base_version"[^>]*value="(\d+)"', page)
    assert found, "no version in the form"
    return client.post(NARRATIVE, data={"csrf_token": token_for(client, NARRATIVE),
                                        "text": text, "base_version": found.group(1)})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_for(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_backup_taken_during_writes_restores_into_a_fresh_database_and_serves_it(
        demo_app: Flask, tmp_path: Path) -> None:
    lead = browser(demo_app, LEAD)
    saved: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for number in range(WRITES):  # bounded, whatever happens to the backup
                if stop.is_set():
                    return
                text = f"Narrative written during the backup, number {number}."
                response = write_narrative(lead, text)
                assert response.status_code == 302, response.get_data(as_text=True)
                saved.append(text)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(lambda: len(saved) >= 3 or bool(failures) or not thread.is_alive())
        file = tmp_path / "backups" / "tracker.db"
        file.parent.mkdir()
        before = len(saved)
        made = run_tracker(url_of(database_file(demo_app)), TODAY, "backup", str(file))
        during = len(saved)
    finally:
        wait_for(lambda: len(saved) >= during + 2 or not thread.is_alive())
        stop.set()
        thread.join(timeout=120)
    assert not failures, failures
    assert made.returncode == 0, made.stderr
    assert "and checked the copy" in made.stdout
    assert before < during < len(saved)  # writes went on while it ran, and after

    # the copy is one moment's database: every version up to one, none missing
    copied = sqlite3.connect(file)
    versions = [row[0] for row in copied.execute(
        "SELECT version FROM commentaries WHERE quarter = '2026/27 Q2' AND scope = '2' "
        "ORDER BY version")]
    copied.close()
    assert versions == list(range(1, len(versions) + 1))
    assert before + 1 <= len(versions) <= during + 1  # the demo's version 1, then the lead's
    latest_in_backup = saved[len(versions) - 2]

    # restored into a fresh database: what a person sees is the backup's
    fresh = tmp_path / "restored" / "tracker.db"
    restored = run_tracker(url_of(fresh), TODAY, "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout
    app = _make_app(fresh)
    try:
        assert narratives(app)[-1] == (len(versions), latest_in_backup)
        board = browser(app, BOARD)
        dashboard = visible(board.get("/board/priorities/2").get_data(as_text=True))
        assert latest_in_backup in dashboard
        assert saved[-1] not in dashboard  # written after the backup
    finally:
        get_engine(app).dispose()

    # and a real server serves it
    with serving(url_of(fresh), TODAY, tmp_path, processes=1) as servers:
        page = requests.get(servers.urls[0] + "/", timeout=30)
        assert page.status_code == 200
        assert "Kingston" in page.text


def test_restore_refuses_a_database_that_holds_data_without_force(
        demo_app: Flask, kingston_app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "demo-backup.db"
    backups.backup(get_engine(demo_app), file)
    target = database_file(kingston_app)
    before = db_fingerprint(kingston_app)
    get_engine(kingston_app).dispose()
    stamp = digest(target)

    refused = run_tracker(url_of(target), TODAY, "restore", str(file))

    assert refused.returncode == 1
    assert "already holds data" in refused.stderr
    assert f"tracker restore --force {file}" in refused.stderr
    assert "Nothing was changed." in refused.stderr
    assert digest(target) == stamp and db_fingerprint(kingston_app) == before

    # with --force it is replaced by the backup
    get_engine(kingston_app).dispose()
    forced = run_tracker(url_of(target), TODAY, "restore", "--force", str(file))
    assert forced.returncode == 0, forced.stderr
    assert db_fingerprint(kingston_app) == db_fingerprint(demo_app)


def test_restore_refuses_what_is_not_a_backup_of_this_app(app: Flask, demo_app: Flask,
                                                          tmp_path: Path) -> None:
    target = tmp_path / "fresh.db"
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database")
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    newer = tmp_path / "newer.db"
    backups.backup(get_engine(demo_app), newer)
    connection = sqlite3.connect(newer)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    damaged = tmp_path / "damaged.db"
    backups.backup(get_engine(demo_app), damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = b"\xff" * 4096
    damaged.write_bytes(bytes(data))

    cases = {
        tmp_path / "missing.db": "does not exist",
        tmp_path: "is not a file",
        text_file: "is not a backup of this tracker: it is not an SQLite database file",
        other: "is not a backup of this tracker: it has no migration revision",
        newer: "made by a newer version of the tracker (schema revision 9999",
        damaged: "damaged",
    }
    for file, message in cases.items():
        refused = run_tracker(url_of(target), TODAY, "restore", str(file))
        assert refused.returncode == 1, (file, refused.stdout)
        assert message in refused.stderr, (file, refused.stderr)
        assert "Traceback" not in refused.stderr
    assert not target.exists()  # refused before the database was touched


def test_backup_refuses_to_overwrite_a_file_without_force(demo_app: Flask,
                                                          tmp_path: Path) -> None:
    file = tmp_path / "backup.db"
    file.write_text("something else")
    runner = demo_app.test_cli_runner()

    refused = runner.invoke(args=["backup", str(file)])

    assert refused.exit_code == 1
    assert "already exists: choose another name, or add --force" in refused.output
    assert file.read_text() == "something else"
    forced = runner.invoke(args=["backup", "--force", str(file)])
    assert forced.exit_code == 0, forced.output
    assert backups.check_sqlite_backup(file) == backups.head_revision()
    no_folder = runner.invoke(args=["backup", str(tmp_path / "nowhere" / "backup.db")])
    assert no_folder.exit_code == 1 and "does not exist: create the folder" in no_folder.output
    assert not list(tmp_path.glob(".*.partial"))  # nothing half-written is left


def test_a_restored_older_backup_is_brought_up_to_date(demo_app: Flask,
                                                       tmp_path: Path) -> None:
    """A backup from an older version gets this version's migrations as it is restored."""
    from tracker import migrate

    older = tmp_path / "older.db"
    backups.backup(get_engine(demo_app), older)
    engine = _make_app(older)
    try:
        migrate.downgrade(get_engine(engine), "-1")
    finally:
        get_engine(engine).dispose()
    revision = backups.check_sqlite_backup(older)
    assert revision != backups.head_revision()

    target = tmp_path / "restored.db"
    restored = run_tracker(url_of(target), TODAY, "restore", str(older))

    assert restored.returncode == 0, restored.stderr
    assert f"(schema {revision}, migrated to {backups.head_revision()})" in restored.stdout
    connection = sqlite3.connect(target)
    assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (
        backups.head_revision(),)
    connection.close()


def test_the_nightly_copies_keep_the_newest_and_delete_only_their_own(
        demo_app: Flask, tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    keep = 2

    folder = tmp_path / "nightly"
    folder.mkdir()
    mine = folder / "notes.db"  # not the job's: never deleted
    mine.write_text("kept")
    engine = get_engine(demo_app)
    start = datetime(2026, 11, 20, 2, 30)
    made = []
    for day in range(4):
        rotation = backups.nightly(engine, folder, keep, start + timedelta(days=day))
        assert rotation.made is not None
        made.append(rotation.made)
    again = backups.nightly(engine, folder, keep, start + timedelta(days=3, hours=1))
    assert again.made is None  # one a day: the catch-up run at a restart makes no other
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [mine.name, made[-2].name, made[-1].name])
    assert made[-1].name == "tracker-20261123-023000.db"
    assert backups.check_sqlite_backup(made[-1]) == backups.head_revision()


def test_a_restore_that_fails_leaves_the_database_as_it_was(
        demo_app: Flask, kingston_app: Flask, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker import migrate

    file = tmp_path / "demo-backup.db"
    backups.backup(get_engine(demo_app), file)
    before = db_fingerprint(kingston_app)

    def broken_upgrade(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(migrate, "upgrade", broken_upgrade)
    failed = kingston_app.test_cli_runner().invoke(args=["restore", "--force", str(file)])

    assert failed.exit_code == 1
    assert "the migrations failed on the restored copy, so the database was left as it " \
           "was: the disk filled up" in failed.output
    assert db_fingerprint(kingston_app) == before
    target = database_file(kingston_app)
    assert not list(target.parent.glob(".*.partial*"))


def test_restore_with_force_replaces_a_file_that_is_not_a_database(
        demo_app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "demo-backup.db"
    backups.backup(get_engine(demo_app), file)
    target = tmp_path / "garbage.db"
    target.write_text("this was never a database")

    refused = run_tracker(url_of(target), TODAY, "restore", str(file))
    assert refused.returncode == 1
    assert "cannot be read (DatabaseError)" in refused.stderr and "--force" in refused.stderr
    assert target.read_text() == "this was never a database"

    forced = run_tracker(url_of(target), TODAY, "restore", "--force", str(file))
    assert forced.returncode == 0, forced.stderr
    assert backups.check_sqlite_backup(target) == backups.head_revision()
