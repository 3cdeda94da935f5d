"""Statuses: the rules engine's verdicts, stored per quarter and rolled up.

An action's status for a quarter comes from :mod:`plans.engine` and is stored with the rule
that produced it and the reason. Commitments, priorities and themes roll their actions' statuses
up by the plan's ``rollup`` rule. Statuses are recomputed whenever an update, a plan load or a
KPI value can change them; a change of colour or rule is written to the audit trail.

Recomputing is two steps, so that the long one holds no lock:

1. :func:`work_out` reads the facts (updates, dates, KPI statuses) and works out every
   status, escalation episode and roll-up, writing nothing;
2. :func:`store` writes what differs from what is stored, in bulk. It first checks what
   changed since step 1: an action whose ``revision`` moved on (its facts changed, by an
   update, a review or a KPI value, and it was recomputed for that) is worked out again
   there and then, and a plan loaded in between makes it refuse (:class:`PlanChanged`):
   the newer plan's recompute wins.

:func:`recompute` does both in one transaction (for one update's action, or a few); commands
and jobs that recompute everything run step 1 in a read transaction and step 2 in a short
write transaction (:func:`tracker.work.recompute_everything`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, cast

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from plans import Plan, Quarter
from plans.engine import (
    ActionFacts,
    Status,
    UpdateFacts,
    escalations_by_quarter,
    evaluate,
    status_word,
)
from plans.rollup import rollup
from plans.rules import Colour, as_colour
from tracker.db import ChangedMeanwhile
from tracker.models import (
    KPI,
    Action,
    ActionStatus,
    ActionUpdate,
    Commitment,
    PlanLoad,
    Priority,
    RollupStatus,
    StatusRun,
    Theme,
    utcnow,
)
from tracker.models.delivery import action_kpis, action_themes
from tracker.models.kpi import kpi_commitments
from tracker.models.plan import commitment_themes
from tracker.services import audit
from tracker.services import escalations as escalation_service
from tracker.services.calendar import plan_quarters, reporting
from tracker.services.kpi_values import kpi_statuses
from tracker.services.revisions import revised_due_dates

COUNTING = ("not_needed", "approved")  # the reviews under which an update counts
BATCH = 1000


class PlanChanged(ChangedMeanwhile):
    """A plan was loaded while these statuses were being worked out: they are not stored
    (a request or job that meets it runs again, on the new plan)."""


@dataclass
class Recomputed:
    actions: int = 0
    changed: list[tuple[str, str, str, str]] = field(default_factory=list)  # ref, quarter, old, new
    added: int = 0
    raised: int = 0
    again: int = 0  # actions worked out again at the store, having changed in between


RollupKey = tuple[str, int, str]  # item type, item id, quarter label
RollupValue = tuple[str, str, dict[str, int]]  # colour, reason, counts


StoredStatus = tuple[int, str, str, str, bool]  # id, colour, rule, reason, has_update
StoredRollup = tuple[int, str, str, dict[str, int]]  # id, colour, reason, counts


@dataclass
class Writes:
    """What storing changes: rows to insert and to update (by id), the changes to audit."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    audits: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    # ref, quarter, old colour, old rule, new colour, new rule


@dataclass
class Worked:
    """Statuses worked out (:func:`work_out`), not yet stored (:func:`store`)."""

    today: date
    quarters: list[Quarter]
    scope: frozenset[int] | None  # the actions worked out; None: every current action
    plan_load: int | None
    revisions: dict[int, int] = field(default_factory=dict)
    refs: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, list[Status]] = field(default_factory=dict)
    episodes: dict[int, list[escalation_service.Episode]] = field(default_factory=dict)
    # for the whole plan only: the roll-ups, and what storing would change, worked out
    # against the statuses stored when they were read (after the status run ``run``)
    rollups: dict[RollupKey, RollupValue] | None = None
    run: int | None = None
    status_writes: Writes | None = None
    rollup_writes: Writes | None = None


class Dated(Protocol):
    """What :func:`action_start` needs of an action (a model or a plain row)."""

    starts: date | None
    years: list[str]


def action_start(plan: Plan, action: Dated) -> date:
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
    query = select(ActionUpdate).where(ActionUpdate.review.in_(COUNTING))
    if action_ids is not None:
        query = query.where(ActionUpdate.action_id.in_(action_ids))
    result: dict[int, dict[str, ActionUpdate]] = defaultdict(dict)
    for update_row in session.scalars(query.order_by(ActionUpdate.version)):
        result[update_row.action_id][update_row.quarter] = update_row
    return result


