"""Every migration upgrades and downgrades, step by step, on SQLite and on PostgreSQL.

An upgrade that goes wrong in production is undone with ``alembic downgrade``; these tests
make sure each step back works, with the demo's data in the tables, and that upgrading again
builds exactly what the models describe.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from tests.conftest import KINGSTON
from tracker import create_app, migrate
from tracker.db import get_engine
from tracker.models import Base


def _revisions() -> list[str]:
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def _expected_walk() -> list[str | None]:
    """Each step down to nothing, then each step up to the newest."""
    revisions = _revisions()
    return [*reversed([None, *revisions[:-1]]), *revisions]


def _current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _walk_down_and_up(url: str, with_data: bool) -> tuple[list[str | None], list[object]]:
    """Every revision seen stepping down to nothing and back up, and what then differs
    between the database and the models."""
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    engine = get_engine(app)
    try:
        migrate.upgrade(engine)
        if with_data:
            runner = app.test_cli_runner()
            loaded = runner.invoke(args=["plan", "load", str(KINGSTON)])
            assert loaded.exit_code == 0, loaded.output
            demo = runner.invoke(args=["demo", "--today", "2026-11-25"])
            assert demo.exit_code == 0, demo.output
        seen: list[str | None] = []
        # down one step at a time: each migration's downgrade, with data in the tables
        for _ in _revisions():
            migrate.downgrade(engine, "-1")
            seen.append(_current(engine))
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        # and up again, one step at a time
        for _ in _revisions():
            migrate.upgrade(engine, "+1")
            seen.append(_current(engine))
        with engine.connect() as conn:
            return seen, compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()


@pytest.mark.parametrize("with_data", [False, True], ids=["empty", "demo data"])
def test_every_migration_downgrades_and_upgrades_on_sqlite(tmp_path: Path,
                                                           with_data: bool) -> None:
    seen, differences = _walk_down_and_up(f"sqlite:///{tmp_path / 'tracker.db'}", with_data)
    assert seen == _expected_walk()
    assert differences == []  # exactly what the models describe


def test_every_migration_downgrades_and_upgrades_on_postgres(postgres_url: str) -> None:
    seen, differences = _walk_down_and_up(postgres_url, with_data=True)
    assert seen == _expected_walk()
    assert differences == []
