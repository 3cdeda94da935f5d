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


DEMO_TODAY = "2026-11-25"  # the open quarter is 2026/27 Q2, whose updates were due 15 October


@pytest.fixture(scope="session")
def demo_db_template(kingston_db_template: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> Path:
    """Kingston with the demo history up to 25 November 2026 (``tracker demo``), built once
    per test session."""
    path = tmp_path_factory.mktemp("templates") / "demo.db"
    shutil.copy(kingston_db_template, path)
    app = _make_app(path)
    result = app.test_cli_runner().invoke(args=["demo", "--today", DEMO_TODAY])
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
    """Every row of every table: proves that nothing at all was written. The security log,
    which records refusals (a 403, a failed sign-in) on purpose, is left out: its tests read
    it directly."""
    from tracker.models import Base

    engine = get_engine(flask_app)
    rows: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for name, table in Base.metadata.tables.items():
            if name == "security_events":
                continue
            order = list(table.primary_key.columns)
            rows[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return rows


def count(flask_app: Flask, model: type, *where: object) -> int:
    engine = get_engine(flask_app)
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def without_action(text: str, ref: str) -> str:
    """Drop every entry of an action from the delivery plans (all years)."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    indent = 0
    for line in lines:
        stripped = line.lstrip()
        current = len(line) - len(stripped)
        if stripped.startswith(f"- id: {ref}") and stripped.strip() == f"- id: {ref}":
            skipping, indent = True, current
            continue
        if skipping:
            if stripped and current <= indent:
                skipping = False
            else:
                continue
        out.append(line)
    result = "".join(out)
    assert f"id: {ref}\n" not in result
    return result


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1, started for the test session.

    Skipped where PostgreSQL is not installed, except in CI (``CI=true``), where
    ``.ci/run`` installs it and a missing server is a failure.
    """
    import os
    import socket
    import subprocess

    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run should install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    import shutil as _shutil
    import tempfile

    # not under pytest's temporary folder: the postgres user must be able to reach it
    base = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    as_root = os.geteuid() == 0
    if as_root:
        subprocess.run(["chown", "-R", "postgres", str(base)], check=True)
        base.chmod(0o755)

    def run(*args: str) -> None:
        command = [str(bin_dir / args[0]), *args[1:]]
        if as_root:
            command = ["su", "postgres", "-c", " ".join(f"'{a}'" for a in command)]
        subprocess.run(command, check=True, capture_output=True)

    run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run("pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-o",
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        _shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    import uuid

    from sqlalchemy import create_engine, text

    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{postgres_server}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
