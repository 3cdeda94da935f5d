"""Statuses: the rules engine's verdicts, stored per quarter and rolled up.

An action's status for a quarter comes from :mod:`plans.engine` and is stored with the rule
that produced it and the reason. Commitments, priorities and themes roll their actions' statuses
up by the plan's ``rollup`` rule. Statuses are recomputed whenever an update, a plan load or a
KPI value can change them; a change of colour or rule is written to the audit trail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from plans import Plan, Quarter
from plans.engine import ActionFacts, Status, UpdateFacts, escalations_by_quarter, evaluate
from plans.rollup import rollup
from tracker.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Commitment,
    Priority,
    RollupStatus,
    Theme,
    utcnow,
)
from tracker.services import audit
from tracker.services import escalations as escalation_service
from tracker.services.calendar import plan_quarters


@dataclass
class Recomputed:
    actions: int = 0
    changed: list[tuple[str, str, str, str]] = field(default_factory=list)  # ref, quarter, old, new
    added: int = 0
    raised: int = 0


def action_start(plan: Plan, action: Action) -> date:
    """When an action's clock starts: its own start, or the start of its first year."""
    if action.starts is not None:
        return action.starts
    calendar = plan.partnership.calendar
    if action.years:
        return calendar.parse_year(action.years[0]).start
    return plan.partnership.plan.starts


def counting_updates(session: Session, action_ids: Collection[int] | None
                     ) -> dict[int, dict[str, ActionUpdate]]:
    """The update that counts per action and quarter: its latest counting version."""
    query = select(ActionUpdate).where(ActionUpdate.review.in_(("not_needed", "approved")))
    if action_ids is not None:
        query = query.where(ActionUpdate.action_id.in_(action_ids))
    result: dict[int, dict[str, ActionUpdate]] = defaultdict(dict)
    for update in session.scalars(query.order_by(ActionUpdate.version)):
        result[update.action_id][update.quarter] = update
    return result


def facts_for(plan: Plan, action: Action, updates: dict[str, ActionUpdate],
              kpis: dict[Quarter, dict[str, str]] | None = None) -> ActionFacts:
    calendar = plan.partnership.calendar
    return ActionFacts(
        ref=action.ref,
        starts=action_start(plan, action),
        due=action.due,
        updates={
            calendar.parse_quarter(label): UpdateFacts(
                rag=update.rag, percent_complete=update.percent_complete,  # type: ignore[arg-type]
                is_concern=update.is_concern)
            for label, update in updates.items()
        },
        kpis=kpis or {},  # type: ignore[arg-type]
    )


def kpi_facts(session: Session, plan: Plan, actions: list[Action], quarters: list[Quarter]
              ) -> dict[int, dict[Quarter, dict[str, str]]]:
    """Per action and quarter, the status of each KPI linked to it (directly, or through its
    commitment or the commitment a part belongs to)."""
    from tracker.models import KPI
    from tracker.models.delivery import action_kpis
    from tracker.models.kpi import kpi_commitments
    from tracker.services.kpi_values import kpi_statuses

    by_action: dict[int, set[int]] = defaultdict(set)
    for action_id, kpi_id in session.execute(select(action_kpis.c.action_id,
                                                    action_kpis.c.kpi_id)):
        by_action[action_id].add(kpi_id)
    by_commitment: dict[int, set[int]] = defaultdict(set)
    for kpi_id, commitment_id in session.execute(select(kpi_commitments.c.kpi_id,
                                                        kpi_commitments.c.commitment_id)):
        by_commitment[commitment_id].add(kpi_id)
    parents = {c_id: parent for c_id, parent in session.execute(
        select(Commitment.id, Commitment.parent_id))}
    links: dict[int, set[int]] = {}
    for action in actions:
        linked = set(by_action.get(action.id, ()))
        linked |= by_commitment.get(action.commitment_id, set())
        parent = parents.get(action.commitment_id)
        if parent is not None:
            linked |= by_commitment.get(parent, set())
        if linked:
            links[action.id] = linked
    # only the KPIs these actions are linked to are measured (one update: a few KPIs)
    needed = set().union(*links.values()) if links else set()
    if not needed:
        return {}
    statuses = kpi_statuses(session, plan, needed)
    refs = {kpi_id: ref for kpi_id, ref in session.execute(
        select(KPI.id, KPI.ref).where(KPI.id.in_(needed)))}
    result: dict[int, dict[Quarter, dict[str, str]]] = {}
    for action_id, linked in links.items():
        per_quarter: dict[Quarter, dict[str, str]] = {}
        for quarter in quarters:
            found = {refs[k]: statuses[k][quarter.start] for k in linked
                     if quarter.start in statuses.get(k, {})}
            if found:
                per_quarter[quarter] = found
        if per_quarter:
            result[action_id] = per_quarter
    return result


