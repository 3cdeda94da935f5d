"""What every scheduled job shares: its result, its transaction, recipients, links and mail.

A job function takes ``(app, today, dry_run)``: it opens an app context with its own
session, works out from the database what is due on ``today`` (never from when it last
ran), queues outbox rows under unique keys, and commits once at the end; a dry run rolls
everything back, so it shows what would be queued and writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import Flask, current_app
from sqlalchemy.orm import Session

from plans import Plan, Quarter
from tracker import clock, work
from tracker.db import begin_write, get_session
from tracker.models import Action, User
from tracker.services import outbox
from tracker.services.plan_load import current_plan
from tracker.services.statuses import Recomputed

logger = logging.getLogger(__name__)

LONDON = clock.LONDON


@dataclass
class JobResult:
    """What a run did: how many emails it queued, what it left alone, lines to print."""

    name: str
    queued: int = 0
    skipped: int = 0
    dry_run: bool = False
    lines: list[str] = field(default_factory=list)
    verb: str = "queue"
    headline: str = ""  # a job that sends no email says what it did here

    def say(self, line: str) -> None:
        self.lines.append(line)

    def summary(self) -> str:
        if self.headline:
            return f"{self.name}: {self.headline}"
        past = {"queue": "queued", "send": "sent"}.get(self.verb, self.verb)
        verb = f"would {self.verb}" if self.dry_run else past
        extra = f", {self.skipped} already queued" if self.skipped else ""
        return f"{self.name}: {verb} {self.queued} email{'s' if self.queued != 1 else ''}{extra}."


@contextmanager
def job_session(app: Flask, dry_run: bool) -> Iterator[Session]:
    """An app context and its session, in one write transaction: commit once at the end, or
    roll back (dry run, error)."""
    with app.app_context():
        session = begin_write(get_session())
        try:
            yield session
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise


def loaded_plan(session: Session) -> Plan | None:
    return current_plan(session)


def settle_statuses(app: Flask, today: date, *, everything: bool) -> Recomputed | None:
    """Before a job reads statuses: work out the open quarter's if it has none yet, or (with
    ``everything``) recompute them all as on ``today``, without holding the write lock for
    long (:mod:`tracker.work`). A dry run skips this: it works them out in its own
    transaction, which is rolled back."""
    with app.app_context():
        plan = current_plan(get_session())
        if plan is None:
            return None
        if everything:
            return work.recompute_everything(plan, today, "scheduler")
        return work.open_quarter(plan, today, "scheduler")


def base_url(app: Flask) -> str:
    return str(app.config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")


def update_link(app: Flask, action: Action, quarter: Quarter) -> str:
    """The absolute address of an action's update form for a quarter."""
    return f"{base_url(app)}/actions/{action.ref}/update/{quarter.slug}"


def action_link(app: Flask, action: Action) -> str:
    return f"{base_url(app)}/actions/{action.ref}"


def london_datetime(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def digest_of(parts: Iterable[object]) -> str:
    """A short stable fingerprint of some values, for outbox keys that name a set of items."""
    text = "\n".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- recipients (who they are: tracker.services.recipients) -------------------------------


def address(recipient: User | str) -> str:
    return recipient.email if isinstance(recipient, User) else recipient


def name_of(recipient: User | str) -> str:
    return recipient.name if isinstance(recipient, User) else recipient


# -- mail ------------------------------------------------------------------------------------


def queue_email(session: Session, result: JobResult, *, key: str, kind: str, to: str,
                subject: str, template: str, cc: Iterable[str] = (),
                describe: str = "", **context: object) -> bool:
    """Queue one email under ``key`` unless it already is; note it in the result."""
    if outbox.is_queued(session, key):  # before rendering: a second run renders nothing
        result.skipped += 1
        return False
    context.setdefault("partnership_name", outbox.partnership_name(session))
    mail = outbox.MailTemplates.of(current_app._get_current_object())  # type: ignore[attr-defined]
    text, html = mail.render(template, subject=subject, **context)  # type: ignore[arg-type]
    copies = tuple(sorted({c for c in cc if c and c != to}))
    message = outbox.queue(session, key=key, kind=kind, to=to, subject=subject, text=text,
                           html=html, cc=copies)
    if message is None:  # pragma: no cover - checked just above, kept for safety
        result.skipped += 1
        return False
    result.queued += 1
    copied = f" (cc {', '.join(copies)})" if copies else ""
    result.say(f"  {to}{copied}: {subject}{' - ' + describe if describe else ''}")
    return True


JobFunction = Callable[[Flask, date, bool], JobResult]
