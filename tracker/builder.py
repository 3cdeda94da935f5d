"""The pack builder: ``tracker worker`` builds the board packs people ask for, never a web
worker.

It claims queued builds (:func:`tracker.services.packs.claim`: at most ``AT_ONCE`` at a time
across every builder, on every host), and makes each one in a fresh child process
(``forkserver``, with the heavy modules loaded once): the child's memory, a PDF's hundreds of
megabytes at a large partnership's size, goes back to the system when it ends, and a child
that crashes takes nothing else with it (its build is tried again, then marked failed). The
children run at a lower priority (``nice``), so that web requests on the same machine go
first. While a build runs, the builder renews its lease every few seconds; a builder that
dies leaves its builds to be claimed again once their leases lapse. It also deletes
finished builds older than a week, once an hour. Between builds, at most every half
minute and only after the data changed, it draws the board's first pages ahead (the
dashboard, the exception report and the trend, as a board member sees them: see
:mod:`tracker.views.page_cache`), so that a board member opening them after a change finds
them drawn.

``make run`` starts one beside the web server and the scheduler; in production, run one per
database (or more: they share the work), under systemd like the scheduler.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from flask import Flask
from sqlalchemy import text

from tracker.app import create_app
from tracker.db import begin_write, get_engine, get_session, new_session, transaction
from tracker.models import PackBuild, utcnow
from tracker.models.packs import BUILDING, QUEUED
from tracker.reports.figures import Filters
from tracker.reports.pack import render
from tracker.services import packs
from tracker.services.layouts import Choice
from tracker.services.plan_load import current_plan
from tracker.views import page_cache

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
RENEW_SECONDS = 15.0
PURGE_SECONDS = 3600.0
WARM_SECONDS = 30.0  # at most this often, and only after a change: the board's first pages
CLAIM_LOCK_KEY = 0x7061_636B  # "pack": PostgreSQL advisory lock around a claim
PRELOAD = ["tracker", "tracker.reports.pack", "tracker.reports.pack_xlsx", "weasyprint"]


# -- one build -------------------------------------------------------------------------------


def build(app: Flask, build_id: int) -> bool:
    """Make one claimed build and store it (or its failure). Returns whether it is ready."""
    def tell(step: str, percent: int) -> None:
        progress = new_session(app)
        try:
            begin_write(progress)
            packs.report(progress, build_id, step, percent)
            progress.commit()
        finally:
            progress.close()

    with app.app_context():
        db = get_session()
        found = db.get(PackBuild, build_id)
        if found is None or found.state != BUILDING:
            return False
        fmt, label, today = found.format, found.quarter, found.today
        filters = Filters(**found.filters)
        choice = Choice.from_dict(found.layout or {})
        db.rollback()
        try:
            plan = current_plan(db)
            if plan is None:
                raise RuntimeError("no plan is loaded")
            quarter = plan.partnership.calendar.parse_quarter(label)
            made = render(fmt, db, plan, today, quarter, filters, env=app.jinja_env,
                          progress=tell, choice=choice)
            tell("Saving the file", 95)
            db.rollback()  # the long read ends before the write begins
        except Exception as error:  # noqa: BLE001 - any failure is the build's, and recorded
            logger.exception("pack build %s failed", build_id)
            db.rollback()
            with transaction() as writing:
                failed = writing.get(PackBuild, build_id)
                if failed is not None:
                    packs.fail(writing, failed,
                               f"The pack could not be made: {type(error).__name__}: {error}",
                               utcnow())
            return False
        with transaction() as writing:
            done = writing.get(PackBuild, build_id)
            if done is None:
                return False
            packs.finish(writing, done, made.content, made.filename, made.mimetype,
                         made.summary, utcnow())
        logger.info("pack build %s ready: %s %s (%s)", build_id, fmt, label, made.summary)
        return True


def build_in_child(config: dict[str, Any], build_id: int) -> bool:
    """A child process's whole life: an app of its own, one build, then it ends."""
    try:
        os.nice(10)
    except OSError:  # pragma: no cover - not allowed here: build at the same priority
        pass
    app = create_app(config)
    try:
        return build(app, build_id)
    finally:
        get_engine(app).dispose()


# -- claiming --------------------------------------------------------------------------------


def claim_next(app: Flask) -> int | None:
    """Claim the next build waiting, if there is a free slot; its id."""
    with app.app_context(), transaction() as db:
        engine = get_engine(app)
        if engine.url.get_backend_name() == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
        claimed = packs.claim(db, utcnow())
        return claimed.id if claimed is not None else None


