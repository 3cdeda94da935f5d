"""Delivering the outbox over SMTP, each email once.

With no ``TRACKER_SMTP_HOST`` (the embedded default) nothing is sent: emails stay in the
outbox, where admins read them at ``/admin/outbox`` rendered as they would be sent.

With SMTP settings, :func:`deliver_pending` takes the rows that are due (not sent, not failed
for good, ``send_after`` reached), oldest first, opens one SMTP connection, and for each row:

1. **claims** it with one conditional ``UPDATE`` (``attempts + 1``, ``last_attempt_at = now``
   and ``send_after = now + CLAIM_LEASE``, only where it is still unsent, not failed and due)
   and commits. Only one deliverer's ``UPDATE`` can match, so two deliverers running at once
   never both send a row. The lease is ``send_after`` itself: a deliverer that dies holding a
   claim leaves the row to be tried again once the lease (10 minutes) has passed;
2. sends it (``smtplib``: SSL, STARTTLS or plain, with a login when a user is set, 30 s
   timeout);
3. on success sets ``sent_at`` and **commits at once**, so a run interrupted after n emails
   does not send those n again;
4. on failure records the error and, after ``MAX_ATTEMPTS`` tries, ``failed_at`` (admins see
   it on the outbox page and can try again); before that, ``send_after`` moves on by
   ``tracker.services.outbox.backoff`` (1, 5, 15, 60 minutes). A connection that cannot be
   made or is lost stops the run: the rest wait for the next one.

What is guaranteed, honestly: an email is never sent twice by two deliverers, nor by a run
repeated after it finished or was interrupted between emails. One window remains: if the
process dies after the SMTP server accepted an email and before ``sent_at`` is committed,
that single email is sent again after the lease (at-least-once for it, rather than risk
losing it). It keeps its ``Message-ID``, so the receiving side can tell it is the same one.

This module commits (it is a boundary, like a job or a command): pass it a session with
nothing else pending.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from notifications.mail import compose, recipients
from tracker.models import OutboxMessage
from tracker.services.outbox import MAX_ATTEMPTS, backoff

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
TIMEOUT_SECONDS = 30
ERROR_LENGTH = 2000
# errors after which the connection is gone: stop the run, the rest wait for the next one
CONNECTION_ERRORS = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError,
                     smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError,
                     smtplib.SMTPNotSupportedError)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls, ssl or none
    mail_from: str
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = TIMEOUT_SECONDS


@dataclass
class DeliveryResult:
    """What one run did. ``skipped``: due emails left in the outbox (no SMTP settings, or
    the run stopped); ``retry_later``: tries that failed and will be made again."""

    sent: int = 0
    failed: int = 0
    retry_later: int = 0
    skipped: int = 0
    note: str = ""
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.sent} sent, {self.retry_later} to try again later, "
                f"{self.failed} failed for good, {self.skipped} left in the outbox")
        return f"{text}. {self.note}" if self.note else text


def smtp_settings(config: Mapping[str, Any]) -> SmtpSettings | None:
    """The SMTP settings from the app's config; ``None`` when no SMTP host is set."""
    host = (config.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    security = config.get("SMTP_SECURITY") or "starttls"
    if security not in ("starttls", "ssl", "none"):
        raise ValueError(f"SMTP_SECURITY={security!r} is not starttls, ssl or none")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    return SmtpSettings(
        host=host, port=int(config.get("SMTP_PORT") or default_port), security=security,
        mail_from=config.get("MAIL_FROM") or "tracker@localhost",
        user=config.get("SMTP_USER") or "", password=config.get("SMTP_PASSWORD") or "",
    )


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated SMTP connection."""
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _due(now: datetime) -> list[Any]:
    return [OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
            OutboxMessage.send_after <= now]


def _claim(session: Session, message_id: int, now: datetime) -> bool:
    """Take the row for this run, or find another deliverer (or run) has it. Commits."""
    claimed = cast("CursorResult[Any]", session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, *_due(now))
        .values(attempts=OutboxMessage.attempts + 1, last_attempt_at=now,
                send_after=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    ))
    session.commit()
    return bool(claimed.rowcount == 1)


def _transmit(smtp: smtplib.SMTP, message: OutboxMessage, settings: SmtpSettings,
              now: datetime) -> None:
    """Hand one email to the SMTP server (the step a test may interrupt)."""
    smtp.send_message(compose(message, settings.mail_from, now),
                      from_addr=_envelope_sender(settings.mail_from),
                      to_addrs=recipients(message))


def _envelope_sender(mail_from: str) -> str:
    return parseaddr(mail_from)[1] or mail_from


def _record_failure(session: Session, message: OutboxMessage, now: datetime,
                    error: BaseException, result: DeliveryResult) -> None:
    text = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    message.last_error = text
    if message.attempts >= MAX_ATTEMPTS:
        message.failed_at = now
        result.failed += 1
        logger.error("email %s to %s failed for good after %d tries: %s", message.id,
                     message.to_address, message.attempts, text)
    else:
        message.send_after = now + backoff(message.attempts)
        result.retry_later += 1
        logger.warning("email %s to %s failed (try %d of %d), next try after %s: %s",
                       message.id, message.to_address, message.attempts, MAX_ATTEMPTS,
                       message.send_after.isoformat(), text)
    result.errors.append(f"{message.key}: {text}")
    session.commit()


def pending_count(session: Session, now: datetime) -> int:
    """How many emails are due now."""
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(*_due(now))) or 0


def deliver_pending(session: Session, now: datetime, settings: SmtpSettings | None,
                    limit: int = 100) -> DeliveryResult:
    """Send up to ``limit`` due emails, oldest first, committing after each one."""
    result = DeliveryResult()
    if settings is None:
        result.skipped = pending_count(session, now)
        result.note = ("No SMTP settings (TRACKER_SMTP_HOST): emails stay in the outbox, "
                       "where admins can read them.")
        return result
    ids = list(session.scalars(select(OutboxMessage.id).where(*_due(now))
                               .order_by(OutboxMessage.id).limit(limit)))
    session.commit()  # end the read: each claim is its own short transaction
    if not ids:
        return result
    # connect before claiming anything: a claim is held only while its email is handed over
    smtp: smtplib.SMTP | None = None
    connect_error: BaseException | None = None
    try:
        smtp = connect(settings)
    except CONNECTION_ERRORS as error:
        connect_error = error  # counted as a failed try of the first email due
    try:
        for index, message_id in enumerate(ids):
            if not _claim(session, message_id, now):
                continue  # another deliverer has it, or sent it
            message = session.get(OutboxMessage, message_id, populate_existing=True)
            assert message is not None
            try:
                if smtp is None:
                    assert connect_error is not None
                    raise connect_error
                _transmit(smtp, message, settings, now)
            except CONNECTION_ERRORS as error:
                _record_failure(session, message, now, error, result)
                result.skipped = len(ids) - index - 1
                result.note = "The SMTP connection failed: the rest wait for the next run."
                break
            except Exception as error:  # refused by the server, or unsendable: this one only
                _record_failure(session, message, now, error, result)
                continue
            message.sent_at = now
            message.last_error = None
            session.commit()
            result.sent += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return result


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
