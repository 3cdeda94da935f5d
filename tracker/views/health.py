"""``/healthz`` and ``/readyz``: for a load balancer or a monitor, no sign-in needed.

- ``/healthz``: the process answers (it reads nothing, so it stays cheap and says nothing
  about the database).
- ``/readyz``: the database answers ``SELECT 1`` and is at this code's migration head;
  otherwise 503 with the reason, never a secret or a stack trace.

Both are GETs that write nothing, and are answered over plain HTTP even in production (a
load balancer checks its backends directly); they set no cookie.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from tracker import access
from tracker.db import get_engine
from tracker.services import health

bp = Blueprint("health", __name__)

PLAIN_HTTP_ENDPOINTS = frozenset({"health.healthz", "health.readyz"})


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@access.public
def healthz() -> Response:
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
@access.public
def readyz() -> Response:
    found = health.readiness(get_engine(current_app))
    body = {"status": "ok" if found.ready else "unavailable", "reason": found.reason,
            "migration": found.revision, "expected_migration": found.head}
    response = _no_store(jsonify(body))
    response.status_code = 200 if found.ready else 503
    return response
