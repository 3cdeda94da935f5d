"""The same migrations, loads and pages on a real PostgreSQL, as in production."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import KINGSTON, count, db_fingerprint, without_action
from tracker import create_app, migrate
from tracker.db import get_engine
from tracker.models import Action, ActionUpdate, Base, Commitment


def test_kingston_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": postgres_url})
    engine = get_engine(app)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        runner = app.test_cli_runner()
        loaded = runner.invoke(args=["plan", "load", str(KINGSTON)])
        assert loaded.exit_code == 0, loaded.output
        assert count(app, Commitment, Commitment.parent_id.is_(None)) == 45
        demo = runner.invoke(args=["demo", "--today", "2026-11-25"])
        assert demo.exit_code == 0, demo.output
        updates = count(app, ActionUpdate)
        assert updates > 0

        # a refused file writes nothing
        before = db_fingerprint(app)
        broken = tmp_path / "broken.yaml"
        broken.write_text(KINGSTON.read_text(encoding="utf-8")
                          .replace("commitment: 1.a", "commitment: 9.a", 1), encoding="utf-8")
        refused = runner.invoke(args=["plan", "load", str(broken)])
        assert refused.exit_code == 1
        assert db_fingerprint(app) == before

        # a reload that drops an action retires it and keeps its updates
        smaller = tmp_path / "smaller.yaml"
        smaller.write_text(without_action(KINGSTON.read_text(encoding="utf-8"), "SKP-095"),
                           encoding="utf-8")
        reloaded = runner.invoke(args=["plan", "load", str(smaller)])
        assert reloaded.exit_code == 0, reloaded.output
        assert "  action SKP-095: " in reloaded.stdout
        assert count(app, Action, Action.retired_at.is_not(None)) == 1
        assert count(app, ActionUpdate) == updates

        client = app.test_client()
        for url in ("/", "/priorities/1", "/commitments/2.c.i", "/actions/SKP-001", "/themes",
                    "/themes/vulnerability", "/who"):
            assert client.get(url).status_code == 200, url
    finally:
        engine.dispose()


def test_backup_and_restore_on_postgres(postgres_url: str, postgres_server: str,
                                        tmp_path: Path) -> None:
    """``tracker backup`` (pg_dump's custom format) and ``tracker restore`` into a fresh
    database, which then serves the same pages; a database with data is refused."""
    import uuid

    from sqlalchemy import create_engine, text

    from tracker.services import backup as backups

    app = create_app({"TESTING": True, "DATABASE_URL": postgres_url})
    fresh_name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{fresh_name}"'))
    fresh = create_app({"TESTING": True, "DATABASE_URL": f"{postgres_server}/{fresh_name}"})
    try:
        migrate.upgrade(get_engine(app))
        runner = app.test_cli_runner()
        assert runner.invoke(args=["plan", "load", str(KINGSTON)]).exit_code == 0
        file = tmp_path / "tracker.dump"
        made = runner.invoke(args=["backup", str(file)])
        assert made.exit_code == 0, made.output
        assert backups.check_pg_backup(file) == backups.head_revision()

        before = db_fingerprint(app)
        refused = runner.invoke(args=["restore", str(file)])
        assert refused.exit_code == 1 and "already holds data" in refused.output
        assert db_fingerprint(app) == before
        not_one = tmp_path / "notes.dump"
        not_one.write_text("not a dump")
        assert "is not a backup of this tracker" in fresh.test_cli_runner().invoke(
            args=["restore", str(not_one)]).output

        restored = fresh.test_cli_runner().invoke(args=["restore", str(file)])
        assert restored.exit_code == 0, restored.output
        assert db_fingerprint(fresh) == before
        client = fresh.test_client()
        for url in ("/", "/priorities/1", "/actions/SKP-001", "/readyz"):
            assert client.get(url).status_code == 200, url
        # --force replaces a database that holds data, in one transaction
        forced = runner.invoke(args=["restore", "--force", str(file)])
        assert forced.exit_code == 0, forced.output
        assert db_fingerprint(app) == before
    finally:
        get_engine(app).dispose()
        get_engine(fresh).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{fresh_name}" WITH (FORCE)'))
        admin.dispose()
