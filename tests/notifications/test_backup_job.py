"""The nightly backup job: off until ``TRACKER_BACKUP_DIR`` is set; then one checked copy a
day, the newest ``TRACKER_BACKUP_KEEP`` kept, and nothing deleted that it did not make."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from notifications.jobs import JOBS, find
from tracker.services import backup as backups


def test_the_backup_job_is_off_until_a_folder_is_set(kingston_app: Flask,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKER_BACKUP_DIR", raising=False)
    result = kingston_app.test_cli_runner().invoke(args=["jobs", "run", "backup"])
    assert result.exit_code == 0, result.output
    assert "backup: off (TRACKER_BACKUP_DIR is not set)." in result.output
    assert find("backup") in JOBS and find("backup").schedule == "daily at 02:30"  # type: ignore[union-attr]


def test_the_backup_job_keeps_the_newest_copies_and_only_deletes_its_own(
        kingston_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "backups"
    monkeypatch.setenv("TRACKER_BACKUP_DIR", str(folder))
    monkeypatch.setenv("TRACKER_BACKUP_KEEP", "3")
    folder.mkdir()
    someone_elses = folder / "before-the-upgrade.db"
    someone_elses.write_text("an operator's own copy")
    runner = kingston_app.test_cli_runner()

    dry = runner.invoke(args=["jobs", "run", "backup", "--dry-run"])
    assert "would back up to" in dry.output and list(folder.iterdir()) == [someone_elses]
    for day in range(1, 6):
        ran = runner.invoke(args=["jobs", "run", "backup", "--today", f"2026-11-0{day}"])
        assert ran.exit_code == 0, ran.output
        assert "backup: made" in ran.output
    again = runner.invoke(args=["jobs", "run", "backup", "--today", "2026-11-05"])
    assert "today's copy was already made; 3 kept, 0 older deleted." in again.output

    names = sorted(path.name for path in folder.iterdir())
    assert names[0] == someone_elses.name
    assert [name[:16] for name in names[1:]] == ["tracker-20261103", "tracker-20261104",
                                                 "tracker-20261105"]
    newest = backups.backups_in(folder)[-1]
    assert backups.check_sqlite_backup(newest) == backups.head_revision()


def test_a_bad_keep_setting_is_said_plainly(kingston_app: Flask, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("TRACKER_BACKUP_KEEP", "none")
    result = kingston_app.test_cli_runner().invoke(args=["jobs", "run", "backup"])
    assert result.exit_code == 0, result.output
    assert "backup: FAILED: TRACKER_BACKUP_KEEP must be a whole number" in result.output
    assert not (tmp_path / "backups").exists()
