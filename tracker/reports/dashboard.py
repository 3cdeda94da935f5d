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
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from kpis.formatting import value_text
from plans import Plan, Quarter
from plans.engine import NOT_STARTED
from plans.rollup import rollup, severity
from plans.rules import Colour
from tracker.db import plain_rows
from tracker.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Commitment,
    Escalation,
    Priority,
    User,
)
from tracker.reports import shape as plan_shape
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
    "detailed",
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
          filters: Filters | None = None, *, priority: str | None = None,
          details: bool = True) -> Dashboard:
    """The dashboard for ``quarter`` (see :func:`choose_quarter`), narrowed by ``filters``.

    With ``priority`` (a ref), only what that priority's page, or one of its commitments'
    pages, shows: that priority, its commitments and their actions, read alone (an eighth of
    a large plan's rows if it has eight priorities), with no escalations or KPIs.

    With ``details=False``, every figure is the same but the actions' words are left out:
    their statuses' reasons and their updates' text (whether an update is an area of concern
    is kept). A page that shows a few actions' words fills those in with :func:`detailed`:
    at 10,000 actions, the words are a quarter of what a dashboard reads.
    """
    filters = filters or Filters()
    quarters = plan_quarters(plan, today)
    previous = quarter.previous() if quarters and quarter != quarters[0] else None
    shape = plan_shape.current(session)
    in_scope = None
    if priority is not None:
        shape = shape.of_priority(priority)
        in_scope = (select(Action.id).join(Commitment, Commitment.id == Action.commitment_id)
                    .join(Priority, Priority.id == Commitment.priority_id)
                    .where(Priority.ref == priority))
    options = _options(shape)
    filters, problems = _checked(filters, options)

    # plain rows, not ORM objects: at 10,000 actions building objects is most of the time
    status = ActionStatus
    # without the reasons, the statuses are read from an index alone
    statuses_query = (select(status.action_id, status.colour, status.rule,
                             status.reason if details else literal("").label("reason"),
                             status.has_update)
                      .where(status.quarter == quarter.label))
    before_query = (select(status.action_id, status.colour, status.rule)
                    .where(status.quarter == (previous.label if previous else "")))
    if in_scope is not None:
        statuses_query = statuses_query.where(status.action_id.in_(in_scope))
        before_query = before_query.where(status.action_id.in_(in_scope))
    # the driver's own rows, without the ORM's (or even Core's) handling of each one
    statuses = {row[0]: row for row in plain_rows(session, statuses_query)}
    before = ({action_id: colour if rule != NOT_STARTED else None
               for action_id, colour, rule in plain_rows(session, before_query)}
              if previous else {})
    updates = (_counting_updates(session, quarter.label, in_scope) if details
               else _concerns_only(session, quarter.label, in_scope))
    revised = revised_due_dates(session)  # approved change requests: the dates in force

    commitment_rows = {
        c.id: CommitmentRow(id=c.id, ref=c.ref, text=c.text, priority_ref=c.priority_ref,
                            parent_ref=c.parent_ref, theme_refs=c.theme_refs)
        for c in shape.commitments
    }
    rows: list[ActionRow] = []
    filtered = any(getattr(filters, name) for name in Filters.NAMES)
    for action in shape.actions:
        now = statuses.get(action.id)
        if now is None:
            continue
        _, colour, rule, reason, has_update = now
        if rule == NOT_STARTED:
            continue
        was = before.get(action.id)
        row = ActionRow(*action.row, revised.get(action.id, action.due), colour, rule,
                        reason, bool(has_update), was, updates.get(action.id),
                        None if was == colour else _change(was, colour),
                        action.due if action.id in revised else None, details)
        if not filtered or _matches(row, filters):
            rows.append(row)

    priority_rows = _roll_up(plan, shape, commitment_rows, rows)
    grid = _theme_grid(plan, shape.themes, priority_rows)
    row_by_id = {row.id: row for row in rows}
    is_current = bool(quarters) and quarter == reporting(plan, today).quarter
    return Dashboard(
        plan_title=plan.partnership.plan.title, partnership=plan.partnership.name,
        quarter=quarter, previous=previous, quarters=quarters,
        is_current=is_current,
        filters=filters, filter_problems=problems, options=options,
        priorities=priority_rows, themes=[(t.ref, t.name) for t in shape.themes],
        theme_grid=grid,
        escalations=[] if priority is not None else _escalations(session, plan, quarter,
                                                                  is_current, row_by_id),
        kpis=[] if priority is not None else _kpis(session, plan, quarter, filters, shape),
        due=reporting(plan, today).due if is_current else quarter.end, today=today,
    )


