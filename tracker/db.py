"""The database engine, sessions, and the unit of work.

This is the only module that knows which database engine is in use. SQLite (the embedded
default) gets WAL mode, a busy timeout and enforced foreign keys; its transactions are begun
here, not by the driver, so that a transaction that will write starts with ``BEGIN
IMMEDIATE`` (it takes the write lock at once, waiting for it if need be, instead of failing
half-way through when another process wrote first). PostgreSQL needs nothing special.

**One unit of work.** A request, a command or a job has one session and commits once, at
its end; services only flush. For requests this is :func:`serve_request`, which the app's
``full_dispatch_request`` runs (see :class:`tracker.TrackerApp`):

- the view (and the ``before_request`` hooks) run; when they return normally, the session
  is committed; when anything raises (``abort(404)``, a refusal shown with
  :func:`tracker.views.refuse`, a bug), everything is rolled back *before* the error page is
  drawn, so that page never depends on a failed transaction;
- a request that may write (anything but GET, HEAD and OPTIONS) begins a write transaction;
  GET and HEAD begin read transactions and may not write plan, update, status or KPI data
  at all (:data:`WRITABLE_ON_READ` lists the few bookkeeping tables they may touch);
- a busy database, a serialisation failure, a deadlock or a unique constraint a concurrent
  request won are *retried*: the whole request runs again on a fresh session (as a write
  transaction), so that the second time it sees what the other request committed: a stale
  form becomes the conflict page, a second approval is refused as already made. Only when
  the retries are used up does the person see an error: the "try again" page
  (:class:`DatabaseBusy`), which keeps what they typed.

Commands and jobs use :func:`transaction` (one write transaction) or, for long work,
:func:`read_transaction` to work things out without holding the write lock, then a short
:func:`transaction` to store the result.
"""

from __future__ import annotations

import copy
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request, session
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5_000
BEGIN_OPTION = "tracker_begin"  # execution option: "immediate" starts a write transaction
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# how many times a request is run in all before the person is told to try again
BUSY_ATTEMPTS = 4
CONFLICT_ATTEMPTS = 3  # a unique constraint won by a concurrent request: it is visible at once
# tables a GET or HEAD request may write: signing in bookkeeping, held form text, pack
# builds, and board pages drawn (kept in a transaction of their own: tracker.views.page_cache)
# and the read API's usage log: every request made with an API token is logged, and the log
# is what its rate limit counts (tracker.services.api_tokens; written in a transaction of its
# own, so the request itself still writes nothing)
WRITABLE_ON_READ = frozenset({"user_sessions", "held_submissions", "pack_builds",
                              "pack_requests", "page_cache", "security_events",
                              "api_token_uses"})

WRITES_ON_GET = "_tracker_writes_on_get"
F = TypeVar("F", bound=Callable[..., Any])

_FAILED = "_uow_failed"  # something raised: roll back
_BROKEN = "_uow_broken"  # the database failed: the error page must not read it
_WRITE = "_uow_write"
_SESSION = "db_session"


class ChangedMeanwhile(Exception):
    """Something this unit of work depends on was changed by another one that committed
    while it ran (a plan load, say): it is rolled back and run again from the start, like a
    conflict the database itself reports."""


class DatabaseBusy(Exception):
    """The database could not take this change after several tries; nothing was saved."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"the database was busy: {type(error).__name__}")
        self.error = error


class ReadOnlyRequest(RuntimeError):
    """A GET or HEAD request tried to write data: pages only read."""


class _Retry(Exception):
    """Raised out of Flask's error handling so that :func:`serve_request` runs it again."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


# -- the engine ----------------------------------------------------------------------------


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite connections get WAL, a busy timeout and foreign keys, and
    transactions begun by :func:`begin_write` start with ``BEGIN IMMEDIATE``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # the driver begins nothing by itself: _sqlite_begin below does it
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            immediate = connection.get_execution_options().get(BEGIN_OPTION) == "immediate"
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["tracker.engine"] = engine
    app.extensions["tracker.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask) -> Engine:
    engine: Engine = app.extensions["tracker.engine"]
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite"


def advisory_lock(engine: Engine, key: int) -> Connection | None:
    """A connection holding PostgreSQL's session advisory lock ``key`` until it is closed
    (or its process dies), or None when another connection holds it."""
    connection = engine.connect()
    got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                             {"key": key}).scalar()
    connection.commit()
    if not got:
        connection.close()
        return None
    return connection


# -- sessions ------------------------------------------------------------------------------


def new_session(app: Flask) -> Session:
    """A session of its own, outside the unit of work (its owner commits and closes it)."""
    made: Session = app.extensions["tracker.sessionmaker"]()
    return made


