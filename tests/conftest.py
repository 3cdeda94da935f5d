"""Shared fixtures: an app on a throwaway SQLite database built by the real migrations."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import create_app
from tracker.db import get_engine, make_engine

ROOT = Path(__file__).resolve().parent.parent
KINGSTON = ROOT / "plans.yaml"


def _make_app(db_file: Path) -> Flask:
    return create_app({
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{db_file}",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
    })


@pytest.fixture(scope="session")
def empty_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database created by the migrations, once per test session."""
    path = tmp_path_factory.mktemp("templates") / "empty.db"
    from tracker import migrate

    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def kingston_db_template(empty_db_template: Path, tmp_path_factory: pytest.TempPathFactory
                         ) -> Path:
    """A database with plans.yaml loaded, once per test session."""
    path = tmp_path_factory.mktemp("templates") / "kingston.db"
    shutil.copy(empty_db_template, path)
    app = _make_app(path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plan", "load", str(KINGSTON)])
    assert result.exit_code == 0, result.output
    engine = get_engine(app)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _copy(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "tracker.db"
    shutil.copy(template, target)
    return target


@pytest.fixture
def app(empty_db_template: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty (migrated) database."""
    application = _make_app(_copy(empty_db_template, tmp_path))
    yield application
    get_engine(application).dispose()


@pytest.fixture
def kingston_app(kingston_db_template: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app with the Kingston plan loaded."""
    application = _make_app(_copy(kingston_db_template, tmp_path))
    yield application
    get_engine(application).dispose()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        from tracker.db import get_session

        yield get_session()


def db_fingerprint(flask_app: Flask) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: proves that nothing at all was written."""
    from tracker.models import Base

    engine = get_engine(flask_app)
    rows: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for name, table in Base.metadata.tables.items():
            order = list(table.primary_key.columns)
            rows[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return rows


def count(flask_app: Flask, model: type, *where: object) -> int:
    engine = get_engine(flask_app)
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0