def recompute(session: Session, plan: Plan, today: date,
              action_ids: Iterable[int] | None = None, actor: object = None) -> Recomputed:
    """Recompute stored statuses (all actions, or some) and every roll-up. Flushes only."""
    ids = None if action_ids is None else set(action_ids)
    quarters = plan_quarters(plan, today)
    result = Recomputed()
    if not quarters:
        return result
    query = select(Action).where(Action.retired_at.is_(None))
    if ids is not None:
        query = query.where(Action.id.in_(ids))
    actions = list(session.scalars(query))
    updates = counting_updates(session, [a.id for a in actions] if ids is not None else None)
    stored = _stored(session, [a.id for a in actions] if ids is not None else None)
    kpis = kpi_facts(session, plan, actions, quarters)
    raised = escalation_service.stored(session, [a.id for a in actions] if ids is not None
                                       else None)
    now = utcnow()
    new_rows: list[dict[str, object]] = []
    for action in actions:
        facts = facts_for(plan, action, updates.get(action.id, {}), kpis.get(action.id))
        statuses = evaluate(plan.rules, facts, quarters)
        result.actions += 1
        result.raised += escalation_service.sync(
            session, action, escalation_service.episodes(
                escalations_by_quarter(plan.rules, facts, statuses)), quarters[-1],
            raised.setdefault(action.id, {}), now, actor)
        for status in statuses:
            row = stored.get((action.id, status.quarter.label))
            if row is None:
                new_rows.append(_new_row(action.id, status, now))
                result.added += 1
            elif (row.colour, row.rule, row.reason, row.has_update) != (
                    status.colour, status.rule, status.reason, status.has_update):
                if (row.colour, row.rule) != (status.colour, status.rule):
                    result.changed.append((action.ref, status.quarter.label,
                                           row.colour, status.colour))
                    audit.record(
                        session, actor, "status.changed", "action", action.ref,
                        f"{status.quarter.label}: {row.colour} to {status.colour} "
                        f"({status.rule})",
                        old={"quarter": row.quarter, "colour": row.colour, "rule": row.rule},
                        new={"quarter": row.quarter, "colour": status.colour,
                             "rule": status.rule},
                    )
                row.colour, row.rule, row.reason = status.colour, status.rule, status.reason
                row.has_update, row.computed_at = status.has_update, now
    for start in range(0, len(new_rows), 1000):  # many rows at once: one statement each
        session.execute(insert(ActionStatus), new_rows[start:start + 1000])
    session.flush()
    recompute_rollups(session, plan, quarters, ids)
    return result


def _stored(session: Session, action_ids: list[int] | None
            ) -> dict[tuple[int, str], ActionStatus]:
    query = select(ActionStatus)
    if action_ids is not None:
        query = query.where(ActionStatus.action_id.in_(action_ids))
    return {(row.action_id, row.quarter): row for row in session.scalars(query)}


def _new_row(action_id: int, status: Status, now: object) -> dict[str, object]:
    return {"action_id": action_id, "quarter": status.quarter.label, "colour": status.colour,
            "rule": status.rule, "reason": status.reason, "has_update": status.has_update,
            "computed_at": now}