def _counting_facts(session: Session, plan: Plan, action_ids: Collection[int] | None
                    ) -> dict[int, dict[Quarter, UpdateFacts]]:
    """Like :func:`counting_updates`, as the engine's facts, from plain rows."""
    u = ActionUpdate
    query = (select(u.action_id, u.quarter, u.rag, u.percent_complete, u.is_concern)
             .where(u.review.in_(COUNTING)).order_by(u.version))
    if action_ids is not None:
        query = query.where(u.action_id.in_(action_ids))
    parse = _quarter_parser(plan)
    result: dict[int, dict[Quarter, UpdateFacts]] = defaultdict(dict)
    for action_id, label, rag, percent, concern in session.execute(query):
        result[action_id][parse(label)] = UpdateFacts(
            rag=as_colour(rag), percent_complete=percent, is_concern=concern)
    return result


def _quarter_parser(plan: Plan) -> Any:
    calendar = plan.partnership.calendar
    seen: dict[str, Quarter] = {}

    def parse(label: str) -> Quarter:
        found = seen.get(label)
        if found is None:
            found = seen[label] = calendar.parse_quarter(label)
        return found

    return parse


def facts_for(plan: Plan, action: Any, updates: Mapping[str, ActionUpdate],
              kpis: dict[Quarter, dict[str, str]] | None = None) -> ActionFacts:
    calendar = plan.partnership.calendar
    return ActionFacts(
        ref=action.ref,
        starts=action_start(plan, action),
        due=action.due,
        updates={
            calendar.parse_quarter(label): UpdateFacts(
                rag=update_row.rag, percent_complete=update_row.percent_complete,  # type: ignore[arg-type]
                is_concern=update_row.is_concern)
            for label, update_row in updates.items()
        },
        kpis=kpis or {},  # type: ignore[arg-type]
    )


def kpi_facts(session: Session, plan: Plan, actions: Iterable[Any], quarters: list[Quarter]
              ) -> dict[int, dict[Quarter, dict[str, str]]]:
    """Per action and quarter, the status of each KPI linked to it (directly, or through its
    commitment or the commitment a part belongs to)."""
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


def latest_plan_load(session: Session) -> int | None:
    return session.scalar(select(PlanLoad.id).order_by(PlanLoad.id.desc()).limit(1))


# -- step 1: working it out ------------------------------------------------------------------


def latest_run(session: Session) -> int | None:
    return session.scalar(select(StatusRun.id).order_by(StatusRun.id.desc()).limit(1))


def work_out(session: Session, plan: Plan, today: date,
             action_ids: Iterable[int] | None = None) -> Worked:
    """Work out the statuses and escalation episodes of these actions, or of every current
    one, as on ``today``; for the whole plan, also the roll-ups and what storing them all
    would change. Reads only."""
    ids = None if action_ids is None else frozenset(action_ids)
    quarters = plan_quarters(plan, today)
    worked = Worked(today=today, quarters=quarters, scope=ids,
                    plan_load=latest_plan_load(session))
    if not quarters:
        return worked
    query = (select(Action.id, Action.ref, Action.starts, Action.years, Action.due,
                    Action.commitment_id, Action.revision)
             .where(Action.retired_at.is_(None)).order_by(Action.position))
    if ids is not None:
        query = query.where(Action.id.in_(ids))
    actions = list(session.execute(query))
    updates = _counting_facts(session, plan, ids)
    kpis = kpi_facts(session, plan, actions, quarters)
    # an approved revised due date counts instead of the plan file's (the baseline)
    revised = revised_due_dates(session, ids)
    rules = plan.rules
    for action in actions:
        due = revised.get(action.id, action.due)
        facts = ActionFacts(ref=action.ref, starts=action_start(plan, action), due=due,
                            updates=updates.get(action.id, {}),
                            kpis=kpis.get(action.id, {}))  # type: ignore[arg-type]
        statuses = evaluate(rules, facts, quarters)
        worked.refs[action.id] = action.ref
        worked.revisions[action.id] = action.revision
        worked.statuses[action.id] = statuses
        worked.episodes[action.id] = escalation_service.episodes(
            escalations_by_quarter(rules, facts, statuses))
    if ids is None:
        labels = [q.label for q in quarters]
        status_of = {(action_id, s.quarter.label): s.colour
                     for action_id, statuses in worked.statuses.items() for s in statuses}
        worked.rollups = _rollups(plan, _members(session, None), status_of, labels)
        worked.run = latest_run(session)
        worked.status_writes = _status_writes(worked, worked.statuses,
                                              _stored_statuses(session, None))
        worked.rollup_writes = _rollup_writes(worked.rollups,
                                              _stored_rollups(session, labels, None))
    return worked


