"""Recording the audit trail, in the same transaction as the change it records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy.orm import Session

from tracker.models import AuditEvent, User

COMMAND_LINE = "command line"
SYSTEM = "system"

Actor: TypeAlias = User | str | None
"""Who made a change: a signed-in user, or a label such as :data:`SYSTEM`."""


def _plain(value: Any) -> Any:
    """JSON-safe values: dates as ISO text, sets as sorted lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple | list):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_ref: str,
    summary: str = "",
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event (flushed with the caller's transaction, never committed here)."""
    if isinstance(actor, User):
        actor_id, label = actor.id, actor.email
    else:
        actor_id, label = None, actor or SYSTEM
    event = AuditEvent(
        actor_id=actor_id, actor_label=label, action=action, object_type=object_type,
        object_ref=object_ref, summary=summary,
        old=_plain(old) if old is not None else None,
        new=_plain(new) if new is not None else None,
    )
    session.add(event)
    return event