def recompute_rollups(session: Session, plan: Plan, quarters: list[Quarter],
                      action_ids: Collection[int] | None = None) -> None:
    """Roll action statuses up into commitments (with their parts), priorities and themes.

    With ``action_ids``, only the roll-ups those actions belong to are recomputed (one
    update changes its commitment, priority and themes, not the whole plan's).
    """
    from tracker.models.delivery import action_themes
    from tracker.models.plan import commitment_themes

    labels = [q.label for q in quarters]
    actions = list(session.execute(select(Action.id, Action.ref, Action.commitment_id)
                                   .where(Action.retired_at.is_(None))
                                   .order_by(Action.position)))
    commitments = {c.id: c for c in session.execute(
        select(Commitment.id, Commitment.parent_id, Commitment.priority_id,
               Commitment.retired_at))}
    themes_of_commitment: dict[int, set[int]] = defaultdict(set)
    for c_id, t_id in session.execute(select(commitment_themes.c.commitment_id,
                                             commitment_themes.c.theme_id)):
        themes_of_commitment[c_id].add(t_id)
    themes_of_action: dict[int, set[int]] = defaultdict(set)
    for a_id, t_id in session.execute(select(action_themes.c.action_id,
                                             action_themes.c.theme_id)):
        themes_of_action[a_id].add(t_id)
    members: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for action_id, ref, commitment_id in actions:
        commitment = commitments[commitment_id]
        keys = [("commitment", commitment.id), ("priority", commitment.priority_id)]
        theme_ids = themes_of_action[action_id] | themes_of_commitment[commitment.id]
        if commitment.parent_id is not None:
            keys.append(("commitment", commitment.parent_id))
            theme_ids = theme_ids | themes_of_commitment[commitment.parent_id]
        keys.extend(("theme", theme_id) for theme_id in theme_ids)
        for key in keys:
            members[key].append((action_id, ref))
    if action_ids is None:
        for item_id in _current_ids(session, Priority):
            members.setdefault(("priority", item_id), [])
        for item_id in _current_ids(session, Theme):
            members.setdefault(("theme", item_id), [])
        for c in commitments.values():
            if c.retired_at is None:
                members.setdefault(("commitment", c.id), [])
    else:
        touched = set(action_ids)
        members = {key: group for key, group in members.items()
                   if any(action_id in touched for action_id, _ in group)}
    needed = {action_id for group in members.values() for action_id, _ in group}
    query = select(ActionStatus.action_id, ActionStatus.quarter, ActionStatus.colour).where(
        ActionStatus.quarter.in_(labels))
    if action_ids is not None:
        query = query.where(ActionStatus.action_id.in_(needed))
    status_of: dict[tuple[int, str], str] = {
        (action_id, quarter): colour for action_id, quarter, colour in session.execute(query)}
    existing: dict[tuple[str, int, str], RollupStatus] = {}
    for item_type in ("commitment", "priority", "theme"):
        ids = [item_id for kind, item_id in members if kind == item_type]
        if not ids:
            continue
        rows = select(RollupStatus).where(RollupStatus.item_type == item_type,
                                          RollupStatus.quarter.in_(labels))
        if action_ids is not None:
            rows = rows.where(RollupStatus.item_id.in_(ids))
        existing.update(((r.item_type, r.item_id, r.quarter), r) for r in session.scalars(rows))
    now = utcnow()
    new_rows: list[dict[str, object]] = []
    for (item_type, item_id), group in members.items():
        for label in labels:
            items = [(ref, status_of.get((action_id, label), "grey")) for action_id, ref in group]
            result = rollup(plan.rules.rollup, items)  # type: ignore[arg-type]
            counts = dict(result.counts)
            row = existing.get((item_type, item_id, label))
            if row is None:
                new_rows.append({"item_type": item_type, "item_id": item_id, "quarter": label,
                                 "colour": result.colour, "reason": result.reason,
                                 "counts": counts, "computed_at": now})
            elif (row.colour, row.reason, row.counts) != (result.colour, result.reason, counts):
                row.colour, row.reason, row.counts, row.computed_at = (
                    result.colour, result.reason, counts, now)
    for start in range(0, len(new_rows), 1000):
        session.execute(insert(RollupStatus), new_rows[start:start + 1000])
    session.flush()


def _current_ids(session: Session, model: type[Priority] | type[Theme]) -> list[int]:
    return list(session.scalars(select(model.id).where(model.retired_at.is_(None))))


def ensure_current(session: Session, plan: Plan, today: date) -> bool:
    """Compute statuses for the open quarter if none exist yet (a new quarter has opened).

    Returns whether it computed anything. The caller commits.
    """
    from tracker.services.calendar import reporting

    quarter = reporting(plan, today).quarter.label
    exists = session.scalars(select(ActionStatus.id).where(ActionStatus.quarter == quarter)
                             .limit(1)).first()
    has_actions = session.scalars(select(Action.id).where(Action.retired_at.is_(None))
                                  .limit(1)).first()
    if exists is not None or has_actions is None:
        return False
    recompute(session, plan, today, actor="system")
    return True
