"""Commentary above the actions: the community safety team's summary of a quarter, and each
group lead's narrative for their priority, shown on the board's dashboard and in the packs.

Each is versioned like an update: writing it again adds a version, every version is kept,
and a version written by someone else while the form was open is never overwritten (the
form comes back with both texts). A locked quarter's commentary is read-only. Every version
is written to the audit trail. Flushes only: the boundary commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import Quarter
from tracker.access import is_admin, led_group_ids
from tracker.models import Commentary, Priority, User
from tracker.models.commentary import SUMMARY
from tracker.services import audit
from tracker.services.calendar import is_locked

MAX_LENGTH = 6000


class CommentaryRefused(Exception):
    """The commentary cannot be written; the message says why."""


class StaleCommentary(Exception):
    """Someone saved a newer version while the form was open; nothing was overwritten."""

    def __init__(self, latest: Commentary) -> None:
        super().__init__(f"version {latest.version} was saved while this form was open")
        self.latest = latest


@dataclass(frozen=True)
class Scope:
    """What a commentary is about: the quarter as a whole, or one priority."""

    key: str  # "summary", or the priority's ref
    priority: Priority | None

    @property
    def title(self) -> str:
        if self.priority is None:
            return "The quarter's summary"
        return f"Priority {self.priority.ref}: the lead's narrative"


def scope_of(session: Session, key: str) -> Scope | None:
    if key == SUMMARY:
        return Scope(SUMMARY, None)
    priority = session.scalars(select(Priority).where(Priority.ref == key,
                                                      Priority.retired_at.is_(None))).first()
    return Scope(key, priority) if priority is not None else None


def may_write(user: object, scope: Scope) -> bool:
    """The community safety team (admins) writes the summary and may write any narrative;
    a priority's narrative is its thematic group's lead's. Board members read only."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", "") == "board":
        return False
    if is_admin(user):
        return True
    return scope.priority is not None and scope.priority.group_id is not None and (
        scope.priority.group_id in led_group_ids(user))


def latest(session: Session, quarter: str) -> dict[str, Commentary]:
    """The latest version of each commentary of the quarter, by scope."""
    newest = (select(Commentary.scope, func.max(Commentary.version).label("version"))
              .where(Commentary.quarter == quarter).group_by(Commentary.scope).subquery())
    rows = session.scalars(select(Commentary).join(
        newest, (Commentary.scope == newest.c.scope)
        & (Commentary.version == newest.c.version)).where(Commentary.quarter == quarter))
    return {row.scope: row for row in rows}


def versions(session: Session, quarter: str, scope: str) -> list[Commentary]:
    """Every version of one commentary, newest first."""
    return list(session.scalars(select(Commentary).where(
        Commentary.quarter == quarter, Commentary.scope == scope)
        .order_by(Commentary.version.desc())))


def write(session: Session, user: User, quarter: Quarter, scope: Scope, text: str,
          base_version: int) -> Commentary:
    """Add a version; refuse if not theirs, the quarter is locked, or the form was stale."""
    if not may_write(user, scope):
        raise PermissionError("only the community safety team, or the priority's lead, "
                              "writes this")
    if is_locked(session, quarter):
        raise CommentaryRefused(f"{quarter.label} is locked: the board has met, and its "
                                "commentary is now read-only")
    cleaned = text.strip()
    if not cleaned:
        raise CommentaryRefused("Enter the commentary")
    if len(cleaned) > MAX_LENGTH:
        raise CommentaryRefused(f"The commentary must be {MAX_LENGTH:,} characters or fewer")
    found = versions(session, quarter.label, scope.key)
    current = found[0] if found else None
    if (current.version if current else 0) != base_version:
        assert current is not None
        raise StaleCommentary(current)
    row = Commentary(quarter=quarter.label, scope=scope.key,
                     version=(current.version if current else 0) + 1, text=cleaned,
                     author_id=user.id)
    session.add(row)
    audit.record(session, user, "commentary.written", "commentary",
                 f"{quarter.label} {scope.key}",
                 f"{scope.title}, {quarter.label}: version {row.version}",
                 old={"text": current.text} if current else None, new={"text": cleaned})
    session.flush()
    return row
