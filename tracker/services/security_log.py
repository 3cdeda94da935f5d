"""The security log: failed and throttled sign-ins, refused pages and two-factor events
(set up, codes refused, recovery codes used, turned off or reset), for admins to read.

Each event is kept with its time, the account concerned, the client's address, the request's
id (the one on the page the person saw, and in the ``X-Request-Id`` header) and what was
asked. A sign-in keeps it with the attempt it counts (that page commits either way); a
refused page, whose request is rolled back, keeps it in a transaction of its own, best
effort (a busy database loses the event, logged, never the person's page). Old rows are
purged on a schedule (:func:`purge`, the scheduler's daily ``purge`` job): security events
after :data:`KEEP_EVENTS`, sign-in attempts after :data:`KEEP_ATTEMPTS`, ended or expired
sessions after :data:`KEEP_SESSIONS`, held form text after :data:`KEEP_HELD` and the read
API's usage log after :data:`KEEP_API_USES`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, Delete, delete, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.db import transaction_of_its_own
from tracker.models import ApiTokenUse, HeldSubmission, LoginAttempt, SecurityEvent, UserSession
from tracker.services.audit_trail import PER_PAGE, first_number, page_within

logger = logging.getLogger("tracker.security")

KINDS = {
    "sign_in.failed": "Sign-in failed",
    "sign_in.throttled": "Sign-in throttled",
    "access.forbidden": "Page refused (403)",
    "sso.failed": "Single sign-on refused",
    "mfa.enrolled": "Two-factor set up",
    "mfa.failed": "Two-factor code refused",
    "mfa.recovery_used": "Recovery code used",
    "mfa.recovery_renewed": "New recovery codes made",
    "mfa.turned_off": "Two-factor turned off",
    "mfa.reset": "Two-factor reset",
}
KEEP_EVENTS = timedelta(days=365)
KEEP_ATTEMPTS = timedelta(days=30)
KEEP_SESSIONS = timedelta(days=30)
KEEP_HELD = timedelta(days=30)
KEEP_API_USES = timedelta(days=365)  # the read API's usage log (tracker.services.api_tokens)
ID_COLUMN = 32  # security_events.request_id: the ids made here have 16 characters


@dataclass(frozen=True)
class Seen:
    """Where an event came from: the request, as the web layer saw it."""

    source: str = ""
    request_id: str = ""
    method: str = ""
    path: str = ""


def keep(app: Flask, kind: str, seen: Seen, email: str = "", detail: str = "",
         session: Session | None = None) -> None:
    """Log the event and keep it in the security log: in ``session`` (a request that commits
    whatever it finds, as a sign-in does), or else in a transaction of its own (best effort:
    for a request that is rolled back, such as a refused page)."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    if len(seen.request_id) > ID_COLUMN:  # a proxy's longer id: kept whole in the detail
        detail = f"{detail} (request {seen.request_id})".lstrip()
    event = SecurityEvent(kind=kind, email=email.strip().lower()[:320], source=seen.source[:64],
                          request_id=seen.request_id[:ID_COLUMN], method=seen.method[:10],
                          path=seen.path[:300], detail=detail[:500])
    logger.warning("%s account=%s source=%s request=%s %s %s %s", kind,
                   _one_line(event.email) or "-", _one_line(event.source) or "-",
                   _one_line(seen.request_id) or "-", event.method, _one_line(event.path),
                   _one_line(event.detail))
    if session is not None:
        session.add(event)
        return
    try:
        with transaction_of_its_own(app) as db:
            db.add(event)
    except SQLAlchemyError as error:
        logger.error("security event %s not kept: %s", kind, type(error).__name__)


def _one_line(text: str) -> str:
    """Typed text as it may go into a log line: nothing that could start a forged line."""
    return "".join(c if c.isprintable() else "?" for c in text)


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    account: str = ""
    """Part of the account's email address."""
    source: str = ""
    """The client's address, exactly."""


@dataclass(frozen=True)
class EventPage:
    events: list[SecurityEvent]
    total: int
    page: int
    pages: int

    @property
    def first_number(self) -> int:
        return first_number(self.page, self.total)

    @property
    def last_number(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def find(session: Session, filters: Filters, page: int = 1) -> EventPage:
    """The events that match, newest first, a page at a time."""
    query = select(SecurityEvent)
    if filters.kind:
        query = query.where(SecurityEvent.kind == filters.kind)
    if filters.account:
        query = query.where(SecurityEvent.email.contains(filters.account.lower(),
                                                         autoescape=True))
    if filters.source:
        query = query.where(SecurityEvent.source == filters.source)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, pages = page_within(page, total)
    events = list(session.scalars(query.order_by(SecurityEvent.at.desc(),
                                                 SecurityEvent.id.desc())
                                  .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    return EventPage(events=events, total=total, page=page, pages=pages)


def purge(session: Session, now: datetime) -> dict[str, int]:
    """Delete what is kept no longer (see the module's note); how many of each. Flushes."""
    def deleted(statement: Delete) -> int:
        return int(cast(CursorResult[Any], session.execute(statement)).rowcount or 0)

    counts = {
        "security events": deleted(
            delete(SecurityEvent).where(SecurityEvent.at < now - KEEP_EVENTS)),
        "sign-in attempts": deleted(
            delete(LoginAttempt).where(LoginAttempt.attempted_at < now - KEEP_ATTEMPTS)),
        "ended sessions": deleted(
            delete(UserSession).where(or_(
                UserSession.ended_at < now - KEEP_SESSIONS,
                UserSession.last_seen_at < now - KEEP_SESSIONS))),
        "held form text": deleted(
            delete(HeldSubmission).where(HeldSubmission.expires_at < now - KEEP_HELD)),
        "API token uses": deleted(
            delete(ApiTokenUse).where(ApiTokenUse.used_at < now - KEEP_API_USES)),
    }
    return counts
