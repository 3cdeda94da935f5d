"""Request ids and the logs: one line per request, text or JSON lines.

Every request has an id: the ``X-Request-ID`` a proxy sent, when it is short and plain (at
most :data:`LONGEST_ID` letters, digits, ``.``, ``_`` or ``-``), else one made here. It is on
``g.request_id``, in the response's ``X-Request-ID`` header, on the error pages ("give this
reference") and in every security log line, so what a person saw, what the proxy logged and
what an admin reads can be matched.

When a request is answered (after its unit of work committed or was given up, so a request
run again after a busy database is one line), logger ``tracker.requests`` writes one line:
method, path, status, milliseconds, request id and the signed-in user's id. The path never
carries the query string (a sign-in callback's code, a page number: left out alike), and a
path with a token in it (``/account/set-password/<token>``) is logged as its route.

:func:`configure` sets up the process's logging once, for the server and the long-running
commands (``tracker serve``, ``tracker.wsgi``, ``tracker scheduler``, ``tracker worker``):
text lines by default, or one JSON object a line with ``TRACKER_LOG_FORMAT=json``
(:data:`JSON_KEYS`, and a request's fields when the line is about one). Under gunicorn its
own access log stays off, so each request is logged once.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

requests_log = logging.getLogger("tracker.requests")

HEADER = "X-Request-ID"
LONGEST_ID = 64
_SAFE_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{LONGEST_ID}}}")
JSON_KEYS = ("time", "level", "logger", "message")
"""The keys of every JSON line; a line inside a request adds ``request_id``, and the access
line adds :data:`ACCESS_KEYS`."""
ACCESS_KEYS = ("method", "path", "status", "duration_ms", "request_id", "user_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STARTED = "tracker.request_started"


def request_id_from(sent: str | None) -> str:
    """The id a proxy sent, if it is safe to echo and to log; else a new one."""
    if sent is not None and _SAFE_ID.fullmatch(sent):
        return sent
    return secrets.token_hex(8)


def stamp() -> None:
    """Before anything else in a request: its id, and when it started (kept when the request
    is run again after a busy database)."""
    if "request_id" not in g:
        g.request_id = request_id_from(request.headers.get(HEADER))
        g.setdefault(_STARTED, time.perf_counter())


def logged_path() -> str:
    """The request's path as it may be logged: no query string, and no token."""
    rule = request.url_rule
    if rule is not None and any("token" in name for name in (request.view_args or {})):
        return rule.rule
    return request.path


def _user_id() -> int | None:
    """The signed-in user's id, if this request already looked them up (no query here)."""
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        found = getattr(user, "id", None)
        return found if isinstance(found, int) else None
    return None


def finished(response: Response) -> Response:
    """The request's answer is final: its id in the header, and its line in the log."""
    request_id = g.get("request_id") or ""
    if request_id:
        response.headers.setdefault(HEADER, request_id)
    started = g.get(_STARTED)
    duration = round((time.perf_counter() - started) * 1000, 1) if started else 0.0
    fields = {"method": request.method, "path": logged_path(), "status": response.status_code,
              "duration_ms": duration, "request_id": request_id, "user_id": _user_id()}
    requests_log.info("%s %s %s %.1fms request=%s user=%s", fields["method"],
                      _one_line(str(fields["path"])), fields["status"], duration,
                      request_id or "-", fields["user_id"] or "-", extra={"access": fields})
    return response


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


class JsonLines(logging.Formatter):
    """One JSON object a line: :data:`JSON_KEYS`, the request's id when the line was written
    during one, the access line's fields, and the traceback as ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            line.update(access)  # the request's id among them, always in the same place
        elif request_id := getattr(record, "request_id", None):
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context():
            record.request_id = g.get("request_id", "")
        return True


_MARK = "_tracker_handler"


def configure(app: Flask) -> None:
    """Send the process's log lines (INFO and up) to standard error, in the configured
    format: once per process (a second call, as each gunicorn worker builds its app, only
    sets the format again)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        setattr(handler, _MARK, True)
        handler.addFilter(_RequestIdFilter())
        root.addHandler(handler)
    json_lines = app.config.get("LOG_FORMAT") == "json"
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(TEXT_FORMAT))
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # /readyz reads the migrations


def init_app(app: Flask) -> None:
    app.before_request(stamp)
