"""What the plan pages read: the overview, a priority, a commitment, an action, the themes
and who's who (:mod:`tracker.views.plan`), and the plan items other pages look up.

Reads only. Each function is one query (its relationships loaded eagerly, so that a page
reads what it shows in a fixed number of queries whatever the size of the plan).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.models import (
    KPI,
    Action,
    ActionStatus,
    ActionUpdate,
    Commitment,
    Group,
    Partnership,
    Priority,
    RollupStatus,
    Theme,
)
from tracker.models.base import PlanItem

ItemT = TypeVar("ItemT", bound=PlanItem)


def current(session: Session, model: type[ItemT]) -> list[ItemT]:
    """The items of one kind still in the plan, in the plan's order."""
    query = select(model).where(model.retired_at.is_(None)).order_by(model.position)
    return list(session.scalars(query))


def partnership(session: Session) -> Partnership | None:
    """The partnership the plan is for (None before a plan is loaded)."""
    return session.scalars(select(Partnership).limit(1)).first()


def action_counts(session: Session) -> dict[int, int]:
    """How many current actions each commitment has, by commitment id."""
    query = (select(Action.commitment_id, func.count())
             .where(Action.retired_at.is_(None)).group_by(Action.commitment_id))
    return {cid: count for cid, count in session.execute(query)}


def priorities_with_commitments(session: Session) -> list[Priority]:
    """Every priority (current ones first) with its group, commitments and their themes."""
    query = (
        select(Priority)
        .order_by(Priority.retired_at.is_not(None), Priority.position)
        .options(
            joinedload(Priority.group),
            selectinload(Priority.commitments).selectinload(Commitment.themes),
        )
    )
    return list(session.scalars(query))


def find_priority(session: Session, ref: str) -> Priority | None:
    """A priority by its ref, with its group and its commitments' themes and KPIs."""
    return session.scalars(
        select(Priority).where(Priority.ref == ref)
        .options(joinedload(Priority.group),
                 selectinload(Priority.commitments).selectinload(Commitment.themes),
                 selectinload(Priority.commitments).selectinload(Commitment.kpis))).first()


def find_commitment(session: Session, ref: str) -> Commitment | None:
    """A commitment by its ref, with its priority, parent, prevention level, themes, parts
    and KPIs."""
    return session.scalars(
        select(Commitment).where(Commitment.ref == ref)
        .options(joinedload(Commitment.priority), joinedload(Commitment.parent),
                 joinedload(Commitment.prevention), selectinload(Commitment.themes),
                 selectinload(Commitment.parts), selectinload(Commitment.kpis))).first()


def find_action(session: Session, ref: str) -> Action | None:
    """An action by its ref, with everything its page shows of it."""
    return session.scalars(
        select(Action).where(Action.ref == ref)
        .options(joinedload(Action.commitment).joinedload(Commitment.priority),
                 joinedload(Action.owner), joinedload(Action.lead), joinedload(Action.group),
                 joinedload(Action.prevention), selectinload(Action.themes),
                 selectinload(Action.kpis), selectinload(Action.milestones))).first()


def find_theme(session: Session, ref: str) -> Theme | None:
    """A theme by its ref."""
    return session.scalars(select(Theme).where(Theme.ref == ref)).first()


def commitment_actions(session: Session, commitment_ids: Collection[int]) -> list[Action]:
    """The actions of these commitments (current ones first), with owner, lead, commitment."""
    return list(session.scalars(
        select(Action).where(Action.commitment_id.in_(commitment_ids))
        .order_by(Action.retired_at.is_not(None), Action.position)
        .options(joinedload(Action.owner), joinedload(Action.lead),
                 joinedload(Action.commitment))))


def rollup_of(session: Session, item_type: str, item_id: int,
              quarter: str) -> RollupStatus | None:
    """An item's roll-up status for a quarter."""
    return session.scalars(select(RollupStatus).where(
        RollupStatus.item_type == item_type, RollupStatus.item_id == item_id,
        RollupStatus.quarter == quarter)).first()


def statuses_of(session: Session, action_ids: Collection[int],
                quarter: str) -> dict[int, ActionStatus]:
    """These actions' statuses for a quarter, by action id."""
    return {row.action_id: row for row in session.scalars(select(ActionStatus).where(
        ActionStatus.action_id.in_(action_ids), ActionStatus.quarter == quarter))}


def updates_of(session: Session, action_id: int) -> list[ActionUpdate]:
    """Every version of an action's updates, newest quarter and version first, with who
    wrote and who reviewed each."""
    return list(session.scalars(
        select(ActionUpdate).where(ActionUpdate.action_id == action_id)
        .order_by(ActionUpdate.quarter.desc(), ActionUpdate.version.desc())
        .options(joinedload(ActionUpdate.author), joinedload(ActionUpdate.reviewed_by))))


def status_history(session: Session, action_id: int) -> list[ActionStatus]:
    """An action's status in every quarter, newest first."""
    return list(session.scalars(select(ActionStatus).where(ActionStatus.action_id == action_id)
                                .order_by(ActionStatus.quarter.desc())))


def theme_commitments(session: Session, theme_id: int) -> list[Commitment]:
    """The commitments that touch a theme (current ones first), with their priorities."""
    return list(session.scalars(
        select(Commitment).join(Commitment.themes).where(Theme.id == theme_id)
        .order_by(Commitment.retired_at.is_not(None), Commitment.ref)
        .options(joinedload(Commitment.priority))))


def theme_actions(session: Session, theme_id: int) -> list[Action]:
    """The current actions that touch a theme, with their commitments."""
    return list(session.scalars(
        select(Action).join(Action.themes).where(Theme.id == theme_id,
                                                 Action.retired_at.is_(None))
        .order_by(Action.position).options(joinedload(Action.commitment))))


def theme_kpis(session: Session, theme_id: int) -> list[KPI]:
    """The current KPIs that touch a theme."""
    return list(session.scalars(
        select(KPI).join(KPI.themes).where(Theme.id == theme_id, KPI.retired_at.is_(None))
        .order_by(KPI.position)))


def groups_with_people(session: Session) -> list[Group]:
    """The current groups, with their lead, whom they report to, and their members."""
    return list(session.scalars(
        select(Group).where(Group.retired_at.is_(None)).order_by(Group.position)
        .options(joinedload(Group.lead), joinedload(Group.reports_to),
                 selectinload(Group.members))))


def priority_refs_led(session: Session, group_ids: Collection[int]) -> list[str]:
    """The refs of the priorities these groups lead, sorted (no query for no groups)."""
    if not group_ids:
        return []
    return sorted(session.scalars(select(Priority.ref).where(Priority.group_id.in_(group_ids))))


def priorities_by_id(session: Session, priority_ids: Collection[int]) -> dict[int, Priority]:
    """These priorities, by id (one query, however many)."""
    return {p.id: p for p in session.scalars(
        select(Priority).where(Priority.id.in_(priority_ids)))}


def priority_ref_of(session: Session, commitment_ref: str) -> str | None:
    """The ref of a current commitment's priority (None if there is no such commitment)."""
    return session.scalar(
        select(Priority.ref).join(Commitment, Commitment.priority_id == Priority.id)
        .where(Commitment.ref == commitment_ref, Commitment.retired_at.is_(None)))
