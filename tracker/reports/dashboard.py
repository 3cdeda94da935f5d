"""The board's view of a quarter, built: counts by status, changes, exceptions, escalations, KPIs.

Everything the dashboard, the drill-down pages, the exception report and the board pack show
comes from one :class:`Dashboard`, built from stored statuses (never re-running the rules) in
a fixed number of queries, whatever the size of the plan. Filters (group, lead agency,
theme, status) narrow the actions; commitments and priorities are then rolled up from the
actions that are left, by the plan's own roll-up rule, so a filtered view is consistent with
itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpis.formatting import value_text
from plans import Plan, Quarter
from plans.engine import NOT_STARTED
from plans.rollup import rollup, severity
from tracker.models import (
    KPI,
    Action,
    ActionStatus,
    ActionUpdate,
    Authority,
    Commitment,
    Escalation,
    Group,
    Priority,
    Theme,
    User,
)
from tracker.models import delivery as delivery_tables
from tracker.models import kpi as kpi_tables
from tracker.models import plan as plan_tables
from tracker.reports.figures import (
    CHANGES,
    COLOURS,
    WORDS,
    ActionRow,
    CommitmentRow,
    Counts,
    Dashboard,
    EscalationRow,
    Filters,
    KpiRow,
    Option,
    PriorityRow,
    QuarterUnknown,
    ThemeCell,
    UpdateView,
)
from tracker.services import kpi_values
from tracker.services.calendar import plan_quarters, reporting
from tracker.services.revisions import revised_due_dates

__all__ = [
    "COLOURS",
    "WORDS",
    "CHANGES",
    "QuarterUnknown",
    "Filters",
    "Option",
    "Counts",
    "UpdateView",
    "ActionRow",
    "CommitmentRow",
    "PriorityRow",
    "ThemeCell",
    "EscalationRow",
    "KpiRow",
    "Dashboard",
    "build",
    "checked_filters",
    "choose_quarter",
]


# -- building it ----------------------------------------------------------------------------


def choose_quarter(plan: Plan, today: date, slug: str | None) -> Quarter:
    """The quarter asked for (by slug or label), or the open one; QuarterUnknown if the plan
    has no statuses for it yet."""
    quarters = plan_quarters(plan, today)
    if not slug:
        return reporting(plan, today).quarter if quarters else _no_quarters(plan)
    try:
        quarter = plan.partnership.calendar.parse_quarter(slug)
    except ValueError:
        raise QuarterUnknown(f"'{slug}' is not a quarter: choose one from the list") from None
    if quarter not in quarters:
        first, last = (quarters[0].label, quarters[-1].label) if quarters else ("", "")
        raise QuarterUnknown(f"{quarter.label} has no statuses: choose a quarter from "
                             f"{first} to {last}")
    return quarter


def _no_quarters(plan: Plan) -> Quarter:
    raise QuarterUnknown(f"{plan.partnership.plan.title} has no quarters up to today")


def build(session: Session, plan: Plan, today: date, quarter: Quarter,
          filters: Filters | None = None, *, priority: str | None = None) -> Dashboard:
    """The dashboard for ``quarter`` (see :func:`choose_quarter`), narrowed by ``filters``.

    With ``priority`` (a ref), only what that priority's page, or one of its commitments'
    pages, shows: that priority, its commitments and their actions, read alone (an eighth of
    a large plan's rows if it has eight priorities), with no escalations or KPIs.
    """
    filters = filters or Filters()
    quarters = plan_quarters(plan, today)
    previous = quarter.previous() if quarters and quarter != quarters[0] else None
    priorities_query = (select(Priority).where(Priority.retired_at.is_(None))
                        .order_by(Priority.position))
    if priority is not None:
        priorities_query = priorities_query.where(Priority.ref == priority)
    priorities = list(session.scalars(priorities_query))
    commitments_query = (select(Commitment).where(Commitment.retired_at.is_(None))
                         .order_by(Commitment.position))
    in_scope = None
    if priority is not None:
        commitments_query = commitments_query.where(
            Commitment.priority_id.in_([p.id for p in priorities]))
        in_scope = (select(Action.id).join(Commitment, Commitment.id == Action.commitment_id)
                    .join(Priority, Priority.id == Commitment.priority_id)
                    .where(Priority.ref == priority))
    commitments = list(session.scalars(commitments_query))
    commitment_themes = _pairs(session, plan_tables.commitment_themes.c.commitment_id,
                               plan_tables.commitment_themes.c.theme_id)
    themes = list(session.scalars(select(Theme).where(Theme.retired_at.is_(None))
                                  .order_by(Theme.position)))
    options = _options(session, themes)
    filters, problems = _checked(filters, options)

    labels = [quarter.label] + ([previous.label] if previous else [])
    # plain rows, not ORM objects: at 10,000 actions building objects is most of the time
    statuses_query = (select(ActionStatus.action_id, ActionStatus.quarter, ActionStatus.colour,
                             ActionStatus.rule, ActionStatus.reason, ActionStatus.has_update)
                      .where(ActionStatus.quarter.in_(labels)))
    actions_query = (
        select(Action.id, Action.ref, Action.title, Action.commitment_id, Action.due,
               User.name.label("owner"), User.email.label("owner_email"),
               Authority.name.label("lead"), Authority.ref.label("lead_ref"),
               Group.name.label("group"), Group.ref.label("group_ref"))
        .join(User, User.id == Action.owner_id)
        .join(Authority, Authority.id == Action.lead_id)
        .outerjoin(Group, Group.id == Action.group_id)
        .where(Action.retired_at.is_(None)).order_by(Action.position))
    if in_scope is not None:
        statuses_query = statuses_query.where(ActionStatus.action_id.in_(in_scope))
        actions_query = actions_query.where(Action.id.in_(in_scope))
    statuses = {(row.action_id, row.quarter): row for row in session.execute(statuses_query)}
    updates = _counting_updates(session, quarter.label, in_scope)
    actions = list(session.execute(actions_query))
    revised = revised_due_dates(session)  # approved change requests: the dates in force
    action_themes = _pairs(session, delivery_tables.action_themes.c.action_id,
                           delivery_tables.action_themes.c.theme_id)
    theme_ref = {t.id: t.ref for t in themes}

    by_id = {c.id: c for c in commitments}
    priority_ref = {p.id: p.ref for p in priorities}
    commitment_rows = {
        c.id: CommitmentRow(
            id=c.id, ref=c.ref, text=c.text, priority_ref=priority_ref.get(c.priority_id, ""),
            parent_ref=by_id[c.parent_id].ref if c.parent_id in by_id else None,
            theme_refs=_refs(commitment_themes.get(c.id, ()), theme_ref)
            | (_refs(commitment_themes.get(c.parent_id, ()), theme_ref)
               if c.parent_id in by_id else frozenset()))
        for c in commitments
    }
    rows: list[ActionRow] = []
    for action in actions:
        status = statuses.get((action.id, quarter.label))
        commitment = commitment_rows.get(action.commitment_id)
        if status is None or status.rule == NOT_STARTED or commitment is None:
            continue
        before = statuses.get((action.id, previous.label)) if previous else None
        row = ActionRow(
            id=action.id, ref=action.ref, title=action.title, commitment_ref=commitment.ref,
            priority_ref=commitment.priority_ref, owner=action.owner,
            owner_email=action.owner_email, lead=action.lead, lead_ref=action.lead_ref,
            group=action.group or "", group_ref=action.group_ref or "",
            theme_refs=_refs(action_themes.get(action.id, ()), theme_ref)
            | commitment.theme_refs,
            due=revised.get(action.id, action.due),
            baseline_due=action.due if action.id in revised else None,
            colour=status.colour, rule=status.rule, reason=status.reason,
            has_update=status.has_update,
            previous=None if before is None or before.rule == NOT_STARTED else before.colour,
            update=updates.get(action.id))
        row.change = _change(row.previous, row.colour)
        if _matches(row, filters):
            rows.append(row)

    priority_rows = _roll_up(plan, priorities, commitments, commitment_rows, rows)
    grid = _theme_grid(plan, themes, priority_rows)
    row_by_id = {row.id: row for row in rows}
    is_current = bool(quarters) and quarter == reporting(plan, today).quarter
    return Dashboard(
        plan_title=plan.partnership.plan.title, partnership=plan.partnership.name,
        quarter=quarter, previous=previous, quarters=quarters,
        is_current=is_current,
        filters=filters, filter_problems=problems, options=options,
        priorities=priority_rows, themes=[(t.ref, t.name) for t in themes], theme_grid=grid,
        escalations=[] if priority is not None else _escalations(session, plan, quarter,
                                                                  is_current, row_by_id),
        kpis=[] if priority is not None else _kpis(session, plan, quarter, filters,
                                                   commitments, priority_ref),
        due=reporting(plan, today).due if is_current else quarter.end, today=today,
    )


def _options(session: Session, themes: list[Theme]) -> dict[str, list[Option]]:
    """What each filter can be set to."""
    groups = list(session.scalars(select(Group).where(Group.retired_at.is_(None))
                                  .order_by(Group.position)))
    leads = list(session.scalars(select(Authority).where(Authority.retired_at.is_(None))
                                 .order_by(Authority.position)))
    return {
        "group": [Option(g.ref, g.name) for g in groups if g.kind != "board"],
        "lead": [Option(a.ref, a.name) for a in leads],
        "theme": [Option(t.ref, t.name) for t in themes],
        "status": [Option(c, WORDS[c]) for c in COLOURS],
    }


def checked_filters(session: Session, filters: Filters) -> tuple[Filters, list[str]]:
    """``filters`` less those that name nothing in the plan, and why each was dropped (as
    :func:`build` does, without building the dashboard)."""
    themes = list(session.scalars(select(Theme).where(Theme.retired_at.is_(None))
                                  .order_by(Theme.position)))
    return _checked(filters, _options(session, themes))


def _pairs(session: Session, left: Any, right: Any) -> dict[int, list[int]]:
    """A many-to-many link table as a dict, in one query whatever its size (a relationship's
    ``selectinload`` would send one query per 500 rows)."""
    result: dict[int, list[int]] = defaultdict(list)
    for a, b in session.execute(select(left, right)):
        result[a].append(b)
    return result


def _refs(ids: Iterable[int], refs: Mapping[int, str]) -> frozenset[str]:
    return frozenset(refs[i] for i in ids if i in refs)


def _checked(filters: Filters, options: dict[str, list[Option]]
             ) -> tuple[Filters, list[str]]:
    """Drop filters that name nothing in the plan, saying which and why."""
    kept: dict[str, str] = {}
    problems = []
    nouns = {"group": "group", "lead": "lead agency", "theme": "theme", "status": "status"}
    for name in Filters.NAMES:
        value = getattr(filters, name)
        if not value:
            continue
        if value in {o.value for o in options[name]}:
            kept[name] = value
        else:
            problems.append(f"There is no {nouns[name]} '{value}' in the plan, so that filter "
                            f"was not applied: choose one from the list")
    return Filters(**kept), problems


def _matches(row: ActionRow, filters: Filters) -> bool:
    return ((not filters.group or row.group_ref == filters.group)
            and (not filters.lead or row.lead_ref == filters.lead)
            and (not filters.theme or filters.theme in row.theme_refs)
            and (not filters.status or row.colour == filters.status))


def _change(before: str | None, now: str) -> str | None:
    if before is None or before == now:
        return None
    if now == "blue":
        return "completed"
    if now == "red":
        return "newly_red"
    if "grey" in (before, now) or before == "blue":
        return None
    return "improved" if severity(now) > severity(before) else "worsened"  # type: ignore[arg-type]


def _counting_updates(session: Session, label: str, in_scope: Any = None
                      ) -> dict[int, UpdateView]:
    u = ActionUpdate
    query = (select(u.action_id, u.rag, u.percent_complete, u.narrative, u.next_steps, u.risks,
                    u.corrective_action, u.is_concern, u.concern_reason, u.created_at,
                    User.name.label("author"))
             .outerjoin(User, User.id == u.author_id)
             .where(u.quarter == label, u.review.in_(("not_needed", "approved")))
             .order_by(u.version))
    if in_scope is not None:
        query = query.where(u.action_id.in_(in_scope))
    return {
        row.action_id: UpdateView(
            rag=row.rag, percent_complete=row.percent_complete, narrative=row.narrative,
            next_steps=row.next_steps, risks=row.risks,
            corrective_action=row.corrective_action, is_concern=row.is_concern,
            concern_reason=row.concern_reason, author=row.author or "",
            submitted=row.created_at.date())
        for row in session.execute(query)
    }


def _rolled(plan: Plan, items: Iterable[ActionRow]) -> tuple[str, str, Counts]:
    listed = [(row.ref, row.colour) for row in items]
    result = rollup(plan.rules.rollup, listed)  # type: ignore[arg-type]
    counts = Counts()
    for _, colour in listed:
        counts.add(colour)
    return result.colour, result.reason, counts


def _roll_up(plan: Plan, priorities: list[Priority], commitments: list[Commitment],
             commitment_rows: dict[int, CommitmentRow], rows: list[ActionRow]
             ) -> list[PriorityRow]:
    by_commitment: dict[int, list[ActionRow]] = defaultdict(list)
    refs = {c.ref: c for c in commitments}
    for row in rows:
        own = refs[row.commitment_ref]
        by_commitment[own.id].append(row)
        if own.parent_id is not None and own.parent_id in commitment_rows:
            by_commitment[own.parent_id].append(row)
    parts: dict[int, list[Commitment]] = defaultdict(list)
    tops: dict[int, list[Commitment]] = defaultdict(list)
    for c in commitments:
        if c.parent_id is None:
            tops[c.priority_id].append(c)
        else:
            parts[c.parent_id].append(c)
    result = []
    for priority in priorities:
        prow = PriorityRow(id=priority.id, ref=priority.ref, title=priority.display_title)
        for commitment in tops.get(priority.id, []):
            for c in (commitment, *parts.get(commitment.id, [])):
                crow = commitment_rows[c.id]
                crow.actions = by_commitment.get(c.id, [])
                crow.colour, crow.reason, crow.counts = _rolled(plan, crow.actions)
                prow.commitments.append(crow)
                if c.parent_id is None and crow.actions:
                    prow.commitment_counts.add(crow.colour)
        prow.colour, prow.reason, prow.action_counts = _rolled(plan, prow.actions)
        for row in prow.actions:
            if row.change:
                prow.changes[row.change] += 1
        result.append(prow)
    return result


def _theme_grid(plan: Plan, themes: list[Theme], priorities: list[PriorityRow]
                ) -> dict[tuple[str, str], ThemeCell]:
    grid: dict[tuple[str, str], ThemeCell] = {}
    for priority in priorities:
        for theme in themes:
            cell = ThemeCell(commitments=sum(
                1 for c in priority.commitments
                if c.parent_ref is None and theme.ref in c.theme_refs))
            touched = [r for r in priority.actions if theme.ref in r.theme_refs]
            cell.actions = len(touched)
            if touched:
                cell.colour, cell.reason, cell.counts = _rolled(plan, touched)
            grid[(theme.ref, priority.ref)] = cell
    return grid


def _escalations(session: Session, plan: Plan, quarter: Quarter, is_current: bool,
                 rows: dict[int, ActionRow]) -> list[EscalationRow]:
    """For the open quarter, the escalations open now; for an earlier one, those raised by
    its end and still open when it ended."""
    calendar = plan.partnership.calendar
    result = []
    for e in session.scalars(select(Escalation).order_by(Escalation.raised_at, Escalation.id)):
        row = rows.get(e.action_id)
        if row is None or calendar.parse_quarter(e.quarter) > quarter:
            continue
        if e.resolved_at is not None and (is_current or e.resolved_at.date() <= quarter.end):
            continue
        result.append(EscalationRow(
            id=e.id, action=row, rule=e.rule, reason=e.reason, to=list(e.to),
            raised_in=e.quarter, last_quarter=e.last_quarter, is_open=e.resolved_at is None))
    result.sort(key=lambda e: (0 if "board" in e.to else 1, e.raised_in, e.action.ref))
    return result


def _kpis(session: Session, plan: Plan, quarter: Quarter, filters: Filters,
          commitments: list[Commitment], priority_ref: dict[int, str]) -> list[KpiRow]:
    calendar = plan.partnership.calendar
    kpis = list(session.scalars(
        select(KPI).where(KPI.retired_at.is_(None)).order_by(KPI.position)))
    series = kpi_values.current_series(session, kpis, calendar)
    parent_priority = {c.id: priority_ref.get(c.priority_id, "") for c in commitments}
    linked = _pairs(session, kpi_tables.kpi_commitments.c.kpi_id,
                    kpi_tables.kpi_commitments.c.commitment_id)
    themed: dict[int, set[str]] = defaultdict(set)
    if filters.theme:
        link = kpi_tables.kpi_themes
        for kpi_id, ref in session.execute(select(link.c.kpi_id, Theme.ref)
                                           .join(Theme, Theme.id == link.c.theme_id)):
            themed[kpi_id].add(ref)
    result = []
    for kpi in kpis:
        if filters.theme and filters.theme not in themed.get(kpi.id, ()):
            continue
        defn = kpi_values.definition(kpi, calendar)
        measure = kpi_values.measured(defn, series.get(kpi.id, ()), quarter.end)
        result.append(KpiRow(
            ref=kpi.ref, name=kpi.name, status=measure.status, reason=measure.reason,
            value=value_text(defn, measure.value) if measure.value is not None else "No data",
            target=value_text(defn, measure.target) if measure.target is not None
            else "No target",
            period=measure.label or "", direction=measure.direction,
            priority_refs=frozenset(parent_priority.get(c, "") for c in linked.get(kpi.id, ()))))
    return result
