"""``tracker backup FILE`` and ``tracker restore FILE``: a copy of the database, and
putting one back (:mod:`tracker.services.backup`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.db import get_engine, transaction
from tracker.services.backup import BackupError
from tracker.services.backup import backup as make_backup
from tracker.services.backup import restore as restore_backup
from tracker.services.loaded_plan import refreeze


@click.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
def backup(file: Path, force: bool) -> None:
    """Back up the database to FILE while the tracker runs (SQLite: a database file;
    PostgreSQL: pg_dump's custom format), and check the copy."""
    engine = get_engine(current_app)
    try:
        made = make_backup(engine, file, force=force)
    except BackupError as error:
        click.echo(f"Backup refused: {error}", err=True)
        sys.exit(1)
    click.echo(f"Backed up {engine.url.render_as_string()} to {made} "
               f"({made.stat().st_size:,} bytes), and checked the copy.")


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a database that already holds data.")
@with_appcontext
def restore(file: Path, force: bool) -> None:
    """Restore the backup FILE into the database, then bring it up to this version's
    migrations. Stop the web server and the scheduler first."""
    engine = get_engine(current_app)
    try:
        restored = restore_backup(engine, file, force=force)
    except BackupError as error:
        click.echo(f"Restore refused: {error}", err=True)
        sys.exit(1)
    with transaction() as session:  # as after 'tracker db upgrade'
        refreeze(session)
    migrated = ("" if restored.revision == restored.migrated_to else
                f", migrated to {restored.migrated_to}")
    click.echo(f"Restored {file} into {engine.url.render_as_string()} (schema "
               f"{restored.revision}{migrated}).")
