"""Delivering the outbox over SMTP, each email once.

With no ``TRACKER_SMTP_HOST`` (the embedded default) nothing is sent: emails stay in the
outbox, where admins read them at ``/admin/outbox`` rendered as they would be sent.

With SMTP settings, :func:`deliver_pending` takes the rows that are due (not sent, not failed
for good, ``send_after`` reached), oldest first (up to 100 a run), opens one SMTP connection,
and for each row:

1. **claims** it with one conditional ``UPDATE`` (``attempts + 1``, ``last_attempt_at = now``,
   ``first_attempt_at`` if not yet set, and ``send_after`` moved to the end of a lease of
   ``CLAIM_LEASE``, 2 minutes from the moment of the claim, only where the row is still
   unsent, not failed and due) and commits. Only one deliverer's ``UPDATE`` can match, so two
   deliverers running at once never both send a row. The lease is ``send_after`` itself: a
   deliverer that dies holding a claim leaves the row to the first run after the lease has
   passed (the ``deliver`` job runs every minute, so the second or third run after the death);
2. sends it (``smtplib``: SSL, STARTTLS or plain, with a login when a user is set, 30 s
   timeout for each reply);
3. on success sets ``sent_at`` and **commits at once**, so a run interrupted after n emails
   does not send those n again.

Failures are of two kinds, told apart because a server that is down is a property of the
server, not of each email:

- **The server cannot be reached** (it refuses or drops connections, times out, greets with
  an error, or refuses the login): no email is blamed. Every due email stays due, keeping its
  place and its ``send_after``, with no backoff, so the first run after the server comes
  back (within a minute) sends them all. Each one records what happened where an admin sees
  it: ``last_attempt_at`` and ``last_error`` ("The SMTP server could not be reached at ...").
  ``attempts`` counts only the times an email was handed to the server, so it does not grow
  during an outage. When the connection is lost while an email is being handed over (or the
  server closes it with a 421), the deliverer connects again at once: if it cannot, that
  email stays due like the rest and the run stops; if it can, the lost connection counts as
  a refused try of that email (it may be what breaks the connection) and the run goes on.
- **The server refuses the email** (a 4xx or 5xx reply to its sender, recipients or content,
  or an email that cannot be composed): that email alone is retried, after 1, 5, 15, 30 and
  60 minutes and then every 3 hours (``tracker.services.outbox.backoff``), never later than
  a day (``RETRY_WINDOW``) after its first try; a try that fails a day or more after the first
  marks it failed (``failed_at``), shown on the outbox page, where an admin can give it
  another day. A permanent refusal (5xx) is retried like a temporary one: from the tracker's
  own submission server a 5xx is as often a setting being fixed (relaying or the sender not
  yet allowed) as a bad address, and a day of retries then delivers every email without an
  admin retrying each by hand; a bad address costs a dozen tries before it is marked failed.
  An email that could not be delivered because the server stayed down for a day is also
  marked failed then, with the outage as its last error.

What is guaranteed, honestly: an email is never sent twice by two deliverers, nor by a run
repeated after it finished or was interrupted between emails. One window remains: if the
process dies (or the connection is lost) after the SMTP server accepted an email and before
``sent_at`` is committed, that single email is sent again, after the lease (or, for a lost
connection, at its next try): at-least-once for it, rather than risk losing it. It keeps
its ``Message-ID`` (``notifications.mail``: made from the row's id and key, never from the
time), so the receiving side can tell it is the same email; only its ``Date`` header is that
of the new try. A send held longer than the lease (a server slower than 30 s a reply,
several times over) could likewise be claimed by a second deliverer running at the same
time.

This module commits (it is a boundary, like a job or a command): pass it a session with
nothing else pending. The statements it runs (the claim, the marks, the outage) are
``tracker.services.outbox``'s; this module decides when each is committed.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from notifications.mail import compose, recipients
from plans.periods import long_moment
from tracker.db import begin_write
from tracker.models import OutboxMessage
from tracker.services import outbox
from tracker.services.outbox import next_try

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 30
ERROR_LENGTH = 2000
SERVER_CLOSING = 421  # "service not available, closing transmission channel"


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
    the server could not be reached); ``retry_later``: emails refused that will be tried
    again; ``failed``: emails marked failed, their day of tries over."""

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


def _claim(session: Session, message_id: int, now: datetime,
           lease_until: datetime | None = None) -> bool:
    """Take the row for this run, or find another deliverer (or run) has it. Commits.

    The lease ends at ``lease_until`` (by default ``now + CLAIM_LEASE``).
    """
    claimed = outbox.claim(session, message_id, now, lease_until or now + CLAIM_LEASE)
    session.commit()
    return claimed


def transmit(smtp: smtplib.SMTP, message: OutboxMessage, settings: SmtpSettings,
             now: datetime) -> None:
    """Hand one email to the SMTP server: the one step between a claim and its ``sent_at``
    (a seam: the fault tests replace it to crash or cut the connection right there)."""
    smtp.send_message(compose(message, settings.mail_from, now),
                      from_addr=_envelope_sender(settings.mail_from),
                      to_addrs=recipients(message))


def _envelope_sender(mail_from: str) -> str:
    return parseaddr(mail_from)[1] or mail_from