def _options(shape: plan_shape.Shape) -> dict[str, list[Option]]:
    """What each filter can be set to."""
    return {
        "group": [Option(g.ref, g.name) for g in shape.groups if g.kind != "board"],
        "lead": [Option(a.ref, a.name) for a in shape.leads],
        "theme": [Option(t.ref, t.name) for t in shape.themes],
        "status": [Option(c, WORDS[c]) for c in COLOURS],
    }


def checked_filters(session: Session, filters: Filters) -> tuple[Filters, list[str]]:
    """``filters`` less those that name nothing in the plan, and why each was dropped (as
    :func:`build` does, without building the dashboard)."""
    return _checked(filters, _options(plan_shape.current(session)))


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


def detailed(session: Session, quarter: Quarter, rows: Iterable[ActionRow]) -> None:
    """Fill in the words of ``rows`` of a dashboard built with ``details=False``: their
    statuses' reasons and their updates, in two queries however many rows."""
    lean = {row.id: row for row in rows if not row.detailed}
    if not lean:
        return
    status = ActionStatus
    read = session.connection().execute
    for action_id, reason in read(select(status.action_id, status.reason).where(
            status.quarter == quarter.label, status.action_id.in_(list(lean)))):
        lean[action_id].reason = reason
    updates = _counting_updates(session, quarter.label, list(lean))
    for action_id, row in lean.items():
        row.update, row.detailed = updates.get(action_id), True


def _concerns_only(session: Session, label: str, in_scope: Any = None
                   ) -> dict[int, UpdateView]:
    """Which actions have an update that counts for the quarter, and whether it is an area
    of concern, without its words (see :func:`build`'s ``details``)."""
    u = ActionUpdate
    query = (select(u.action_id, u.is_concern)
             .where(u.quarter == label, u.review.in_(("not_needed", "approved")))
             .order_by(u.version))
    if in_scope is not None:
        query = query.where(u.action_id.in_(in_scope))
    return {action_id: UpdateView.without_words(bool(is_concern))
            for action_id, is_concern in plain_rows(session, query)}


def _counting_updates(session: Session, label: str, in_scope: Any = None
                      ) -> dict[int, UpdateView]:
    """``in_scope``: a query of action ids, or a list of them."""
    u = ActionUpdate
    query = (select(u.action_id, u.rag, u.percent_complete, u.narrative, u.next_steps, u.risks,
                    u.corrective_action, u.is_concern, u.concern_reason, u.created_at,
                    User.name.label("author"))
             .outerjoin(User, User.id == u.author_id)
             .where(u.quarter == label, u.review.in_(("not_needed", "approved")))
             .order_by(u.version))
    if in_scope is not None:
        query = query.where(u.action_id.in_(in_scope))
    # the fields in UpdateView's order (at 10,000 actions, keywords cost a tenth of a page)
    return {
        action_id: UpdateView(rag, percent, narrative, next_steps, risks, corrective,
                              is_concern, concern_reason, author or "", created_at.date())
        for (action_id, rag, percent, narrative, next_steps, risks, corrective, is_concern,
             concern_reason, created_at, author) in session.connection().execute(query)
    }


