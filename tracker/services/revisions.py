"""The revisions in force: of the approved change requests
(:mod:`tracker.services.changes`), the revised due date of each action and milestone and
the revised targets of each KPI that count instead of the plan file's.

The revision in force for an item is the latest approved one whose recorded baseline is
still the file's: when a plan is loaded with a new date or target for the item (the annual
review re-baselined it), the file's counts again. Read by the rules engine's callers
(:mod:`tracker.services.statuses`), the KPI measures (:mod:`tracker.services.kpi_values`)
and the board's reports; reading only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, object_session

from tracker.models import KPI, Action, ChangeRequest, Milestone
from tracker.models.changes import ACTION_DUE, APPROVED, KPI_TARGET, MILESTONE_DUE

PLAN_WIDE = ""  # the period of a KPI's target for the whole plan
_TARGETS = "tracker.changes.revised_targets"  # session.info: approved KPI targets, per KPI


def revised_due_dates(session: Session, action_ids: Iterable[int] | None = None
                      ) -> dict[int, date]:
    """The approved revised due date in force for each action that has one (one query).

    In force: the latest approved request whose baseline is still the action's due date in
    the plan file."""
    c = ChangeRequest
    query = (select(c.action_id, c.requested_date)
             .join(Action, Action.id == c.action_id)
             .where(c.kind == ACTION_DUE, c.state == APPROVED, c.baseline_date == Action.due)
             .order_by(c.decided_at, c.id))
    if action_ids is not None:
        query = query.where(c.action_id.in_(list(action_ids)))
    return {action_id: day for action_id, day in session.execute(query)
            if action_id is not None and day is not None}


def revised_milestone_dates(session: Session, milestone_ids: Iterable[int]) -> dict[int, date]:
    """Like :func:`revised_due_dates`, for milestones."""
    c = ChangeRequest
    query = (select(c.milestone_id, c.requested_date)
             .join(Milestone, Milestone.id == c.milestone_id)
             .where(c.kind == MILESTONE_DUE, c.state == APPROVED,
                    c.baseline_date == Milestone.due, c.milestone_id.in_(list(milestone_ids)))
             .order_by(c.decided_at, c.id))
    return {milestone_id: day for milestone_id, day in session.execute(query)
            if milestone_id is not None and day is not None}


def file_target(kpi: KPI, period: str) -> float | None:
    """The KPI's target for ``period`` (a year, or :data:`PLAN_WIDE`) in the plan file."""
    if period == PLAN_WIDE:
        return kpi.target
    return kpi.targets.get(period)


def revised_targets(kpi: KPI) -> dict[str, float]:
    """The approved revised targets in force for a KPI, by period (a year's label, or
    :data:`PLAN_WIDE`), read through the KPI's own session.

    Every KPI's approved targets are read in one query, once per transaction (pages
    measure many KPIs), and read again after a decision.
    """
    session = object_session(kpi)
    if session is None:
        return {}
    table: dict[int, list[tuple[str, float | None, float]]] | None = session.info.get(_TARGETS)
    if table is None:
        c = ChangeRequest
        table = defaultdict(list)
        for kpi_id, period, baseline, value in session.execute(
                select(c.kpi_id, c.period, c.baseline_value, c.requested_value)
                .where(c.kind == KPI_TARGET, c.state == APPROVED)
                .order_by(c.decided_at, c.id)):
            if kpi_id is not None and value is not None:
                table[kpi_id].append((period, baseline, value))
        session.info[_TARGETS] = table
    return {period: value for period, baseline, value in table.get(kpi.id, ())
            if baseline == file_target(kpi, period)}


def forget_targets(session: Session) -> None:
    session.info.pop(_TARGETS, None)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the next transaction reads them afresh
        forget_targets(session)


def in_force_ids(changes: Iterable[ChangeRequest]) -> set[int]:
    """Of these requests (all of an item's, loaded with their milestone or KPI), the ids of
    the approved ones in force: for each item, the latest approved whose baseline is still
    the plan file's (the same choice as :func:`revised_due_dates` and
    :func:`revised_targets`)."""
    latest: dict[tuple[str, int, str], ChangeRequest] = {}
    for change in changes:
        if change.state != APPROVED:
            continue
        if change.kind == ACTION_DUE and change.action is not None:
            item, current = change.action.id, change.baseline_date == change.action.due
        elif change.kind == MILESTONE_DUE and change.milestone is not None:
            item, current = change.milestone.id, \
                change.baseline_date == change.milestone.due
        elif change.kind == KPI_TARGET and change.kpi is not None:
            item = change.kpi.id
            current = change.baseline_value == file_target(change.kpi, change.period)
        else:
            continue
        if not current:
            continue
        key = (change.kind, item, change.period)
        found = latest.get(key)
        if found is None or _decided(change) > _decided(found):
            latest[key] = change
    return {change.id for change in latest.values()}


def _decided(change: ChangeRequest) -> tuple[datetime, int]:
    return (change.decided_at or change.requested_at, change.id)
