"""The outbox: queue an email in the caller's transaction; read and retry them as an admin.

Every email the tracker sends is first a row of ``outbox`` (``tracker.models.OutboxMessage``)
written by :func:`queue`, in the same transaction as whatever caused it, so that an email goes
out only if that change was committed, and never twice: each row has a unique ``key`` naming
the job, the rule, the item, the period, the step and the recipient, e.g.
``"reminders|2026/27 Q2|step+7|owner|someone@example.org"``. Queuing a key that already
exists writes nothing and returns ``None``. ``notifications.delivery`` sends the rows later.

Nothing here commits: services flush, the boundary commits. The statements the deliverer
runs (claiming a due row, marking it sent, recording an outage) are here too;
``notifications.delivery`` commits after each, as its docstring explains.

Header injection: addresses must each be one plain address (no display name, no comma, no
line break, no space), or :class:`InvalidAddress` is raised; line breaks and other control
characters in a subject become spaces. The composed message is built with
``email.policy.SMTP``, which refuses line breaks in any header as a second guard.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from jinja2 import Environment
from sqlalchemy import CursorResult, func, literal, select, update
from sqlalchemy.orm import Session

from tracker.models import OutboxMessage, Partnership, User
from tracker.models.base import UTCDateTime, utcnow
from tracker.models.outbox import FAILED, QUEUED, SENT
from tracker.services import audit

STATES = (QUEUED, SENT, FAILED)
# an email the server refuses is tried again for this long after its first try, then failed
RETRY_HOURS = 24
RETRY_WINDOW = timedelta(hours=RETRY_HOURS)
# the wait after the 1st, 2nd, 3rd, 4th and 5th refused try; after that, the last one again
BACKOFF_MINUTES = (1, 5, 15, 30, 60, 180)
PER_PAGE = 50
KEY_LENGTH = 500
SUBJECT_LENGTH = 500

# one address: local@domain, nothing that could end a header or add a recipient
_ADDRESS = re.compile(r"[^\s@,;:<>()\[\]\\\"]+@[^\s@,;:<>()\[\]\\\"]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class InvalidAddress(ValueError):
    """An email address that is not exactly one plain address."""


class OutboxRefused(Exception):
    """An admin's request about a message cannot be done; the message says why."""


def check_address(address: str) -> str:
    """``address`` stripped, if it is one plain ``local@domain`` address; else raise."""
    cleaned = (address or "").strip()
    if len(cleaned) > 320 or not _ADDRESS.fullmatch(cleaned):
        raise InvalidAddress(f"{address!r} is not a single email address")
    return cleaned


def clean_subject(subject: str) -> str:
    """The subject on one line: line breaks and control characters become spaces."""
    one_line = " ".join(_CONTROL.sub(" ", subject or "").split())
    return one_line[:SUBJECT_LENGTH]


def backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` refused tries before the next one."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[index])


def next_try(first_attempt_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again an email whose try at ``now`` failed; ``None``: it has failed.

    The wait grows with ``attempts`` (:func:`backoff`) but never runs past the end of the
    retry window, so the last try is made a day (``RETRY_WINDOW``) after the first, and a
    try that fails at or after that moment is the last.
    """
    window_ends = first_attempt_at + RETRY_WINDOW
    if now >= window_ends:
        return None
    return min(now + backoff(attempts), window_ends)


def queue(session: Session, *, key: str, kind: str, to: str, subject: str, text: str,
          html: str, cc: Iterable[str] = (), send_after: datetime | None = None,
          ) -> OutboxMessage | None:
    """Queue one email under ``key``; ``None`` (and nothing written) if the key exists.

    Flushes, never commits. The check finds rows committed earlier and rows this session
    added; the unique constraint on ``key`` is the final guard against a concurrent writer
    (its transaction then fails with ``IntegrityError`` and must be rolled back whole, which
    is right: the email belongs with the change that caused it).
    """
    if not key or len(key) > KEY_LENGTH or _CONTROL.search(key):
        raise ValueError(f"an outbox key must be 1 to {KEY_LENGTH} printable characters")
    to_address = check_address(to)
    copies = [check_address(address) for address in cc]
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return None
    now = utcnow()
    message = OutboxMessage(
        key=key, kind=kind, to_address=to_address, cc=copies, subject=clean_subject(subject),
        text_body=text, html_body=html, created_at=now, send_after=send_after or now,
        attempts=0,
    )
    session.add(message)
    session.flush()
    return message


def is_queued(session: Session, key: str) -> bool:
    """Whether an email is queued under ``key`` already (committed, or added in this session)."""
    return session.scalars(select(OutboxMessage.id)
                           .where(OutboxMessage.key == key)).first() is not None


def partnership_name(session: Session) -> str:
    """The partnership's name, for subjects and the email layout."""
    name = session.scalar(select(Partnership.name).limit(1))
    return name or "Community safety partnership"


@dataclass(frozen=True)
class MailTemplates:
    """What writing an email needs from the app: its templates and its address."""

    env: Environment
    base_url: str
    password_sign_in: bool = True
    """False when people sign in only with their organisation's account (single sign-on)."""
    sso_label: str = ""
    """The single sign-on button's words, when single sign-on is on."""

    @classmethod
    def of(cls, app: Flask) -> MailTemplates:
        sso_on = bool(app.config.get("OIDC_ISSUER"))
        return cls(app.jinja_env, str(app.config.get("BASE_URL") or "").rstrip("/"),
                   password_sign_in=bool(app.config.get("PASSWORD_SIGN_IN", True)),
                   sso_label=str(app.config.get("OIDC_LABEL") or "") if sso_on else "")

    def render(self, template: str, *, partnership_name: str, **context: Any
               ) -> tuple[str, str]:
        """The text and HTML bodies of ``templates/email/<template>.txt`` and ``.html``,
        without a request (jobs and commands have none): HTML is autoescaped, text is not."""
        context.update(partnership_name=partnership_name)
        context.setdefault("base_url", self.base_url)
        text = self.env.get_template(f"email/{template}.txt").render(**context)
        html = self.env.get_template(f"email/{template}.html").render(**context)
        return text.strip() + "\n", html


# -- the admin's outbox page -------------------------------------------------------------


@dataclass(frozen=True)
class OutboxPage:
    messages: list[OutboxMessage]
    page: int
    pages: int
    total: int


def _where(state: str | None) -> list[Any]:
    if state == SENT:
        return [OutboxMessage.sent_at.is_not(None)]
    if state == FAILED:
        return [OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_not(None)]
    if state == QUEUED:
        return [OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)]
    return []


def find(session: Session, state: str | None = None, page: int = 1,
         per_page: int = PER_PAGE) -> OutboxPage:
    """One page of messages (all, or those in ``state``), newest first."""
    where = _where(state)
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    messages = list(session.scalars(
        select(OutboxMessage).where(*where).order_by(OutboxMessage.id.desc())
        .offset((page - 1) * per_page).limit(per_page)))
    return OutboxPage(messages=messages, page=page, pages=pages, total=total)


def message(session: Session, message_id: int) -> OutboxMessage | None:
    """One message in the outbox, by its id."""
    return session.get(OutboxMessage, message_id)


def counts(session: Session) -> dict[str, int]:
    """How many messages are queued, sent and failed."""
    return {state: session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(*_where(state))) or 0
            for state in STATES}


def retry(session: Session, admin: User | str, message: OutboxMessage,
          now: datetime | None = None) -> None:
    """Give a failed message a new day of tries, starting now. Flushes, never commits."""
    if message.state != FAILED:
        raise OutboxRefused("Only a message that failed can be tried again: this one is "
                            f"{message.state}")
    now = now or utcnow()
    old = {"attempts": message.attempts, "first_attempt_at": message.first_attempt_at,
           "failed_at": message.failed_at, "last_error": message.last_error}
    message.failed_at = None
    message.attempts = 0
    message.first_attempt_at = None
    message.send_after = now
    audit.record(session, admin, "outbox.retried", "email", message.key,
                 f"{message.kind} email to {message.to_address} will be tried again",
                 old=old, new={"attempts": 0, "first_attempt_at": None, "failed_at": None,
                               "send_after": now})
    session.flush()


# -- delivery: the statements notifications.delivery runs, committing after each ---------


def _due(now: datetime) -> list[Any]:
    return [OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
            OutboxMessage.send_after <= now]


def _moment(now: datetime) -> Any:
    """``now`` as a bound value of the outbox's own datetime type."""
    return literal(now, UTCDateTime())


def pending_count(session: Session, now: datetime) -> int:
    """How many emails are due now."""
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(*_due(now))) or 0


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """The ids of up to ``limit`` emails due at ``now``, oldest first."""
    return list(session.scalars(select(OutboxMessage.id).where(*_due(now))
                                .order_by(OutboxMessage.id).limit(limit)))


def claim(session: Session, message_id: int, now: datetime, lease_until: datetime) -> bool:
    """Take a due email for one try until ``lease_until``, with one conditional ``UPDATE``
    (``attempts + 1``, the try's times, ``send_after`` moved to the lease's end); False if
    it is no longer due (another deliverer has it, or sent it). The caller commits at once."""
    claimed = cast("CursorResult[Any]", session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, *_due(now))
        .values(attempts=OutboxMessage.attempts + 1, last_attempt_at=now,
                first_attempt_at=func.coalesce(OutboxMessage.first_attempt_at, _moment(now)),
                send_after=lease_until)
        .execution_options(synchronize_session=False)
    ))
    return bool(claimed.rowcount == 1)


def claimed_message(session: Session, message_id: int) -> OutboxMessage:
    """The email just claimed, read afresh (not as this session last saw it)."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    assert message is not None
    return message


def record_outage(session: Session, now: datetime, text: str) -> int:
    """The SMTP server cannot be used at ``now``: every due email stays due, with ``text``
    as its last error and no backoff; those first tried ``RETRY_WINDOW`` ago or more are
    marked failed. Returns how many were. The caller commits."""
    session.execute(
        update(OutboxMessage).where(*_due(now))
        .values(last_error=text, last_attempt_at=now,
                first_attempt_at=func.coalesce(OutboxMessage.first_attempt_at, _moment(now)))
        .execution_options(synchronize_session=False))
    expired = cast("CursorResult[Any]", session.execute(
        update(OutboxMessage)
        .where(*_due(now), OutboxMessage.first_attempt_at <= now - RETRY_WINDOW)
        .values(failed_at=now)
        .execution_options(synchronize_session=False)))
    return int(expired.rowcount)


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    """Record that the email was handed to the SMTP server at ``now``. The caller commits."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(sent_at=now, last_error=None)
                    .execution_options(synchronize_session=False))
