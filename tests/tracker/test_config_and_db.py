"""Configuration from the environment, and the database engine's set-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from tracker.config import ConfigError, load_config
from tracker.db import SQLITE_BUSY_TIMEOUT_MS, get_engine
from tracker.models import Base


def test_development_defaults_to_a_sqlite_file_under_instance(tmp_path: Path) -> None:
    config = load_config(str(tmp_path / "instance"), {})
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'tracker.db'}"
    assert len(config["SECRET_KEY"]) >= 32
    assert config["DEBUG"] is False


def test_database_url_comes_from_the_environment(tmp_path: Path) -> None:
    url = "postgresql+psycopg://tracker@db.example.org/tracker"
    assert load_config(str(tmp_path), {"TRACKER_DATABASE_URL": url})["DATABASE_URL"] == url


# a key as secrets.token_hex(32) makes one
KEY = "3f9c2a7be1d04586a9c3e5f7b2d1a0c8e6f4b3a29d8c7e1f5a4b6c2d9e0f1a3b"


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY must be set"):
        load_config(str(tmp_path), {"TRACKER_ENV": "production"})
    with pytest.raises(ConfigError, match="too easy to guess .3 characters"):
        load_config(str(tmp_path), {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": "dev"})


def test_production_refuses_debug(tmp_path: Path) -> None:
    env = {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": KEY, "TRACKER_DEBUG": "1"}
    with pytest.raises(ConfigError, match="TRACKER_DEBUG must be off in production"):
        load_config(str(tmp_path), env)


def test_production_with_a_secret_starts(tmp_path: Path) -> None:
    env = {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": KEY}
    config = load_config(str(tmp_path), env)
    assert config["SECRET_KEY"] == KEY and config["DEBUG"] is False


def test_unknown_environment_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRACKER_ENV='prod' is not known"):
        load_config(str(tmp_path), {"TRACKER_ENV": "prod"})


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app: Flask) -> None:
    with get_engine(app).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_match_the_models(app: Flask) -> None:
    """The database the migrations build is exactly what the models describe."""
    with get_engine(app).connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


def test_migrations_form_one_numbered_chain() -> None:
    """Each migration file's number is its revision and revises the one before, so
    ``tracker db upgrade`` always has one head to move to (two branches each adding
    a 0018 once left an upgrade refusing with 'multiple heads')."""
    from alembic.script import ScriptDirectory

    from tracker.migrate import MIGRATIONS, alembic_config

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    files = sorted(p for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    previous = None
    for path in files:
        number = path.name.split("_", 1)[0]
        script = scripts.get_revision(number)
        assert script is not None and script.path == str(path), path.name
        assert script.down_revision == previous, (path.name, script.down_revision)
        previous = number
