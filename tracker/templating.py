"""What every page's template gets: the partnership's name, navigation, a CSP nonce,
and the filters pages share (dates, periods)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app, g, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from plans import periods
from tracker import sso
from tracker.access import is_admin
from tracker.clock import LONDON
from tracker.db import get_session, has_failed
from tracker.models import Partnership
from tracker.models.base import utcnow
from tracker.services import health
from tracker.views.health import PLAIN_HTTP_ENDPOINTS

logger = logging.getLogger(__name__)

# name -> (text, endpoint, endpoints that make it current); each role's nav lists names
PLACES = {
    "home": ("Overview", "admin.home", ("admin.home", "updates.quarters", "admin.audit",
                                        "outbox.index", "outbox.message", "kpi_import.upload",
                                        "layouts.index", "layouts.new", "layouts.edit")),
    "my_actions": ("My actions", "updates.my_actions", ("updates.my_actions",
                                                        "updates.update")),
    "board": ("Board", "board.dashboard", ("board.dashboard", "board.priority",
                                           "board.commitment", "board.exceptions",
                                           "board.trend", "board.pack_status")),
    "plan": ("Plan", "plan.overview", ("plan.overview", "plan.priority", "plan.commitment",
                                       "plan.action")),
    "kpis": ("KPIs", "kpis.index", ("kpis.index", "kpis.detail", "kpis.enter_value")),
    "escalations": ("Escalations", "escalations.index", ("escalations.index",
                                                         "escalations.detail")),
    "changes": ("Change requests", "changes.index", ("changes.index", "changes.detail")),
    "themes": ("Themes", "plan.themes", ("plan.themes", "plan.theme")),
    "whos_who": ("Who's who", "plan.whos_who", ("plan.whos_who",)),
    "accounts": ("Accounts", "admin.users", ("admin.users", "admin.user")),
}
"""Where the navigation can lead."""

NAVIGATION: dict[str | None, tuple[str, ...]] = {
    None: ("plan", "themes", "whos_who", "kpis"),  # not signed in
    "member": ("my_actions", "board", "plan", "kpis", "escalations"),
    "lead": ("my_actions", "board", "plan", "kpis", "escalations", "changes"),
    "board": ("board", "escalations", "plan", "kpis", "themes", "whos_who"),
    "admin": ("home", "board", "plan", "kpis", "escalations", "changes", "accounts"),
}
"""What each role's navigation shows, in order: only what the role can use, on one line at
1280 px (the admin pages beyond these are reached from the admin's overview)."""


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


DEFAULT_NAME = "Community safety partnership"
_NAME_KEY = "tracker.partnership_name"


def partnership_name() -> str:
    """The partnership's name for headers and titles: read once per request, and never from
    a request whose unit of work failed (its error page uses the name this process last saw,
    so it draws even when the database cannot be read)."""
    last_seen: str | None = current_app.extensions.get(_NAME_KEY)
    if has_failed():
        return last_seen or DEFAULT_NAME
    if "partnership_name" not in g:
        try:
            name = get_session().scalar(select(Partnership.name).limit(1))
        except SQLAlchemyError:
            logger.exception("the partnership's name could not be read")
            name = None
        if name:
            current_app.extensions[_NAME_KEY] = name
        g.partnership_name = name or last_seen or DEFAULT_NAME
    found: str = g.partnership_name
    return found


def _context() -> dict[str, Any]:
    endpoint = request.endpoint or ""
    signed_in = bool(getattr(current_user, "is_authenticated", False))
    role = getattr(current_user, "role", None) if signed_in else None
    if signed_in and is_admin(current_user):
        role = "admin"
    nav_items = [
        {"href": url_for(target), "text": text, "active": endpoint in active}
        for text, target, active in (PLACES[name] for name in NAVIGATION.get(role, ()))
        if target in current_app.view_functions
    ]
    return {
        "partnership_name": partnership_name(),
        "nav_items": nav_items,
        "csp_nonce": csp_nonce(),
        "sso_on": sso.is_on(),
        "password_on": bool(current_app.config.get("PASSWORD_SIGN_IN", True)),
        "scheduler_warning": _as_html(scheduler_warning()) if role == "admin" else None,
    }


def _as_html(warning: str | None) -> Markup | None:
    """The warning's text with its command in ``<code>``."""
    if warning is None:
        return None
    before, _, after = warning.partition("`tracker scheduler`")
    return (Markup('<p class="govuk-notification-banner__heading">') + escape(before)
            + Markup("<code>tracker scheduler</code>") + escape(after) + Markup("</p>"))


def scheduler_warning() -> str | None:
    """For admins, on every page: the scheduler has stopped (its heartbeat is stale, or it
    never ran in production). One row read, once per request, never on an error page whose
    database failed."""
    if has_failed():
        return None
    if "scheduler_warning" not in g:
        warning = None
        try:
            beat_at = health.last_heartbeat(get_session())
        except SQLAlchemyError:
            logger.exception("the scheduler's heartbeat could not be read")
            beat_at = None
        else:
            expected = current_app.config.get("ENV_NAME") == "production"
            if health.scheduler_stopped(beat_at, utcnow(), expected=expected):
                since = "has never run on this database"
                if beat_at is not None:
                    local = beat_at.astimezone(LONDON)
                    since = (f"has not run since {local:%H:%M} on "
                             f"{periods.day_month(local.month, local.day)}")
                warning = (f"The scheduler {since}: reminders and escalations are not "
                           "being sent. Ask IT to check the `tracker scheduler` service.")
        g.scheduler_warning = warning
    found: str | None = g.scheduler_warning
    return found


def long_date(value: date | datetime | None) -> str:
    """``31 March 2025``, as GOV.UK writes dates."""
    if value is None:
        return ""
    return periods.long_date(value)


def long_datetime(value: datetime | None) -> str:
    """``25 November 2026 14:03 UTC``: a moment, always in UTC and saying so."""
    if value is None:
        return ""
    return periods.long_moment(value)


def _security_headers(response: Response) -> Response:
    nonce = g.get("csp_nonce")
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure or current_app.config.get("HTTPS"):
        response.headers.setdefault("Strict-Transport-Security",
                                    "max-age=31536000; includeSubDomains")
    if getattr(current_user, "is_authenticated", False) or request.endpoint in (
            "auth.sign_in", "auth.set_password"):
        response.headers["Cache-Control"] = "no-store"
    return response


PLAIN_HTTP_REFUSED = (
    "This tracker is served over HTTPS only: open it with an address that starts with "
    "https://. If you did, the reverse proxy in front of it is not trusted to say so: its "
    "administrator sets TRACKER_PROXIES to the number of proxies, and the proxy sends "
    "X-Forwarded-Proto.\n")


def _refuse_plain_http() -> Response | None:
    """In production, a request that did not come over HTTPS (after the trusted proxies'
    X-Forwarded-Proto) is answered with a page saying so: never a form, never a cookie.
    Not a redirect, which behind a proxy that is not trusted would loop."""
    if current_app.config.get("ENV_NAME") != "production" or request.is_secure:
        return None
    if request.endpoint in PLAIN_HTTP_ENDPOINTS:  # a load balancer's check: no cookie, no form
        return None
    return Response(PLAIN_HTTP_REFUSED, status=400, mimetype="text/plain")


def status_strip(history: Sequence[Any] | None, label: str = "Status by quarter") -> Markup:
    """The strip of quarters of ``macros/status.html``'s ``status_strip``, drawn here: the
    board's pages draw hundreds (the trend, thousands of quarters), and a macro's call
    would cost most of each. Every value is escaped."""
    if not history:
        return Markup("")
    steps = "".join(_step(step.colour, step.quarter, step.word, step.letter)
                    for step in history)
    return Markup(f'<ol class="app-strip" aria-label="{escape(label)}, '
                  f'{escape(history[0].quarter)} to {escape(history[-1].quarter)}">'
                  f"{steps}</ol>")  # noqa: S704 (every value above is escaped)


@lru_cache(maxsize=1024)
def _step(colour: str, quarter: str, word: str, letter: str) -> str:
    """One quarter's box: the same few are drawn again and again."""
    colour, quarter, word, letter = (str(escape(v)) for v in (colour, quarter, word, letter))
    return (f'<li class="app-strip__step app-strip__step--{colour}" title="{quarter}: '
            f'{word}"><span aria-hidden="true">{letter}</span><span '
            f'class="govuk-visually-hidden">{quarter}: {word}</span></li>')


def init_app(app: Flask) -> None:
    app.before_request(_refuse_plain_http)
    app.context_processor(_context)
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["long_datetime"] = long_datetime
    app.jinja_env.globals["status_strip_html"] = status_strip
    app.after_request(_security_headers)
