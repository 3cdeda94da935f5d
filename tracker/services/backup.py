"""Backups of the database, and restoring one (``tracker backup``, ``tracker restore``).

- **SQLite**: SQLite's online backup (``sqlite3.Connection.backup``) copies the live
  database (WAL mode: writers carry on meanwhile) to a temporary file beside FILE; the copy
  is checked (``PRAGMA integrity_check``, an Alembic revision present) and only then renamed
  to FILE. A restore checks the file, copies it to a temporary file beside the database,
  brings that copy up to this code's migrations, and renames it over the database: a restore
  that fails at any step leaves the database as it was.
- **PostgreSQL**: ``pg_dump --format=custom`` (checked with ``pg_restore --list``) and
  ``pg_restore --clean --if-exists --single-transaction``, then the migrations. The binaries
  are found on ``PATH``; the password goes to them in ``PGPASSWORD``, never on the command line.

Every refusal is a :class:`BackupError` whose message says what to do.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from tracker.db import make_engine

logger = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
BACKUP_NAME = re.compile(r"^tracker-(\d{8}-\d{6})\.(db|dump)$")
"""The nightly job's file names (``tracker-20261203-023000.db``): it deletes only these."""


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


@dataclass
class Restored:
    file: Path
    revision: str
    migrated_to: str


@dataclass
class Rotation:
    made: Path | None
    deleted: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


# -- what this code knows of the schema ----------------------------------------------------


@cache
def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - Alembic is loaded only by a backup, a restore or a health check of migrations

    from tracker.migrate import alembic_config  # noqa: PLC0415 - Alembic is loaded only by a backup, a restore or a health check of migrations

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(revision.revision for revision in script.walk_revisions())


@cache
def head_revision() -> str:
    """This code's newest migration (read from the migration files once per process)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - Alembic is loaded only by a backup, a restore or a health check of migrations

    from tracker.migrate import alembic_config  # noqa: PLC0415 - Alembic is loaded only by a backup, a restore or a health check of migrations

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _check_revision(revision: str | None, what: str) -> str:
    if not revision:
        raise BackupError(f"{what} is not a backup of this tracker: it has no migration "
                          "revision (alembic_version).")
    if revision not in known_revisions():
        raise BackupError(f"{what} was made by a newer version of the tracker (schema "
                          f"revision {revision}, which this code does not know; its newest "
                          f"is {head_revision()}): restore it with that version or a later "
                          "one.")
    return revision


# -- backing up ----------------------------------------------------------------------------


def backup(engine: Engine, file: Path, *, force: bool = False) -> Path:
    """Back up the database ``engine`` is for to ``file``; refuse to overwrite a file that
    exists unless ``force``. The copy is checked before it takes the name ``file``."""
    file = Path(file)
    if file.is_dir():
        raise BackupError(f"{file} is a folder: give the name of the backup file to write.")
    if file.exists() and not force:
        raise BackupError(f"{file} already exists: choose another name, or add --force to "
                          "replace it.")
    if not file.parent.is_dir():
        raise BackupError(f"{file.parent} does not exist: create the folder first.")
    with _temporary_beside(file) as partial:
        if engine.url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(engine.url), partial)
            check_sqlite_backup(partial)
        else:
            _pg_dump(engine.url, partial)
            check_pg_backup(partial)
        os.replace(partial, file)
    logger.info("backed up %s to %s", engine.url.render_as_string(), file)
    return file


def _sqlite_path(url: URL) -> Path:
    database = url.database
    if not database or database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up.")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"the database {source} does not exist: nothing to back up.")
    src = sqlite3.connect(source, timeout=30)  # it only reads
    try:
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)  # all pages in one step, from one read transaction
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dest.close()
    except sqlite3.Error as error:
        raise BackupError(f"the backup of {source} failed: {error}") from error
    finally:
        src.close()


@contextmanager
def _temporary_beside(file: Path) -> Iterator[Path]:
    """A temporary file name in ``file``'s folder (so a rename is atomic), removed after."""
    handle, name = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".partial",
                                    dir=file.parent)
    os.close(handle)
    partial = Path(name)
    partial.unlink()
    try:
        yield partial
    finally:
        for leftover in (partial, Path(f"{partial}-journal"), Path(f"{partial}-wal"),
                         Path(f"{partial}-shm")):
            with suppress(FileNotFoundError):
                leftover.unlink()


