"""Form text held on the server while the person who typed it signs in again
(:mod:`tracker.views.forms_support`).

A held submission is found by the hash of a token kept in the browser's session cookie, is
for the person who typed it and the form it was typed into, lasts :data:`HOLD_FOR`, and is
given back once. Flushes only: the request commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth import token_hash
from tracker.models import HeldSubmission

HOLD_FOR = timedelta(days=1)


def hold(session: Session, token: str, user_id: int, path: str,
         form: dict[str, list[str]], now: datetime) -> HeldSubmission:
    """Keep what ``user_id`` typed into the form at ``path`` under ``token``, for a day."""
    row = HeldSubmission(token_hash=token_hash(token), user_id=user_id, path=path, form=form,
                         created_at=now, expires_at=now + HOLD_FOR)
    session.add(row)
    session.flush()
    return row


def take(session: Session, token: str, path: str, user_id: int,
         now: datetime) -> dict[str, list[str]] | None:
    """What was held under ``token`` for this form and this person, marked used so that it
    is given back once; None if there is none, it was used, it lapsed, or it is another
    form's or another person's."""
    row = session.scalars(select(HeldSubmission)
                          .where(HeldSubmission.token_hash == token_hash(token))).first()
    if row is None or row.used_at is not None or row.expires_at <= now or row.path != path:
        return None
    if row.user_id != user_id:
        return None  # someone else signed in on this browser: the text is not theirs
    row.used_at = now
    return row.form
