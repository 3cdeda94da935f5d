"""Reading the audit trail: filters, newest first, a page at a time.

Read-only: the trail is written by ``tracker.services.audit.record`` alone, and nothing in
the app edits or deletes it. A page loads in a fixed number of queries, however many events
there are: the count, the page's events with their actors, and the lists the filters offer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from plans.periods import long_date, long_moment
from tracker.models import AuditEvent
from tracker.services.accounts import ROLE_NAMES

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
        return first_number(self.page, self.total)

    @property
    def last_number(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def first_number(page: int, total: int) -> int:
    """The number of the first row on ``page`` (1-based), of ``total`` rows."""
    return (page - 1) * PER_PAGE + 1 if total else 0


def page_within(page: int, total: int) -> tuple[int, int]:
    """``page`` brought within the pages ``total`` rows fill, and how many pages there are."""
    pages = max(1, -(-total // PER_PAGE))
    return min(max(page, 1), pages), pages


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
    page, pages = page_within(page, total)
    query = (filters.apply(select(AuditEvent))
             .options(joinedload(AuditEvent.actor))
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
             .offset((page - 1) * PER_PAGE).limit(PER_PAGE))
    events = list(session.scalars(query))
    return AuditPage(events=events, total=total, page=page, pages=pages)


# -- showing old and new values ---------------------------------------------------------

ABSENT = "-"
"""Shown for a field one side of a change did not have (an update's first version has no
"before"; a field added to the records later has no old value)."""

LABELS = {
    "rag": "RAG", "percent_complete": "Complete", "narrative": "Progress",
    "risks": "Risks and issues", "is_concern": "Area of concern",
    "concern_reason": "Why it is a concern", "evidence": "Evidence links",
    "colour": "Status", "is_active": "Account active", "sha256": "SHA-256",
    "data_source": "Source", "first_attempt_at": "First tried",
    "failed_at": "Failed", "review": "Approval",
}
"""Field names as a reader knows them (the update form's words); any other name is
written out from its snake_case ("next_steps" reads "Next steps")."""

COLOURS = {"red": "Red", "amber": "Amber", "green": "Green", "blue": "Complete",
           "grey": "No update"}
REVIEWS = {"pending": "Awaiting approval", "approved": "Approved", "returned": "Sent back",
           "not_needed": "Not needed"}
RECIPIENTS = {"board": "The board", "group_lead": "Group lead", "owner": "Owner"}
WORDS: dict[str, dict[str, str]] = {"rag": COLOURS, "colour": COLOURS, "review": REVIEWS,
                                    "role": ROLE_NAMES, "to": RECIPIENTS}
"""Coded values, field by field, as words."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Change:
    """One field of an event's old and new values, ready to show."""

    name: str         # its label, e.g. "Complete" for percent_complete
    old: str | None   # None: the event recorded no old values at all; "-": not this field
    new: str | None   # None: the event recorded no new values at all; "-": not this field
    is_long: bool     # long or structured: shown as blocks, not inline

    @property
    def is_unchanged(self) -> bool:
        return self.old is not None and self.old == self.new


def label(name: str) -> str:
    """``percent_complete`` -> "Complete"; ``next_steps`` -> "Next steps"."""
    if name in LABELS:
        return LABELS[name]
    words = name.removeprefix("is_").replace("_", " ").replace("-", " ").strip()
    return (words[:1].upper() + words[1:]) if words else name


def shown(name: str, value: Any) -> str:
    """A recorded value as words: Yes or No, Red or Complete, 1 December 2026, 60%."""
    if value is None:
        return "None"
    if value is True or value is False:
        return "Yes" if value else "No"
    if isinstance(value, str):
        if not value:
            return "Blank"
        if value in WORDS.get(name, {}):
            return WORDS[name][value]
        return _as_date(value) or value
    if isinstance(value, int | float):
        number = int(value) if isinstance(value, float) and value.is_integer() else value
        return f"{number}%" if name == "percent_complete" else str(number)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "\n".join(shown(name, item) for item in value) if value else "None"
    return json.dumps(value, indent=2, ensure_ascii=False)


def _as_date(text: str) -> str | None:
    try:
        if _DATE.match(text):
            return long_date(date.fromisoformat(text))
        if _MOMENT.match(text):
            return long_moment(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None
    return None


def changes(event: AuditEvent) -> list[Change]:
    """The fields of ``event.old`` and ``event.new``, in the order they were recorded."""
    old = event.old if isinstance(event.old, dict) else None
    new = event.new if isinstance(event.new, dict) else None
    names = list(new or {})
    names += [name for name in (old or {}) if name not in names]
    result = []
    for name in names:
        before = None if old is None else shown(name, old[name]) if name in old else ABSENT
        after = None if new is None else shown(name, new[name]) if name in new else ABSENT
        values = [v for v in (before, after) if v is not None]
        is_long = any(len(v) > 80 or "\n" in v for v in values)
        result.append(Change(name=label(name), old=before, new=after, is_long=is_long))
    return result


def as_json(event: AuditEvent) -> str:
    """The event's old and new values as indented JSON (escaped by the template)."""
    return json.dumps({"old": event.old, "new": event.new}, indent=2, ensure_ascii=False)