# -- checking a backup ---------------------------------------------------------------------


def check_sqlite_backup(file: Path) -> str:
    """The backup's schema revision, once it is known to be a sound backup of this app."""
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"{file} does not exist." if not file.exists()
                          else f"{file} is not a file.")
    with open(file, "rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise BackupError(f"{file} is not a backup of this tracker: it is not an SQLite "
                          "database file.")
    try:
        connection = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            checked = connection.execute("PRAGMA integrity_check").fetchall()
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = None
            if "alembic_version" in tables:
                revision = connection.execute(
                    "SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{file} cannot be read as a database: {error}") from error
    if checked != [("ok",)]:
        raise BackupError(f"{file} is damaged (SQLite's integrity check: "
                          f"{'; '.join(str(row[0]) for row in checked[:3])}).")
    return _check_revision(revision[0] if revision else None, str(file))


def check_pg_backup(file: Path) -> str:
    """The revision of a ``pg_dump`` custom-format backup of this app."""
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"{file} does not exist." if not file.exists()
                          else f"{file} is not a file.")
    listed = _run([_binary("pg_restore"), "--list", str(file)], {}, f"{file}",
                  refusal=f"{file} is not a backup of this tracker: pg_restore cannot read "
                          "it (a PostgreSQL backup is made by 'tracker backup').")
    if not re.search(r"TABLE DATA \S+ alembic_version", listed):
        raise BackupError(f"{file} is not a backup of this tracker: it has no migration "
                          "revision (alembic_version).")
    data = _run([_binary("pg_restore"), "--data-only", "--table=alembic_version",
                 "--file=-", str(file)], {}, f"{file}")
    found = re.search(r"^COPY \S*alembic_version .*?;\n(\S+)\n", data, re.MULTILINE)
    return _check_revision(found.group(1) if found else None, str(file))


# -- restoring -----------------------------------------------------------------------------


def restore(engine: Engine, file: Path, *, force: bool = False) -> Restored:
    """Restore ``file`` into the database ``engine`` is for, then run the migrations.
    A database that holds data is replaced only with ``force``."""
    file = Path(file)
    sqlite = engine.url.get_backend_name() == "sqlite"
    revision = check_sqlite_backup(file) if sqlite else check_pg_backup(file)
    if not force and holds_data(engine):
        where = engine.url.render_as_string(hide_password=True)
        raise BackupError(f"the database ({where}) already holds data, and restoring "
                          f"{file} would replace all of it. Back it up first ('tracker "
                          "backup FILE'), stop the web server and the scheduler, then run "
                          f"'tracker restore --force {file}' to replace it. Nothing was "
                          "changed.")
    engine.dispose()  # this process lets go of the database before it is replaced
    if sqlite:
        _sqlite_restore(file, _sqlite_path(engine.url))
    else:
        _pg_restore(engine.url, file)
        _migrate(engine)
    return Restored(file, revision, head_revision())


def holds_data(engine: Engine) -> bool:
    """Whether any of the database's tables (the migrations' own aside) has a row."""
    if engine.url.get_backend_name() == "sqlite":
        path = _sqlite_path(engine.url)
        if not path.exists() or path.stat().st_size == 0:
            return False
    try:
        return _any_rows(engine)
    except SQLAlchemyError as error:
        raise BackupError(f"the database ({engine.url.render_as_string(hide_password=True)}) "
                          f"cannot be read ({type(error).__name__}), so whether it holds "
                          "data is not known: check TRACKER_DATABASE_URL, or add --force to "
                          "replace it.") from error


def _any_rows(engine: Engine) -> bool:
    with engine.connect() as connection:
        if engine.url.get_backend_name() == "sqlite":
            tables = connection.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'")).scalars().all()
        else:
            tables = connection.execute(text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
            ).scalars().all()
        quote = connection.dialect.identifier_preparer.quote
        for table in tables:
            if table in ("alembic_version", "data_versions"):
                continue  # written by the migrations themselves
            if connection.execute(text(f"SELECT 1 FROM {quote(table)} LIMIT 1")).first():
                return True
    return False


