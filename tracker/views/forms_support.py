"""Never lose what someone typed: held submissions and expired forms.

Two things can go wrong between opening a form and submitting it: the sign-in session ends
(idle timeout, or the laptop slept), or the form's CSRF token expires. In both cases nothing
is saved, and the text comes back: a form whose view is marked ``@keeps_text`` is re-shown
with what was typed. When the session had ended, the text is held on the server (for a day,
for this browser only) while the person signs in again, then put back into the form.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from tracker.db import get_session
from tracker.models import utcnow
from tracker.services import held_submissions

F = TypeVar("F", bound=Callable[..., Any])
KEEPS_TEXT = "_tracker_keeps_text"
HELD_KEY = "held_submission"
EXPIRED_MESSAGE = ("Your form had expired, so nothing was saved yet. What you typed is below: "
                   "check it and submit it again.")


def keeps_text(view: F) -> F:
    setattr(view, KEEPS_TEXT, True)
    return view


def _keeps_text(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, KEEPS_TEXT, False))


def hold_submission() -> Response | None:
    """For a signed-out POST to a text-keeping form: hold the text, then ask to sign in."""
    if request.method != "POST" or not _keeps_text(request.endpoint):
        return None
    typist = g.get("ended_user_id")
    if typist is None:
        return None  # nobody was signed in on this browser: there is nobody to keep it for
    data = {k: v for k, v in request.form.to_dict(flat=False).items() if k != "csrf_token"}
    token = secrets.token_urlsafe(24)
    held_submissions.hold(get_session(), token, typist, request.path, data, utcnow())
    # committed with the request (it returns normally): the text is safe before the redirect
    session[HELD_KEY] = token
    flash("You were signed out before your form was saved. We have kept what you typed: sign "
          "in again and it will be waiting for you.", "info")
    return redirect(url_for("auth.sign_in", next=request.path))


def take_held(path: str, user_id: int) -> MultiDict[str, str] | None:
    """The text held for this form in this browser, once, for the person who typed it."""
    token = session.get(HELD_KEY)
    if not token:
        return None
    form = held_submissions.take(get_session(), token, path, user_id, utcnow())
    if form is None:
        return None
    session.pop(HELD_KEY, None)
    pairs = [(key, value) for key, values in form.items() for value in values]
    return MultiDict(pairs)


def csrf_expired() -> bool:
    return bool(g.get("csrf_expired"))


def _csrf_error(error: CSRFError) -> Any:
    if _keeps_text(request.endpoint):
        g.csrf_expired = True
        view = current_app.view_functions[request.endpoint or ""]
        return view(**(request.view_args or {}))
    return render_template("errors/error.html", code=400, error=error, csrf=True), 400


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.extensions["tracker.hold_submission"] = hold_submission
