"""The error pages: HTTP errors, and "try again" when the database could not take a change.

Both are drawn after the request's unit of work was rolled back, and neither reads the
database: the partnership's name comes from what this process last saw
(:func:`tracker.templating.partnership_name`).
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException

from tracker.db import DatabaseBusy
from tracker.views import note_security
from tracker.views.api import json_error

RETRY_AFTER_SECONDS = 5
# fields never echoed back on the "try again" page
HIDDEN = frozenset({"csrf_token", "password", "current", "confirm"})


def render_error(error: HTTPException) -> tuple[str, int] | Response:
    if request.path.startswith("/api/"):  # the read API answers in JSON, even here
        return json_error(error)
    code = error.code or 500
    if code == 403:
        user = current_user
        who = user.email if getattr(user, "is_authenticated", False) else ""
        role = getattr(user, "role", "") if who else "not signed in"
        note_security("access.forbidden", who, f"{role}: {request.endpoint or 'no page'}")
    return render_template("errors/error.html", error=error, code=code), code


def label(name: str) -> str:
    """``corrective_action`` as ``Corrective action``."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def busy_page(_error: DatabaseBusy) -> tuple[str, int, dict[str, str]]:
    """Nothing was saved: what was sent comes back, ready to send again as it was."""
    sent = [] if request.method != "POST" else [
        (name, value) for name, values in request.form.lists() if name not in HIDDEN
        for value in values]
    shown = [(label(name), value) for name, value in sent if value.strip()]
    return render_template(
        "errors/busy.html", fields=sent, shown=shown, target=request.full_path.rstrip("?"),
        fresh_token=generate_csrf(), had_files=bool(request.files),
        has_password=any(name in request.form for name in HIDDEN - {"csrf_token"}),
        is_post=request.method == "POST",
    ), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def init_app(app: Flask) -> None:
    for code in (400, 403, 404, 405, 500):
        app.register_error_handler(code, render_error)