def _rolled(plan: Plan, items: Iterable[ActionRow]) -> tuple[str, str, Counts]:
    listed: list[tuple[str, Colour]] = [(row.ref, row.colour) for row in items]  # type: ignore[misc]
    result = rollup(plan.rules.rollup, listed)
    return result.colour, result.reason, Counts({str(c): n for c, n in result.counts.items()})


def _roll_up(plan: Plan, shape: plan_shape.Shape, commitment_rows: dict[int, CommitmentRow],
             rows: list[ActionRow]) -> list[PriorityRow]:
    by_commitment: dict[int, list[ActionRow]] = defaultdict(list)
    commitments = shape.commitments
    refs = {c.ref: c for c in commitments}
    for row in rows:
        own = refs[row.commitment_ref]
        by_commitment[own.id].append(row)
        if own.parent_id is not None and own.parent_id in commitment_rows:
            by_commitment[own.parent_id].append(row)
    parts: dict[int, list[plan_shape.CommitmentShape]] = defaultdict(list)
    tops: dict[int, list[plan_shape.CommitmentShape]] = defaultdict(list)
    for c in commitments:
        if c.parent_id is None:
            tops[c.priority_id].append(c)
        else:
            parts[c.parent_id].append(c)
    result = []
    for priority in shape.priorities:
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


def _theme_grid(plan: Plan, themes: Iterable[plan_shape.ThemeShape],
                priorities: list[PriorityRow]
                ) -> dict[tuple[str, str], ThemeCell]:
    grid: dict[tuple[str, str], ThemeCell] = {}
    for priority in priorities:
        touching: dict[str, list[ActionRow]] = defaultdict(list)  # by theme, in order
        for row in priority.actions:
            for ref in row.theme_refs:
                touching[ref].append(row)
        for theme in themes:
            cell = ThemeCell(commitments=sum(
                1 for c in priority.commitments
                if c.parent_ref is None and theme.ref in c.theme_refs))
            touched = touching.get(theme.ref, [])
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
    e = Escalation
    query = (select(e.id, e.action_id, e.rule, e.reason, e.to, e.quarter, e.last_quarter,
                    e.resolved_at).order_by(e.raised_at, e.id))
    if is_current:
        query = query.where(e.resolved_at.is_(None))
    raised_by_end: dict[str, bool] = {}  # by the quarter it was raised in
    result = []
    for found in session.connection().execute(query):
        row = rows.get(found.action_id)
        if row is None:
            continue
        if found.quarter not in raised_by_end:
            raised_by_end[found.quarter] = calendar.parse_quarter(found.quarter) <= quarter
        if not raised_by_end[found.quarter]:
            continue
        if found.resolved_at is not None and found.resolved_at.date() <= quarter.end:
            continue
        result.append(EscalationRow(
            id=found.id, action=row, rule=found.rule, reason=found.reason, to=list(found.to),
            raised_in=found.quarter, last_quarter=found.last_quarter,
            is_open=found.resolved_at is None))
    result.sort(key=lambda e: (0 if "board" in e.to else 1, e.raised_in, e.action.ref))
    return result


def _kpis(session: Session, plan: Plan, quarter: Quarter, filters: Filters,
          shape: plan_shape.Shape) -> list[KpiRow]:
    calendar = plan.partnership.calendar
    definitions = shape.definitions(session, calendar)
    series = kpi_values.current_series(session, shape.kpis, calendar)
    result = []
    for kpi in shape.kpis:
        if filters.theme and filters.theme not in kpi.theme_refs:
            continue
        defn = definitions[kpi.id]
        measure = kpi_values.measured(defn, series.get(kpi.id, ()), quarter.end)
        result.append(KpiRow(
            ref=kpi.ref, name=kpi.name, status=measure.status, reason=measure.reason,
            value=value_text(defn, measure.value) if measure.value is not None else "No data",
            target=value_text(defn, measure.target) if measure.target is not None
            else "No target",
            period=measure.label or "", direction=measure.direction,
            priority_refs=kpi.priority_refs))
    return result
