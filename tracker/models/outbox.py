"""The outbox: every email, written first as a row and delivered afterwards.

A row is written in the same transaction as whatever caused it (an invitation, a reminder
job's run), under a unique ``key`` that names the job, the rule, the item, the period, the
step and the recipient, so that the same email can never be queued twice. Delivery
(``notifications.delivery``) sends the rows later, marking each one sent as it goes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, utcnow

QUEUED, SENT, FAILED = "queued", "sent", "failed"


class OutboxMessage(Base):
    """One email to one recipient (and its copies), queued, sent, or failed for good."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # e.g. "reminders|2026/27 Q2|step+7|owner|someone@example.org": unique, so never twice
    key: Mapped[str] = mapped_column(String(500), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)  # reminder, invitation, ...
    to_address: Mapped[str] = mapped_column(String(320))
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_after: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0)  # times handed to the SMTP server
    # when delivery was first tried (server reached or not): the day of retries runs from it
    first_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)  # after the last try

    @property
    def state(self) -> str:
        """``sent``, ``failed`` (no more tries) or ``queued`` (waiting, or to be retried)."""
        if self.sent_at is not None:
            return SENT
        if self.failed_at is not None:
            return FAILED
        return QUEUED

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.state} {self.key!r}>"