# -- step 2: storing it ----------------------------------------------------------------------


def store(session: Session, plan: Plan, worked: Worked, actor: audit.Actor = None) -> Recomputed:
    """Store what :func:`work_out` found, where it differs from what is stored. Flushes only.

    Raises :class:`PlanChanged` (having written nothing) if a plan was loaded since.
    """
    result = Recomputed()
    if not worked.quarters:
        return result
    if latest_plan_load(session) != worked.plan_load:
        raise PlanChanged("a plan was loaded while the statuses were being worked out")
    scope = worked.scope
    current = select(Action.id, Action.revision).where(Action.retired_at.is_(None))
    if scope is not None:
        current = current.where(Action.id.in_(scope))
    revisions: dict[int, int] = {row.id: row.revision for row in session.execute(current)}
    moved = {action_id for action_id, revision in revisions.items()
             if worked.revisions.get(action_id) != revision}
    if moved:  # changed since step 1 (or new): worked out again, with what is there now
        again = work_out(session, plan, worked.today, moved)
        worked.refs.update(again.refs)
        worked.revisions.update(again.revisions)
        worked.statuses.update(again.statuses)
        worked.episodes.update(again.episodes)
        result.again = len(again.statuses)
    for action_id in set(worked.statuses) - set(revisions):  # retired since step 1
        for table in (worked.refs, worked.revisions, worked.statuses, worked.episodes):
            table.pop(action_id, None)
    ids = list(worked.statuses)
    whole = scope is None
    # what was worked out against the stored statuses still holds unless another recompute
    # of the whole plan was stored since; the actions that moved are compared afresh
    precomputed = whole and worked.status_writes is not None and \
        worked.run == latest_run(session)
    if precomputed:
        assert worked.status_writes is not None
        writes = _without(worked.status_writes, moved, worked.refs)
        if moved:
            fresh = _status_writes(worked, {i: worked.statuses[i] for i in moved},
                                   _stored_statuses(session, moved))
            writes = _joined(writes, fresh)
    else:
        writes = _status_writes(worked, worked.statuses,
                                _stored_statuses(session, None if whole else ids))
    if scope is not None:
        # these actions are recomputed because their facts changed (an update, a review, a
        # KPI value): a recompute of the whole plan still working them out sees that
        session.execute(update(Action).where(Action.id.in_(ids))
                        .values(revision=Action.revision + 1)
                        .execution_options(synchronize_session=False))
    now = utcnow()
    _write(session, ActionStatus, writes, now)
    for ref, label, old_colour, old_rule, colour, rule in writes.audits:
        result.changed.append((ref, label, old_colour, colour))
        audit.record(session, actor, "status.changed", "action", ref,
                     f"{label}: {old_colour} to {colour} ({rule})",
                     old={"quarter": label, "colour": old_colour, "rule": old_rule},
                     new={"quarter": label, "colour": colour, "rule": rule})
    result.added = len(writes.new)
    result.raised = _store_escalations(session, worked, actor, now)
    session.flush()
    if whole:
        assert worked.rollups is not None
        if precomputed and not moved and worked.rollup_writes is not None:
            _write(session, RollupStatus, worked.rollup_writes, now)
        else:
            labels = [q.label for q in worked.quarters]
            _write(session, RollupStatus, _rollup_writes(
                worked.rollups, _stored_rollups(session, labels, None)), now)
            if moved:
                recompute_rollups(session, plan, worked.quarters, moved)
        session.add(StatusRun(actor=str(getattr(actor, "email", actor) or audit.SYSTEM),
                              today=worked.today, actions=len(ids),
                              changed=len(result.changed)))
    else:
        recompute_rollups(session, plan, worked.quarters, ids)
    session.flush()
    result.actions = len(ids)
    return result


def recompute(session: Session, plan: Plan, today: date,
              action_ids: Iterable[int] | None = None, actor: audit.Actor = None) -> Recomputed:
    """Work out and store the statuses of some actions (or all), in the caller's
    transaction. Flushes only."""
    return store(session, plan, work_out(session, plan, today, action_ids), actor)


def _stored_statuses(session: Session, action_ids: Collection[int] | None
                     ) -> dict[tuple[int, str], StoredStatus]:
    s = ActionStatus
    query = select(s.id, s.action_id, s.quarter, s.colour, s.rule, s.reason, s.has_update)
    if action_ids is not None:
        query = query.where(s.action_id.in_(list(action_ids)))
    return {(action_id, quarter): (row_id, colour, rule, reason, bool(has_update))
            for row_id, action_id, quarter, colour, rule, reason, has_update
            in session.connection().execute(query)}


