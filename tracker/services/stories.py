"""Good-news stories (the plan's commitment 4.a): staff submit one, an admin approves or
withdraws it, and only approved stories appear on the public progress page, never with the
submitter's name. Every step is written to the audit trail. Flushes only: the boundary
commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access import is_admin
from tracker.models import Commitment, User, utcnow
from tracker.models.stories import (
    APPROVED,
    BODY_MAX,
    SUBMITTED,
    TITLE_MAX,
    WITHDRAWN,
    Story,
)
from tracker.services import audit

SUBMITTERS = ("admin", "lead", "member")  # board members read; they do not submit


class StoryRefused(Exception):
    """The story cannot be saved or decided; the message says why."""


def may_submit(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and \
        getattr(user, "role", "") in SUBMITTERS


def may_decide(user: object) -> bool:
    return is_admin(user)


def _clean(text: str) -> str:
    """Plain text: line ends made \\n, trailing spaces and blank edges dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


def submit(session: Session, user: User, title: str, body: str,
           commitment_ref: str | None = None) -> Story:
    if not may_submit(user):
        raise StoryRefused("Only partnership staff can submit a story.")
    title = " ".join(title.split())
    body = _clean(body)
    if not title:
        raise StoryRefused("Enter a title for the story")
    if len(title) > TITLE_MAX:
        raise StoryRefused(f"The title must be {TITLE_MAX} characters or fewer")
    if not body:
        raise StoryRefused("Enter the story")
    if len(body) > BODY_MAX:
        raise StoryRefused(f"The story must be {BODY_MAX:,} characters or fewer")
    ref = (commitment_ref or "").strip() or None
    if ref is not None and session.scalar(select(Commitment.id).where(
            Commitment.ref == ref, Commitment.retired_at.is_(None))) is None:
        raise StoryRefused(f"There is no commitment {ref} in the plan: choose one from the list")
    story = Story(title=title, body=body, commitment_ref=ref, status=SUBMITTED,
                  submitted_by_id=user.id, submitted_at=utcnow())
    session.add(story)
    session.flush()
    audit.record(session, user, "story.submitted", "story", str(story.id),
                 f"Story submitted: {title}", new={"title": title, "body": body,
                                                   "commitment": ref})
    session.flush()
    return story


def decide(session: Session, user: User, story: Story, status: str) -> Story:
    """Approve (``approved``) or withdraw (``withdrawn``) a story; admins only."""
    if not may_decide(user):
        raise StoryRefused("Only the community safety team can approve or withdraw stories.")
    if status not in (APPROVED, WITHDRAWN):
        raise StoryRefused(f"{status!r} is not a decision: approve or withdraw")
    if story.status == status:
        raise StoryRefused(f"This story is already {status}.")
    old = story.status
    story.status = status
    story.decided_by_id = user.id
    story.decided_at = utcnow()
    verb = "approved" if status == APPROVED else "withdrawn"
    audit.record(session, user, f"story.{verb}", "story", str(story.id),
                 f"Story {verb}: {story.title}", old={"status": old}, new={"status": status})
    session.flush()
    return story


def commitment_choices(session: Session) -> list[tuple[str, str]]:
    """The current commitments a story may be about, in the plan's order: (ref, text)."""
    rows = session.execute(
        select(Commitment.ref, Commitment.text).where(Commitment.retired_at.is_(None))
        .order_by(Commitment.position, Commitment.id))
    return [(ref, text) for ref, text in rows]


def get(session: Session, story_id: int) -> Story | None:
    return session.get(Story, story_id)


def all_stories(session: Session) -> Sequence[Story]:
    """Every story, the ones waiting for a decision first, newest first."""
    rows = session.scalars(select(Story).order_by(Story.submitted_at.desc(), Story.id.desc()))
    order = {SUBMITTED: 0, APPROVED: 1, WITHDRAWN: 2}
    return sorted(rows, key=lambda s: order.get(s.status, 3))


def approved(session: Session, limit: int = 20) -> Sequence[Story]:
    """Approved stories for the public page, newest decision first (one query)."""
    return session.scalars(select(Story).where(Story.status == APPROVED)
                           .order_by(Story.decided_at.desc(), Story.id.desc())
                           .limit(limit)).all()
