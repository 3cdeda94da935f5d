"""Escalations: areas of concern the plan's rules raise to the board or a group lead.

When statuses are recomputed, each action's escalation rules are checked in every quarter
(:func:`plans.engine.escalations_by_quarter`). The quarters a rule matches in a row are one
episode. An episode that still matches in the latest quarter is raised, once, as from its
first quarter, and stays open until someone resolves it, even after the rule stops matching;
the same episode is never raised twice, however often statuses are recomputed. Episodes
that ended before the latest quarter are not raised afterwards: an escalation is news when
it happens, not history found later. If a corrected update means an open escalation's
episode no longer exists, it is withdrawn (the audit trail keeps a note of it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from plans import Quarter
from plans.rules import EscalationRule
from tracker.db import hold
from tracker.models import Action, Escalation, User
from tracker.services import audit


@dataclass(frozen=True)
class Episode:
    rule: EscalationRule
    first: Quarter
    last: Quarter
    reason: str


def episodes(matches: Mapping[Quarter, Sequence[tuple[EscalationRule, str]]]
             ) -> list[Episode]:
    """Runs of consecutive quarters in which each rule matched, oldest first."""
    result: list[Episode] = []
    running: dict[str, Episode] = {}
    for quarter in sorted(matches):
        seen = set()
        for rule, reason in matches[quarter]:
            seen.add(rule.name)
            current = running.get(rule.name)
            if current is not None and current.last.next() == quarter:
                running[rule.name] = Episode(rule, current.first, quarter, reason)
            else:
                if current is not None:
                    result.append(current)
                running[rule.name] = Episode(rule, quarter, quarter, reason)
        for name in [n for n in running if n not in seen]:
            result.append(running.pop(name))
    result.extend(running.values())
    return sorted(result, key=lambda e: (e.first, e.rule.name))


def listing(session: Session, is_open: bool, limit: int = 500) -> list[Escalation]:
    """Open escalations (or resolved ones), the latest raised first, with each action's
    owner and who resolved it."""
    query = (select(Escalation).options(joinedload(Escalation.action).joinedload(Action.owner),
                                        joinedload(Escalation.resolved_by))
             .order_by(Escalation.raised_at.desc(), Escalation.id.desc()))
    if is_open:
        query = query.where(Escalation.resolved_at.is_(None))
    else:
        query = query.where(Escalation.resolved_at.is_not(None))
    return list(session.scalars(query.limit(limit)))


def find(session: Session, escalation_id: int) -> Escalation | None:
    """One escalation, with its action's owner and group (who may resolve it) and who
    resolved it."""
    return session.scalars(
        select(Escalation).where(Escalation.id == escalation_id)
        .options(joinedload(Escalation.action).joinedload(Action.owner),
                 joinedload(Escalation.action).joinedload(Action.group),
                 joinedload(Escalation.resolved_by))).first()


def stored(session: Session, action_ids: Collection[int] | None
           ) -> dict[int, dict[tuple[str, str], Escalation]]:
    """Every escalation of these actions (or all), by action and (rule, quarter raised)."""
    query = select(Escalation)
    if action_ids is not None:
        query = query.where(Escalation.action_id.in_(list(action_ids)))
    result: dict[int, dict[tuple[str, str], Escalation]] = {}
    for row in session.scalars(query):
        result.setdefault(row.action_id, {})[(row.rule, row.quarter)] = row
    return result


def sync(session: Session, action: Action, found: list[Episode], latest: Quarter,
         existing: dict[tuple[str, str], Escalation], now: datetime, actor: audit.Actor) -> int:
    """Raise episodes current in ``latest``, follow open ones, withdraw open ones that no
    longer exist.

    Returns how many were raised. Flushing is left to the caller.
    """
    raised = 0
    keep = set()
    for episode in found:
        key = (episode.rule.name, episode.first.label)
        keep.add(key)
        row = existing.get(key)
        if row is None and episode.last == latest:
            row = Escalation(action_id=action.id, rule=episode.rule.name,
                             to=list(episode.rule.to), quarter=episode.first.label,
                             last_quarter=episode.last.label, reason=episode.reason,
                             raised_at=now, resolution="")
            session.add(row)
            existing[key] = row
            raised += 1
            audit.record(session, actor, "escalation.raised", "action", action.ref,
                         f"{episode.first.label}: {episode.reason}",
                         new={"rule": episode.rule.name, "quarter": episode.first.label,
                              "to": list(episode.rule.to)})
        elif row is not None and row.is_open and (
                (row.last_quarter, row.reason) != (episode.last.label, episode.reason)):
            row.last_quarter, row.reason = episode.last.label, episode.reason
    for key, row in list(existing.items()):
        if key not in keep and row.is_open:
            del existing[key]
            session.delete(row)
            audit.record(session, actor, "escalation.withdrawn", "action", action.ref,
                         f"{row.quarter}: {row.rule} no longer applies",
                         old={"rule": row.rule, "quarter": row.quarter, "reason": row.reason})
    return raised


def unnotified(session: Session) -> list[Escalation]:
    """The open escalations nobody has been told of yet, oldest quarter first, with their
    actions' owners loaded."""
    return list(session.scalars(
        select(Escalation).where(Escalation.resolved_at.is_(None),
                                 Escalation.notified_at.is_(None))
        .order_by(Escalation.quarter, Escalation.id)
        .options(joinedload(Escalation.action).joinedload(Action.owner))))


def mark_notified(session: Session, escalations: Iterable[Escalation], now: datetime) -> None:
    """Record that these escalations' emails are queued (in the same transaction). Flushes."""
    for escalation in escalations:
        escalation.notified_at = now
    session.flush()


class ResolveRefused(ValueError):
    """An escalation cannot be resolved; the message says why."""


def resolve(session: Session, escalation: Escalation, user: User, note: str,
            now: datetime) -> None:
    """Close an open escalation with a note (flushes; the caller commits)."""
    # held until committed: of two people resolving it at once, the second finds it resolved
    hold(session, escalation)
    text = note.strip()
    if not escalation.is_open:
        raise ResolveRefused("This escalation was already resolved")
    if not text:
        raise ResolveRefused("Enter how the escalation was resolved")
    escalation.resolved_at, escalation.resolution = now, text
    escalation.resolved_by_id = getattr(user, "id", None)
    audit.record(session, user, "escalation.resolved", "action", escalation.action.ref,
                 f"{escalation.quarter}: {escalation.rule} resolved",
                 old={"rule": escalation.rule, "quarter": escalation.quarter, "open": True},
                 new={"open": False, "resolution": text})
    session.flush()