def _status_writes(worked: Worked, statuses: Mapping[int, list[Status]],
                   stored: Mapping[tuple[int, str], StoredStatus]) -> Writes:
    """What storing ``statuses`` would change, against ``stored`` (plain computation)."""
    writes = Writes()
    for action_id, found in statuses.items():
        ref = worked.refs[action_id]
        for status in found:
            label = status.quarter.label
            row = stored.get((action_id, label))
            values = {"colour": status.colour, "rule": status.rule, "reason": status.reason,
                      "has_update": status.has_update}
            if row is None:
                writes.new.append({"action_id": action_id, "quarter": label, **values})
                continue
            row_id, colour, rule, reason, has_update = row
            if (colour, rule, reason, has_update) == (status.colour, status.rule,
                                                      status.reason, status.has_update):
                continue
            writes.changed.append({"id": row_id, "action_id": action_id, **values})
            if (colour, rule) != (status.colour, status.rule):
                writes.audits.append((ref, label, colour, rule, status.colour, status.rule))
    return writes


def _without(writes: Writes, action_ids: Collection[int], refs: Mapping[int, str]) -> Writes:
    """``writes`` less those of these actions (they are worked out again)."""
    if not action_ids:
        return writes
    skip = set(action_ids)
    skip_refs = {refs[i] for i in skip if i in refs}
    return Writes(new=[row for row in writes.new if row["action_id"] not in skip],
                  changed=[row for row in writes.changed if row["action_id"] not in skip],
                  audits=[a for a in writes.audits if a[0] not in skip_refs])


def _joined(first: Writes, second: Writes) -> Writes:
    return Writes(first.new + second.new, first.changed + second.changed,
                  first.audits + second.audits)


def _write(session: Session, model: type[ActionStatus] | type[RollupStatus], writes: Writes,
           now: object) -> None:
    """Insert and update the rows, many at a time (one statement per batch)."""
    new = [{**row, "computed_at": now} for row in writes.new]
    changed = [{key: value for key, value in row.items() if key != "action_id"}
               | {"computed_at": now} for row in writes.changed]
    for start in range(0, len(new), BATCH):
        session.execute(insert(model), new[start:start + BATCH])
    for start in range(0, len(changed), BATCH):
        session.execute(update(model), changed[start:start + BATCH])


def _store_escalations(session: Session, worked: Worked, actor: audit.Actor, now: Any) -> int:
    if not worked.quarters:
        return 0
    raised = escalation_service.stored(
        session, list(worked.statuses) if worked.scope is not None else None)
    actions = {a.id: a for a in session.scalars(select(Action).where(
        Action.id.in_([i for i in worked.statuses
                       if worked.episodes.get(i) or raised.get(i)])))}
    count = 0
    for action_id, action in actions.items():
        count += escalation_service.sync(
            session, action, worked.episodes.get(action_id, []), worked.quarters[-1],
            raised.setdefault(action_id, {}), now, actor)
    return count


# -- roll-ups --------------------------------------------------------------------------------

Members = dict[tuple[str, int], list[tuple[int, str]]]


def _members(session: Session, action_ids: Collection[int] | None) -> Members:
    """Which actions each commitment (with its parts), priority and theme rolls up: every
    item (even with no actions), or only those the given actions belong to."""
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
    members: Members = defaultdict(list)
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
        return dict(members)
    touched = set(action_ids)
    return {key: group for key, group in members.items()
            if any(action_id in touched for action_id, _ in group)}


def _rollups(plan: Plan, members: Members, status_of: Mapping[tuple[int, str], str],
             labels: list[str]) -> dict[RollupKey, RollupValue]:
    result: dict[RollupKey, RollupValue] = {}
    method = plan.rules.rollup
    for (item_type, item_id), group in members.items():
        for label in labels:
            items = [(ref, status_of.get((action_id, label), "grey")) for action_id, ref in group]
            rolled = rollup(method, items)  # type: ignore[arg-type]
            result[(item_type, item_id, label)] = (
                rolled.colour, rolled.reason, {colour: n for colour, n in rolled.counts.items()})
    return result


