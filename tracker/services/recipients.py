"""Recipients: who a rule's ``to`` names for an action, for the scheduled jobs' emails.

A reminder step or an escalation rule names ``owner``, ``group_lead`` (the lead of the
action's group, or of its priority's group), ``board`` (the members and lead of the group of
kind ``board``) or a plain email address. Only active accounts are written to. Reads only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Action, Group, Priority, User


def group_of(session: Session, action: Action) -> Group | None:
    """The action's group, or failing that its priority's group."""
    if action.group is not None:
        return action.group
    priority = session.get(Priority, action.commitment.priority_id)
    return getattr(priority, "group", None) if priority is not None else None


def board_people(session: Session) -> list[User]:
    """The board: the active members and the lead of the group of kind ``board``."""
    board = session.scalars(select(Group).where(Group.kind == "board",
                                                Group.retired_at.is_(None))).first()
    people: dict[str, User] = {}
    if board is not None:
        for user in [board.lead, *board.members]:
            if user is not None and user.is_active:
                people.setdefault(user.email, user)
    return sorted(people.values(), key=lambda u: u.name)


def admins(session: Session) -> list[User]:
    """The community safety team: every active admin, by name."""
    return list(session.scalars(select(User).where(User.role == "admin",
                                                   User.is_active.is_(True))
                                .order_by(User.name)))


def led_groups(session: Session) -> list[Group]:
    """Every current group that has a lead, in the plan's order."""
    return list(session.scalars(select(Group).where(Group.retired_at.is_(None),
                                                    Group.lead_id.is_not(None))
                                .order_by(Group.position)))


def resolve(session: Session, role: str, action: Action) -> list[User | str]:
    """Who a rule's ``to`` names for an action: users, or a plain email address."""
    if role == "owner":
        return [action.owner] if action.owner.is_active else []
    if role == "group_lead":
        group = group_of(session, action)
        lead = group.lead if group is not None else None
        return [lead] if lead is not None and lead.is_active else []
    if role == "board":
        return list(board_people(session))
    if "@" in role:
        user = session.scalars(select(User).where(User.email == role)).first()
        return [user if user is not None else role]
    return []