def _renew(app: Flask, build_ids: list[int]) -> None:
    with app.app_context(), transaction() as db:
        packs.renew(db, build_ids, utcnow())


def _purge(app: Flask) -> None:
    with app.app_context(), transaction() as db:
        deleted = packs.purge(db, utcnow())
    if deleted:
        logger.info("deleted %d pack builds older than a week", deleted)


def _child_died(app: Flask, build_id: int, error: BaseException) -> None:
    """The child making a build died: it is tried again (once its lease is let go), or, after
    ``ATTEMPTS`` tries, marked failed."""
    with app.app_context(), transaction() as db:
        found = db.get(PackBuild, build_id)
        if found is None or found.state != BUILDING:
            return
        if found.attempts >= packs.ATTEMPTS:
            packs.fail(db, found, f"Making the pack stopped its process each of "
                       f"{found.attempts} times it was tried ({type(error).__name__})", utcnow())
        else:
            found.state, found.claimed_until = QUEUED, None
            found.step = "Waiting to start again"


# -- the builder -----------------------------------------------------------------------------


def build_waiting(app: Flask) -> int:
    """Build, here and now, one after another, every build waiting (for tests and
    ``tracker worker --once``). Returns how many were made ready."""
    ready = 0
    while (build_id := claim_next(app)) is not None:
        ready += build(app, build_id)
    return ready


def _pool(slots: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=slots, mp_context=context, max_tasks_per_child=1)


def serve(app: Flask, stop: threading.Event | None = None, slots: int = packs.AT_ONCE,
          in_process: bool = False) -> None:
    """Build packs until ``stop`` is set (or SIGTERM/SIGINT, when run as ``tracker worker``).

    ``in_process``: build in threads of this process rather than children (the browser
    tests, which serve the app in their own process, use it).
    """
    stop = stop or threading.Event()
    config = {"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": app.config["SECRET_KEY"],
              "BASE_URL": app.config["BASE_URL"]}
    running: dict[int, Future[bool]] = {}
    executor: Executor | None = None
    last_renew = last_purge = last_warm = 0.0
    drawn_at: int | None = None  # the data version the board's first pages were drawn at
    try:
        while not stop.is_set():
            for build_id, future in list(running.items()):
                if future.done():
                    del running[build_id]
                    error = future.exception()
                    if error is not None:
                        logger.error("the process making pack build %s died: %r", build_id,
                                     error)
                        _child_died(app, build_id, error)
                        if isinstance(error, BrokenProcessPool) and executor is not None:
                            executor.shutdown(wait=False, cancel_futures=True)
                            executor = None
            claimed = None
            if len(running) < slots:
                claimed = claim_next(app)
            if claimed is not None:
                if executor is None:
                    executor = (ThreadPoolExecutor(max_workers=slots) if in_process
                                else _pool(slots))
                if in_process:
                    running[claimed] = executor.submit(build, app, claimed)
                else:
                    running[claimed] = executor.submit(build_in_child, config, claimed)
                logger.info("building pack %s", claimed)
                continue
            now = time.monotonic()
            if running and now - last_renew >= RENEW_SECONDS:
                _renew(app, list(running))
                last_renew = now
            if now - last_purge >= PURGE_SECONDS:
                _purge(app)
                last_purge = now
            if not running and now - last_warm >= WARM_SECONDS:
                drawn_at = _warm(app, drawn_at)
                last_warm = time.monotonic()
            stop.wait(POLL_SECONDS)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=False)


def _warm(app: Flask, drawn_at: int | None) -> int | None:
    """Draw the board's first pages ahead if the data changed (:func:`page_cache.warm`)."""
    try:
        return page_cache.warm(app, drawn_at)
    except Exception:  # noqa: BLE001 - drawing ahead is a courtesy: builds go on
        logger.exception("drawing the board's pages ahead failed")
        return drawn_at


def run_forever(app: Flask) -> None:
    """``tracker worker``: build packs until SIGTERM or Ctrl+C."""
    stop = threading.Event()

    def finish(signum: int, _frame: object) -> None:
        logger.info("signal %d: the builder stops once the builds under way are done", signum)
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    logger.info("pack builder started (pid %d), %d at a time", os.getpid(), packs.AT_ONCE)
    serve(app, stop)
    logger.info("pack builder stopped")
