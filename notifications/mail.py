"""Composing an outbox row into the email that goes out.

Each message is ``multipart/alternative``: the plain text first, then the HTML. It carries a
``Message-ID`` made from the outbox row (the same every time that row is sent, so a rare
resend can be recognised as the same email by the receiving side) and an ``X-Tracker-Key``
header holding the row's unique key. ``email.policy.SMTP`` folds long headers and refuses
line breaks in any header value, so no text from a user can add a header.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from tracker.models import OutboxMessage
from tracker.models.base import utcnow

KEY_HEADER = "X-Tracker-Key"


def message_id(message: OutboxMessage, mail_from: str) -> str:
    """A stable ``Message-ID`` for an outbox row: the same on every attempt."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:20]
    return f"<outbox.{message.id}.{digest}@{domain}>"


def recipients(message: OutboxMessage) -> list[str]:
    """Every envelope recipient: the addressee, then the copies."""
    return [message.to_address, *message.cc]


def compose(message: OutboxMessage, mail_from: str, date: datetime | None = None
            ) -> EmailMessage:
    """The email for ``message``, from ``mail_from``, dated ``date`` (default: now)."""
    email = EmailMessage(policy=SMTP)
    email["From"] = mail_from
    email["To"] = message.to_address
    if message.cc:
        email["Cc"] = ", ".join(message.cc)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(date or utcnow())
    email["Message-ID"] = message_id(message, mail_from)
    email[KEY_HEADER] = message.key
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email