def begin_write(db: Session) -> Session:
    """Begin ``db``'s next transaction as a write transaction (SQLite: ``BEGIN IMMEDIATE``).

    Call it before the transaction reads anything; once one is under way it has no effect.
    """
    if not db.in_transaction():
        db.connection(execution_options={BEGIN_OPTION: "immediate"})
    return db


def writes_on_get(view: F) -> F:
    """Mark a view whose GET must write, because what calls it can only send a GET: the
    identity provider's redirect back after single sign-on (which starts a session and
    records the sign-in, as the sign-in form's POST does). Such a GET runs as a write
    transaction, like a POST; every other GET still may not write data."""
    setattr(view, WRITES_ON_GET, True)
    return view


def _reads_only() -> bool:
    if request.method not in READ_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, WRITES_ON_GET, False)


def get_session() -> Session:
    """The session of the current unit of work (one per request, command or job)."""
    if _SESSION not in g:
        db = new_session(current_app._get_current_object())  # type: ignore[attr-defined]
        if has_request_context():
            read_only = _reads_only()
            reading = read_only and not g.get(_WRITE)
            db.info["read_only_data"] = read_only
            if not reading:
                begin_write(db)
        g.db_session = db
    found: Session = g.db_session
    return found


def _close_session(_exc: BaseException | None) -> None:
    db = g.pop(_SESSION, None)
    if db is not None:
        db.close()  # rolls back whatever was not committed


@contextmanager
def transaction() -> Iterator[Session]:
    """One write transaction on the unit of work's session: commit once at the end of the
    block, or roll everything back on error."""
    db = get_session()
    if db.in_transaction() and not db.info.get("writing"):
        db.commit()  # end a read that came before (nothing is pending in it)
    begin_write(db)
    db.info["writing"] = True
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.info.pop("writing", None)


@contextmanager
def transaction_of_its_own(app: Flask) -> Iterator[Session]:
    """A write transaction on a session of its own, outside the unit of work (which goes
    on whatever becomes of it): committed at the end of the block, or rolled back on error,
    and closed. For bookkeeping a request keeps apart from what it does, such as a page kept
    as drawn (:mod:`tracker.views.page_cache`)."""
    db = begin_write(new_session(app))
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


@contextmanager
def read_transaction() -> Iterator[Session]:
    """A read on the unit of work's session, ended (rolled back) at the end of the block:
    for working something out without holding the write lock."""
    db = get_session()
    try:
        yield db
    finally:
        db.rollback()


def hold(db: Session, instance: object) -> None:
    """Lock ``instance``'s row until the transaction ends (``SELECT ... FOR UPDATE`` on
    PostgreSQL; SQLite's write transaction already holds the whole database) and read it
    again, so a decision is made on what a concurrent one committed."""
    mapper = inspect(instance).mapper
    key = mapper.primary_key[0]
    ident = inspect(instance).identity
    db.execute(select(key).where(key == ident[0]).with_for_update())
    db.refresh(instance)


# -- what counts as retryable ---------------------------------------------------------------

_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_PG_RETRY = {"40001", "40P01", "55P03"}  # serialisation failure, deadlock, lock not available
_PG_UNIQUE = "23505"


def retry_kind(error: BaseException) -> str | None:
    """``busy`` (wait and try again), ``conflict`` (a concurrent change won) or None."""
    if isinstance(error, _Retry):
        return retry_kind(error.error)
    if isinstance(error, DatabaseBusy):
        return None
    if isinstance(error, StaleDataError | ChangedMeanwhile):
        return "conflict"  # changed or deleted by someone else since it was read
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:
        return "busy"
    original = error.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code in _PG_RETRY:
        return "busy"
    if code == _PG_UNIQUE:
        return "conflict"
    text = str(original).lower()
    if any(words in text for words in _SQLITE_BUSY):
        return "busy"
    if isinstance(error, IntegrityError) and "unique constraint failed" in text:
        return "conflict"
    return None


def pause_before_retry(attempt: int) -> None:
    """A short, jittered wait before try ``attempt + 1``, so racing requests do not meet
    again (a seam: the tests replace it, to take the wait out or to act between tries)."""
    time.sleep(min(0.05 * 2 ** attempt, 0.5) * (0.5 + random.random()))


# -- the request's unit of work ------------------------------------------------------------


def request_failed(error: Exception) -> None:
    """The view (or a before-request hook) raised: undo its writes before the error page.

    Retryable errors are turned into :class:`_Retry`, which Flask's error handling does not
    catch, so that :func:`serve_request` runs the request again.
    """
    g.setdefault(_FAILED, True)
    if isinstance(error, SQLAlchemyError):
        _database_broken()
    db = g.get(_SESSION)
    if db is not None:
        db.rollback()
    if retry_kind(error) is not None:
        raise _Retry(error) from error


