"""Serving the app: gunicorn with several worker processes, or waitress in one process.

Several workers are how production runs: each is a process with its own database
connections, and nothing one of them needs lives only in its own memory (sessions,
throttles, held text and built packs are in the database), so the workers, and web servers
on several hosts behind a load balancer, share one database and one scheduler. Each worker
builds its own app after it is forked (the app is not preloaded in the parent), so no
database connection is ever shared across a fork.

waitress serves one process with threads: for ``make run``, for a single small deployment,
and on platforms without ``fork`` (gunicorn needs it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask

from tracker.db import get_engine, read_transaction
from tracker.services.loaded_plan import current_plan

logger = logging.getLogger(__name__)

GUNICORN, WAITRESS = "gunicorn", "waitress"
TIMEOUT_SECONDS = 60  # a worker silent this long is restarted (packs are built elsewhere)


def can_fork() -> bool:
    return hasattr(os, "fork")


def choose_server(workers: int, asked: str | None) -> str:
    if asked:
        return asked
    return GUNICORN if workers > 1 and can_fork() else WAITRESS


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": TIMEOUT_SECONDS,
        "graceful_timeout": 30,
        "keepalive": 5,
        # each worker builds its app after the fork: no connection crosses it
        "preload_app": False,
        # the client's address and scheme come from TRACKER_PROXIES (ProxyFix), not here
        "forwarded_allow_ips": "",
        "proc_name": "tracker",
        # no control socket: it would be one per user, shared by every instance they run
        "control_socket_disable": True,
        # gunicorn's own lines in the tracker's log format; no access log of its own (the
        # tracker writes one line per request, tracker.logs)
        "logger_class": tracker_logs_for_gunicorn(),
    }


def tracker_logs_for_gunicorn() -> type:
    from gunicorn.glogging import Logger  # noqa: PLC0415 - only the chosen server is loaded

    class ThroughTrackerLogs(Logger):  # type: ignore[misc]
        """gunicorn's error log passed to the process's logging (:func:`tracker.logs.configure`),
        so that with ``TRACKER_LOG_FORMAT=json`` every line is JSON; its access log stays
        off."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for handler in list(self.error_log.handlers):
                self.error_log.removeHandler(handler)
            self.error_log.propagate = True

    return ThroughTrackerLogs


def run_gunicorn(make_app: Callable[[], Flask], options: dict[str, Any]) -> None:
    """Run gunicorn in this process as its master, each worker calling ``make_app``."""
    from gunicorn.app.base import BaseApplication  # noqa: PLC0415 - only the chosen server is loaded

    class TrackerServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            app = make_app()
            read_plan_ahead(app)
            return app

    TrackerServer().run()


def read_plan_ahead(app: Flask) -> None:
    """Read the loaded plan into this process before it serves anyone, so that no person's
    request waits for it (at 10,000 actions, half a second to a second and a half).

    A database not set up yet, or one without a plan, is left for the first request to meet.
    The plan is kept by this process (:mod:`tracker.services.loaded_plan`), and by the
    processes it forks.
    """
    try:
        with app.app_context(), read_transaction() as db:
            current_plan(db)
    except Exception as error:  # noqa: BLE001 - serving starts anyway; the page will say
        logger.warning("the loaded plan was not read ahead: %s", error)
    finally:  # its connection closed: a server that forks after this shares none
        get_engine(app).dispose()


def run_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    import waitress  # noqa: PLC0415 - only the chosen server is loaded

    # waitress drops X-Forwarded-* from a proxy it was not told to trust; the tracker trusts
    # TRACKER_PROXIES of them itself (ProxyFix), as under gunicorn, so they reach the app
    waitress.serve(app, host=host, port=port, threads=threads, ident="tracker",
                   clear_untrusted_proxy_headers=False)
