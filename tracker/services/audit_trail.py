"""Reading the audit trail: filters, newest first, a page at a time.

Read-only: the trail is written by ``tracker.services.audit.record`` alone, and nothing in
the app edits or deletes it. A page loads in a fixed number of queries, however many events
there are: the count, the page's events with their actors, and the lists the filters offer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from tracker.models import AuditEvent

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""        # part of the actor's email address (or "command line")
    action: str = ""       # exactly, e.g. account.disabled
    object_type: str = ""  # exactly, e.g. account
    object_ref: str = ""   # part of the object's ref
    date_from: date | None = None  # from the start of this day (UTC) ...
    date_to: date | None = None    # ... to the end of this one

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.actor:
            query = query.where(func.lower(AuditEvent.actor_label)
                                .contains(self.actor.lower(), autoescape=True))
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        if self.object_ref:
            query = query.where(func.lower(AuditEvent.object_ref)
                                .contains(self.object_ref.lower(), autoescape=True))
        if self.date_from:
            query = query.where(AuditEvent.at >= datetime.combine(self.date_from, time(),
                                                                  tzinfo=UTC))
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), tzinfo=UTC)
            query = query.where(AuditEvent.at < end)
        return query


@dataclass
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int
    actions: list[str] = field(default_factory=list)
    object_types: list[str] = field(default_factory=list)

    @property
    def first_number(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def choices(session: Session) -> tuple[list[str], list[str]]:
    """The distinct actions and object types in the trail, for the filters' lists."""
    actions = list(session.scalars(select(AuditEvent.action).distinct()
                                   .order_by(AuditEvent.action)))
    types = list(session.scalars(select(AuditEvent.object_type).distinct()
                                 .order_by(AuditEvent.object_type)))
    return actions, types


def find(session: Session, filters: AuditFilters, page: int = 1) -> AuditPage:
    """One page of the events matching ``filters``, newest first."""
    total = session.scalar(filters.apply(select(func.count()).select_from(AuditEvent))) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    query = (filters.apply(select(AuditEvent))
             .options(joinedload(AuditEvent.actor))
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
             .offset((page - 1) * PER_PAGE).limit(PER_PAGE))
    events = list(session.scalars(query))
    return AuditPage(events=events, total=total, page=page, pages=pages)


# -- showing old and new values ---------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field of an event's old and new values, ready to show."""

    name: str
    old: str | None   # None: the field had no old value (or there were no old values)
    new: str | None
    is_long: bool     # long or structured: shown as a block, not inline

    @property
    def is_unchanged(self) -> bool:
        return self.old is not None and self.old == self.new


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str):
        return value if value else "(empty)"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, indent=2, ensure_ascii=False)


def changes(event: AuditEvent) -> list[Change]:
    """The fields of ``event.old`` and ``event.new``, in the order they were recorded."""
    old = event.old if isinstance(event.old, dict) else None
    new = event.new if isinstance(event.new, dict) else None
    names = list(new or {})
    names += [name for name in (old or {}) if name not in names]
    result = []
    for name in names:
        before = _shown(old[name]) if old is not None and name in old else None
        after = _shown(new[name]) if new is not None and name in new else None
        values = [v for v in (before, after) if v is not None]
        is_long = any(len(v) > 80 or "\n" in v for v in values)
        result.append(Change(name=name.replace("_", " "), old=before, new=after,
                             is_long=is_long))
    return result


def as_json(event: AuditEvent) -> str:
    """The event's old and new values as indented JSON (escaped by the template)."""
    return json.dumps({"old": event.old, "new": event.new}, indent=2, ensure_ascii=False)