def _database_broken() -> None:
    """The database failed this request: what its error page shows of the person signed in
    is kept from what was read, so that page reads nothing."""
    g.setdefault(_BROKEN, True)
    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.session is None:
        return
    kept = type(user)()
    for attribute in state.mapper.column_attrs:
        if attribute.key in state.dict:
            setattr(kept, attribute.key, state.dict[attribute.key])
    kept.session_token = getattr(user, "session_token", None)
    kept.__dict__.update({k: v for k, v in user.__dict__.items() if k.startswith("_led")})
    g._login_user = kept


class _RequestState:
    """What a request's run changes besides the database (the cookie session: flashed
    messages; ``g``), put back before it runs again."""

    def __init__(self) -> None:
        self.cookie = copy.deepcopy(dict(session))
        self.g_keys = set(vars(g))

    def restore(self) -> None:
        session.clear()
        session.update(copy.deepcopy(self.cookie))
        for key in set(vars(g)) - self.g_keys - {_WRITE}:
            g.pop(key, None)
        for upload in request.files.values():
            upload.stream.seek(0)


def serve_request(dispatch: Callable[[], Any]) -> Any:
    """Run ``dispatch`` (Flask's own request handling) as one unit of work, with retries."""
    state = _RequestState()
    attempt = 0
    while True:
        attempt += 1
        try:
            response = dispatch()
            try:
                db = g.get(_SESSION)
                if db is not None:
                    if g.get(_FAILED):
                        db.rollback()
                    else:
                        db.commit()
            except BaseException:
                # the answer drawn is not given: let go of what it holds (a static file's
                # open handle) before the request runs again or the error page is drawn
                close = getattr(response, "close", None)
                if close is not None:
                    close()
                raise
            return response
        except Exception as error:  # noqa: BLE001 - sorted below: retried, or passed on
            g.setdefault(_FAILED, True)
            _database_broken()  # the session goes: nothing may be read through it again
            _discard()
            kind = retry_kind(error)
            if kind is None:
                raise
            cause = error.error if isinstance(error, _Retry) else error
            limit = BUSY_ATTEMPTS if kind == "busy" else CONFLICT_ATTEMPTS
            if attempt >= limit:
                logger.warning("%s %s: gave up after %d tries: %s", request.method,
                               request.path, attempt, cause)
                raise DatabaseBusy(cause) from cause
            logger.info("%s %s: try %d met %s; trying again", request.method, request.path,
                        attempt, type(cause).__name__)
            state.restore()
            g.setdefault(_WRITE, True)  # the next try takes the write lock from the start
            pause_before_retry(attempt)


def _discard() -> None:
    db = g.pop(_SESSION, None)
    if db is not None:
        try:
            db.rollback()
        finally:
            db.close()


def has_failed() -> bool:
    """Whether the database failed this request (its error page must not read it)."""
    return bool(g.get(_BROKEN))


# -- GET never writes; every data write bumps the data version ----------------------------

# tables whose writes leave what the board's pages show as it was: sign-in bookkeeping,
# held form text, pack builds, emails, the audit trail (no board page shows it), and the data
# version and page cache themselves
UNVERSIONED = WRITABLE_ON_READ | {"login_attempts", "account_tokens", "outbox", "audit_events",
                                  "data_versions", "page_cache", "recovery_codes",
                                  "scheduler_heartbeats"}
# columns whose change alone is bookkeeping too (written down as "TABLE (bookkeeping)", so
# that a GET is still refused them)
UNVERSIONED_COLUMNS = {"users": frozenset({"last_signed_in_at", "totp_last_step"})}
_BOOKKEEPING = frozenset(f"{table} (bookkeeping)" for table in UNVERSIONED_COLUMNS)
_WRITTEN = "tracker.written"  # session.info: the tables this transaction wrote
_TABLE_OF_SQL = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"
                           r"[\"`]?(\w+)", re.IGNORECASE)
BUMP = "UPDATE data_versions SET number = number + 1 WHERE id = 1"
# the tables the plan's shape is read from (priorities, commitments, actions, who owns and
# leads them, which themes they touch, the KPIs and their targets, revised ones included): a
# transaction that writes one of them also gives the shape a new random stamp (row 2 of
# data_versions), so that what each process keeps of the shape (tracker.reports.shape) is
# read again, while status, update, KPI value and escalation writes leave it be
SHAPE_TABLES = frozenset({"plan_loads", "priorities", "commitments", "commitment_themes",
                          "themes", "groups", "authorities", "actions", "action_themes",
                          "users", "kpis", "kpi_commitments", "kpi_themes",
                          "change_requests"})