def connection_lost(error: BaseException) -> bool:
    """Whether ``error``, raised while an email was handed over, means the connection went
    (as against the server answering that one email with an error and carrying on)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == SERVER_CLOSING for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == SERVER_CLOSING
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return False  # e.g. an address the server cannot take: this email only
    return isinstance(error, OSError)  # smtplib's own errors are OSErrors too


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _outage_text(error: BaseException, now: datetime) -> str:
    """What an admin reads about a server that could not be used at ``now``."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        what = "refused the tracker's login"
    elif isinstance(error, smtplib.SMTPException):
        what = "would not take email"
    else:
        what = "could not be reached"
    return f"The SMTP server {what} at {long_moment(now)}: {_describe(error)}"[:ERROR_LENGTH]


def _failure_text(error: BaseException, now: datetime, lost: bool) -> str:
    """What an admin reads about one email's failed try at ``now``."""
    if lost:
        what = "The connection to the SMTP server was lost while this email was sent"
    elif isinstance(error, smtplib.SMTPException):
        what = "The SMTP server refused this email"
    else:
        what = "This email could not be sent"
    return f"{what}, at {long_moment(now)}: {_describe(error)}"[:ERROR_LENGTH]


def _open(settings: SmtpSettings) -> tuple[smtplib.SMTP | None, OSError | None]:
    """A new connection, or the reason there is none."""
    try:
        return connect(settings), None
    except OSError as error:  # refused, unreachable, timed out, TLS, greeting or login
        return None, error


def _record_failure(session: Session, message: OutboxMessage, now: datetime, text: str,
                    result: DeliveryResult) -> None:
    """This email's try failed: try it again later, or mark it failed after a day. Commits."""
    message.last_error = text
    next_at = next_try(message.first_attempt_at or now, message.attempts, now)
    if next_at is None:
        message.failed_at = now
        result.failed += 1
        logger.error("email %s to %s failed after a day of tries (%d): %s", message.id,
                     message.to_address, message.attempts, text)
    else:
        message.send_after = next_at
        result.retry_later += 1
        logger.warning("email %s to %s failed (try %d), next try after %s: %s", message.id,
                       message.to_address, message.attempts, next_at.isoformat(), text)
    result.errors.append(f"{message.key}: {text}")
    session.commit()


def _record_outage(session: Session, now: datetime, error: OSError,
                   result: DeliveryResult) -> None:
    """The server cannot be used: every due email stays due, no backoff, and says why;
    those first tried a day ago or more are marked failed. Commits."""
    text = _outage_text(error, now)
    expired = outbox.record_outage(session, now, text)
    result.failed += expired
    result.skipped = outbox.pending_count(session, now)
    session.commit()
    result.note = ("The SMTP server could not be used: the emails due stay due, and go out "
                   "with the first run after it is back.")
    result.errors.append(text)
    logger.warning("%s; %d emails wait for the next run%s", text, result.skipped,
                   f", {expired} failed after a day" if expired else "")


def deliver_pending(session: Session, now: datetime, settings: SmtpSettings | None,
                    limit: int = 100, lease: timedelta = CLAIM_LEASE) -> DeliveryResult:
    """Send up to ``limit`` due emails, oldest first, committing after each one.

    ``now`` is the time of the run; each claim's ``lease`` runs from the moment it is made
    (``now`` plus the whole seconds the run has taken so far).
    """
    result = DeliveryResult()
    if settings is None:
        result.skipped = outbox.pending_count(session, now)
        result.note = ("No SMTP settings (TRACKER_SMTP_HOST): emails stay in the outbox, "
                       "where admins can read them.")
        return result
    ids = outbox.due_ids(session, now, limit)
    session.commit()  # end the read: each claim is its own short transaction
    if not ids:
        return result
    started = time.monotonic()
    # connect before claiming anything: a claim is held only while its email is handed over
    smtp, error = _open(settings)
    try:
        for message_id in ids:
            if smtp is not None and smtp.sock is None:  # closed after the last email
                smtp, error = _open(settings)
            if smtp is None:
                assert error is not None
                _record_outage(session, now, error, result)
                break
            elapsed = timedelta(seconds=int(time.monotonic() - started))
            if not _claim(session, message_id, now, now + elapsed + lease):
                continue  # another deliverer has it, or sent it
            message = outbox.claimed_message(session, message_id)
            try:
                transmit(smtp, message, settings, now)
            except Exception as failure:
                lost = connection_lost(failure)
                if lost:
                    smtp.close()
                    smtp, error = _open(settings)
                    if smtp is None:  # the server is down, not this email: due again now
                        message.send_after = now
                        session.commit()
                        assert error is not None
                        _record_outage(session, now, error, result)
                        break
                _record_failure(session, message, now, _failure_text(failure, now, lost),
                                result)
                continue
            _mark_sent(session, message_id, now)
            result.sent += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return result


MARK_ATTEMPTS = 5


def _mark_sent(session: Session, message_id: int, now: datetime) -> None:
    """Record that the email was handed over, in a write transaction begun before anything
    is read: SQLite cannot turn the read that loaded the email into a write once another
    connection has written since ("database is locked" at once, not after the busy
    timeout), and an email handed over but not marked would be sent again when its claim
    ran out. Tried again, briefly, while the database stays busy."""
    for attempt in range(MARK_ATTEMPTS):
        session.rollback()  # end the read that loaded the email
        try:
            begin_write(session)
            outbox.mark_sent(session, message_id, now)
            session.commit()
            return
        except OperationalError:
            session.rollback()
            if attempt == MARK_ATTEMPTS - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
