"""What every page's template gets: the partnership's name, navigation, a CSP nonce,
and the filters pages share (dates, periods)."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Response, current_app, g, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from tracker.db import get_session, has_failed
from tracker.models import Partnership

logger = logging.getLogger(__name__)

# (text, endpoint, endpoints that make it current, who sees it: None for everyone)
NAVIGATION = (
    ("Plan", "plan.overview", ("plan.overview", "plan.priority", "plan.commitment",
                               "plan.action"), None),
    ("Board", "board.dashboard", ("board.dashboard", "board.priority", "board.commitment",
                                  "board.exceptions", "board.trend"), "signed_in"),
    ("Escalations", "escalations.index", ("escalations.index", "escalations.detail"),
     "signed_in"),
    ("Themes", "plan.themes", ("plan.themes", "plan.theme"), None),
    ("Who's who", "plan.whos_who", ("plan.whos_who",), None),
    ("KPIs", "kpis.index", ("kpis.index", "kpis.detail", "kpis.enter_value",
                                    "kpi_import.upload"), None),
    ("My actions", "updates.my_actions", ("updates.my_actions", "updates.update"), "signed_in"),
    ("Quarters", "updates.quarters", ("updates.quarters",), "admin"),
    ("Accounts", "admin.users", ("admin.users", "admin.user"), "admin"),
    ("Audit trail", "admin.audit", ("admin.audit",), "admin"),
    ("Outbox", "outbox.index", ("outbox.index", "outbox.message"), "admin"),
    ("Your account", "auth.account", ("auth.account",), "signed_in"),
)


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
    from flask_login import current_user

    from tracker.access import is_admin

    signed_in = bool(getattr(current_user, "is_authenticated", False))
    allowed = {None, *(["signed_in"] if signed_in else []),
               *(["admin"] if is_admin(current_user) else [])}
    nav_items = [
        {"href": url_for(target), "text": text, "active": endpoint in active}
        for text, target, active, who in NAVIGATION if who in allowed
        and target in current_app.view_functions
    ]
    return {
        "partnership_name": partnership_name(),
        "nav_items": nav_items,
        "csp_nonce": csp_nonce(),
    }


def long_date(value: date | datetime | None) -> str:
    """``31 March 2025``, as GOV.UK writes dates."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def long_datetime(value: datetime | None) -> str:
    """``25 November 2026 14:03 UTC``: a moment, always in UTC and saying so."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{value.day} {value:%B %Y %H:%M} UTC"


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
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security",
                                    "max-age=31536000; includeSubDomains")
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) or request.endpoint in (
            "auth.sign_in", "auth.set_password"):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.context_processor(_context)
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["long_datetime"] = long_datetime
    app.after_request(_security_headers)