SHAPE_ROW = 2


def _writes(db: Session, tables: set[str]) -> None:
    db.info.setdefault(_WRITTEN, set()).update(tables)
    if not db.info.get("read_only_data"):
        return
    refused = sorted(tables - WRITABLE_ON_READ)
    if refused:
        raise ReadOnlyRequest(
            f"a {request.method if has_request_context() else 'read'} request may not "
            f"write {', '.join(refused)}: pages read what is stored")


def _changed_table(instance: object, db: Session) -> str | None:
    table = getattr(type(instance), "__tablename__", None)
    if not table:
        return None
    quiet = UNVERSIONED_COLUMNS.get(str(table))
    if quiet and instance in db.dirty:
        state = inspect(instance)
        changed = {a.key for a in state.attrs if a.history.has_changes()}
        if changed <= quiet:
            return f"{table} (bookkeeping)"
    return str(table)


@event.listens_for(Session, "before_flush")
def _check_flush(db: Session, _flush: UOWTransaction, _instances: object) -> None:
    tables = set()
    for instance in (*db.new, *db.dirty, *db.deleted):
        if instance in db.dirty and not db.is_modified(instance):
            continue
        table = _changed_table(instance, db)
        if table:
            tables.add(table)
    if tables:
        _writes(db, tables)


@event.listens_for(Session, "do_orm_execute")
def _check_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _writes(state.session, {str(getattr(table, "name", table))})
    elif not state.is_select:  # text(): the table its SQL names, if it writes
        found = _TABLE_OF_SQL.match(str(state.statement))
        if found:
            _writes(state.session, {found.group(1).lower()})


def data_written(db: Session) -> bool:
    """Whether this transaction wrote what the board's pages show."""
    return bool(db.info.get(_WRITTEN, set()) - UNVERSIONED - _BOOKKEEPING)


@event.listens_for(Session, "before_commit")
def _bump_data_version(db: Session) -> None:
    """A transaction that wrote data raises the data version as it commits, so that a page
    drawn at the old version is drawn again (:mod:`tracker.views.page_cache`). The row is
    taken last, for the moment of the commit: concurrent writers queue on it only then."""
    db.flush()  # what is still pending is written, and counted, first
    if data_written(db):
        written = db.info[_WRITTEN]
        db.info[_WRITTEN] = set()
        if db.connection().exec_driver_sql(BUMP).rowcount == 0:
            db.connection().exec_driver_sql(
                "INSERT INTO data_versions (id, number) VALUES (1, 1)")
        if written & SHAPE_TABLES:
            new_shape_stamp(db)


def new_shape_stamp(db: Session) -> None:
    """Give the plan's shape a new stamp: random, so that a database restored from a backup
    or built again never repeats one a process may still hold."""
    stamp = {"stamp": random.SystemRandom().randrange(1, 2**62), "row": SHAPE_ROW}
    if db.connection().execute(text("UPDATE data_versions SET number = :stamp "
                                    "WHERE id = :row"), stamp).rowcount == 0:
        db.connection().execute(text("INSERT INTO data_versions (id, number) "
                                     "VALUES (:row, :stamp)"), stamp)


def shape_stamp(db: Session) -> int:
    """The plan shape's stamp this transaction sees (0: none yet, so nothing may be kept)."""
    number = db.connection().exec_driver_sql(
        f"SELECT number FROM data_versions WHERE id = {SHAPE_ROW}").scalar()
    return int(number or 0)


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(db: Session, transaction: Any) -> None:
    if transaction.parent is None:
        db.info.pop(_WRITTEN, None)


def data_version(db: Session) -> int:
    """The data version this transaction sees (0 before anything was written)."""
    number = db.connection().exec_driver_sql(
        "SELECT number FROM data_versions WHERE id = 1").scalar()
    return int(number or 0)


def plain_rows(db: Session, statement: ClauseElement) -> list[Any]:
    """The rows of a Core ``statement`` as the database driver gives them: plain tuples,
    without SQLAlchemy's handling of each row (at 10,000 rows, a third of the time reading
    them takes). Only for columns whose driver values need no conversion (integers, text:
    a boolean may come back as 0 or 1). The statement is still seen by
    ``before_cursor_execute`` listeners, so it is counted."""
    connection = db.connection()
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    values = compiled.construct_params()
    params: Any = (tuple(values[name] for name in compiled.positiontup or ())
                   if compiled.positional else values)
    sql = str(compiled)
    cursor = connection.connection.cursor()
    try:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None,
                                                  False)
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