def _stored_rollups(session: Session, labels: list[str],
                    keys: Collection[tuple[str, int]] | None) -> dict[RollupKey, StoredRollup]:
    """The stored roll-ups of these quarters: all, or those of the given items."""
    r = RollupStatus
    query = select(r.id, r.item_type, r.item_id, r.quarter, r.colour, r.reason, r.counts).where(
        r.quarter.in_(labels))
    wanted: dict[str, set[int]] | None = None
    if keys is not None:
        wanted = defaultdict(set)
        for item_type, item_id in keys:
            wanted[item_type].add(item_id)
    found: dict[RollupKey, StoredRollup] = {}
    for item_type in ("commitment", "priority", "theme"):
        rows = query.where(r.item_type == item_type)
        if wanted is not None:
            if not wanted.get(item_type):
                continue
            rows = rows.where(r.item_id.in_(sorted(wanted[item_type])))
        for row_id, kind, item_id, quarter, colour, reason, counts in session.execute(rows):
            found[(kind, item_id, quarter)] = (row_id, colour, reason, counts)
    return found


def _rollup_writes(found: Mapping[RollupKey, RollupValue],
                   existing: Mapping[RollupKey, StoredRollup]) -> Writes:
    writes = Writes()
    for key, (colour, reason, counts) in found.items():
        row = existing.get(key)
        if row is None:
            item_type, item_id, label = key
            writes.new.append({"item_type": item_type, "item_id": item_id, "quarter": label,
                               "colour": colour, "reason": reason, "counts": counts})
        elif (row[1], row[2], row[3]) != (colour, reason, counts):
            writes.changed.append({"id": row[0], "colour": colour, "reason": reason,
                                   "counts": counts})
    return writes


def recompute_rollups(session: Session, plan: Plan, quarters: list[Quarter],
                      action_ids: Collection[int] | None = None) -> None:
    """Roll stored action statuses up into commitments (with their parts), priorities and
    themes: all of them, or (with ``action_ids``) only those these actions belong to (one
    update changes its commitment, priority and themes, not the whole plan's)."""
    labels = [q.label for q in quarters]
    members = _members(session, action_ids)
    query = select(ActionStatus.action_id, ActionStatus.quarter, ActionStatus.colour).where(
        ActionStatus.quarter.in_(labels))
    if action_ids is not None:
        needed = {action_id for group in members.values() for action_id, _ in group}
        query = query.where(ActionStatus.action_id.in_(needed))
    status_of = {(action_id, quarter): colour
                 for action_id, quarter, colour in session.execute(query)}
    found = _rollups(plan, members, status_of, labels)
    existing = _stored_rollups(session, labels, None if action_ids is None else list(members))
    _write(session, RollupStatus, _rollup_writes(found, existing), utcnow())
    session.flush()


def _current_ids(session: Session, model: type[Priority] | type[Theme]) -> list[int]:
    return list(session.scalars(select(model.id).where(model.retired_at.is_(None))))


# -- a quarter opening -----------------------------------------------------------------------


def needs_opening(session: Session, plan: Plan, today: date) -> bool:
    """Whether the quarter open on ``today`` has no statuses yet (it has just opened), so
    that the scheduler's ``statuses`` job (or ``tracker statuses recompute``) works them out.
    Reads only: pages never store statuses."""
    quarter = reporting(plan, today).quarter.label
    exists = session.scalars(select(ActionStatus.id).where(ActionStatus.quarter == quarter)
                             .limit(1)).first()
    has_actions = session.scalars(select(Action.id).where(Action.retired_at.is_(None))
                                  .limit(1)).first()
    return exists is None and has_actions is not None


def worked_out_on(session: Session, today: date) -> bool:
    """Whether every status was worked out as on ``today`` since the plan was last loaded
    (a run of the statuses job, ``tracker statuses recompute`` or a plan load): then jobs
    read the stored statuses instead of working them out again."""
    loaded = session.scalar(select(func.max(PlanLoad.loaded_at)))
    query = select(StatusRun.id).where(StatusRun.today == today)
    if loaded is not None:
        query = query.where(StatusRun.stored_at >= loaded)
    return session.scalars(query.limit(1)).first() is not None


@dataclass(frozen=True)
class StatusWord:
    """An action's stored status for a quarter as a reader is told it."""

    rule: str
    word: str  # the colour's word (``Red``), or a grey status's rule's (``No update``)


def status_words(session: Session, quarter: Quarter) -> dict[int, StatusWord]:
    """Each action's stored status for ``quarter``, in words, by action id."""
    rows = session.execute(select(ActionStatus.action_id, ActionStatus.colour, ActionStatus.rule)
                           .where(ActionStatus.quarter == quarter.label))
    return {action_id: StatusWord(rule, status_word(cast(Colour, colour), rule))
            for action_id, colour, rule in rows}


def ensure_current(session: Session, plan: Plan, today: date) -> bool:
    """Compute statuses for the open quarter if none exist yet, in the caller's write
    transaction (commands). Returns whether it computed anything."""
    if not needs_opening(session, plan, today):
        return False
    recompute(session, plan, today, actor=audit.SYSTEM)
    return True