def _migrate(engine: Engine) -> None:
    from tracker import migrate  # noqa: PLC0415 - Alembic is loaded only by a backup, a restore or a health check of migrations

    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _sqlite_restore(file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _temporary_beside(target) as partial:
        _sqlite_backup(file, partial)
        copy = make_engine(f"sqlite:///{partial}")
        try:
            _migrate(copy)  # brought up to this code's schema before it takes the name
        except Exception as error:
            raise BackupError(f"the migrations failed on the restored copy, so the "
                              f"database was left as it was: {error}") from error
        connection = sqlite3.connect(partial)
        try:
            connection.execute("PRAGMA journal_mode=DELETE")  # nothing left in a -wal file
        finally:
            connection.close()
        _let_go_of(target)
        os.replace(partial, target)


def _let_go_of(target: Path) -> None:
    """Fold ``target``'s write-ahead log into it and check none is left, so that no stale
    log is applied to the file renamed in its place."""
    wal = Path(f"{target}-wal")
    if target.exists():
        connection = sqlite3.connect(target, timeout=30)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError:
            pass  # not a database (replaced with --force): it has no log to fold in
        finally:
            connection.close()
    if wal.exists() and wal.stat().st_size > 0:
        raise BackupError(f"{target} is in use (its write-ahead log could not be emptied): "
                          "stop the web server and the scheduler, then restore again. "
                          "Nothing was changed.")
    for stale in (wal, Path(f"{target}-shm")):
        with suppress(FileNotFoundError):
            stale.unlink()


# -- PostgreSQL's own tools ----------------------------------------------------------------


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found on PATH: install PostgreSQL's client tools "
                          "(apt-get install postgresql-client, the same major version as the "
                          "server or newer).")
    return found


def _connection_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {"PGPASSWORD": str(url.password)} if url.password else {}
    return args, env


def _run(command: list[str], env: dict[str, str], what: str,
         refusal: str | None = None) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              env={**os.environ, **env}, check=False)
    except OSError as error:
        raise BackupError(f"{Path(command[0]).name} could not run: {error}") from error
    if done.returncode != 0:
        if refusal:
            raise BackupError(refusal)
        message = done.stderr.strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} failed on {what}: "
                          f"{message[-1] if message else 'exit ' + str(done.returncode)}")
    return done.stdout


def _pg_dump(url: URL, file: Path) -> None:
    args, env = _connection_args(url)
    _run([_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          f"--file={file}", *args, "--dbname", str(url.database)], env,
         f"the database {url.database}")


def _pg_restore(url: URL, file: Path) -> None:
    args, env = _connection_args(url)
    _run([_binary("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", *args, "--dbname", str(url.database),
          str(file)], env, f"the database {url.database}")


# -- the nightly copies --------------------------------------------------------------------


def backup_name(engine: Engine, now: datetime) -> str:
    suffix = "db" if engine.url.get_backend_name() == "sqlite" else "dump"
    return f"tracker-{now:%Y%m%d-%H%M%S}.{suffix}"


def backups_in(directory: Path) -> list[Path]:
    """The nightly job's own files in ``directory``, oldest first (by the time in the name)."""
    if not directory.is_dir():
        return []
    found = [path for path in directory.iterdir()
             if path.is_file() and BACKUP_NAME.match(path.name)]
    return sorted(found, key=lambda path: BACKUP_NAME.match(path.name).group(1))  # type: ignore[union-attr]


def nightly(engine: Engine, directory: Path, keep: int, now: datetime) -> Rotation:
    """Make today's backup in ``directory`` (unless one made on ``now``'s day is there
    already), then delete the oldest of the job's own files beyond the newest ``keep``."""
    if keep < 1:
        raise BackupError("TRACKER_BACKUP_KEEP must be at least 1.")
    directory.mkdir(parents=True, exist_ok=True)
    made = None
    if not any(path.name.startswith(f"tracker-{now:%Y%m%d}-") for path in backups_in(directory)):
        made = backup(engine, directory / backup_name(engine, now))
    files = backups_in(directory)
    old, kept = files[:-keep], files[-keep:]
    for path in old:
        path.unlink()
    return Rotation(made, old, kept)
