"""What the read API (``/api/v1``) and the Power BI feed show, read from what is stored.

Each function reads a fixed number of queries whatever the size of the plan: the plan's
shape (:mod:`tracker.reports.shape`, kept per process and read again only when the plan
changes), then one query of plain rows for the statuses, updates, KPI values or
escalations asked for. Nothing is worked out afresh but the KPI measures, which are the
board's own (:func:`tracker.services.kpi_values.measured`, kept per process).

People appear as the board's pages show them: owners, leads and authors by name, never by
email address; no account's password, second factor or email address is read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from plans import Plan
from tracker.models import (
    KPI,
    Action,
    ActionStatus,
    ActionUpdate,
    Escalation,
    Partnership,
    User,
)
from tracker.reports import shape as plan_shape
from tracker.services import kpi_values

COUNTING = ("not_needed", "approved")  # the reviews with which an update counts


@dataclass(frozen=True)
class Page:
    """``size`` rows from ``offset``, and how many there are in all."""

    offset: int
    size: int


def _paged(db: Session, query: Select[*tuple[Any, ...]], page: Page | None
           ) -> tuple[list[Any], int]:
    if page is None:
        rows = list(db.execute(query))
        return rows, len(rows)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return list(db.execute(query.offset(page.offset).limit(page.size))), total


# -- the plan --------------------------------------------------------------------------------


def plan(db: Session) -> dict[str, Any]:
    partnership = db.scalars(select(Partnership).where(Partnership.retired_at.is_(None))
                             ).first()
    shape = plan_shape.current(db)
    return {
        "partnership": None if partnership is None else {
            "ref": partnership.ref, "name": partnership.name, "area": partnership.area,
            "vision": partnership.vision, "plan_title": partnership.plan_title,
            "plan_starts": partnership.plan_starts, "plan_ends": partnership.plan_ends,
            "aims": list(partnership.aims or [])},
        "priorities": [{"ref": p.ref, "title": p.display_title} for p in shape.priorities],
        "commitments": [{"ref": c.ref, "text": c.text, "priority_ref": c.priority_ref,
                         "parent_ref": c.parent_ref, "is_part": c.parent_ref is not None,
                         "theme_refs": sorted(c.theme_refs)} for c in shape.commitments],
        "themes": [{"ref": t.ref, "name": t.name} for t in shape.themes],
        "groups": [{"ref": g.ref, "name": g.name, "kind": g.kind} for g in shape.groups],
    }


def actions(db: Session) -> list[dict[str, Any]]:
    shape = plan_shape.current(db)
    result = []
    for action in shape.actions:
        (_id, ref, title, commitment_ref, priority_ref, owner, _email, lead, lead_ref,
         group, group_ref, themes) = action.row
        result.append({"ref": ref, "title": title, "commitment_ref": commitment_ref,
                       "priority_ref": priority_ref, "owner": owner, "lead": lead,
                       "lead_ref": lead_ref, "group": group or None,
                       "group_ref": group_ref or None, "theme_refs": sorted(themes),
                       "due": action.due})
    return result


# -- statuses, updates, escalations ------------------------------------------------------


STATUS_COLUMNS = ("action_ref", "quarter", "colour", "rule", "reason", "has_update",
                  "computed_at")


def statuses(db: Session, quarter: str | None = None, page: Page | None = None
             ) -> tuple[list[dict[str, Any]], int]:
    """The stored status of each action in each quarter, with the rule that fired and why."""
    s = ActionStatus
    query = (select(Action.ref, s.quarter, s.colour, s.rule, s.reason, s.has_update,
                    s.computed_at).join(Action, Action.id == s.action_id)
             .order_by(s.quarter, Action.position, Action.id))
    if quarter:
        query = query.where(s.quarter == quarter)
    rows, total = _paged(db, query, page)
    return [dict(zip(STATUS_COLUMNS, row, strict=True)) for row in rows], total


UPDATE_COLUMNS = ("action_ref", "quarter", "version", "rag", "percent_complete", "narrative",
                  "next_steps", "risks", "corrective_action", "is_concern", "concern_reason",
                  "author", "submitted_at")


def updates(db: Session, quarter: str | None = None, page: Page | None = None
            ) -> tuple[list[dict[str, Any]], int]:
    """The update that counts for the board for each action and quarter: its latest version
    that needed no review or was approved."""
    u = ActionUpdate
    latest = (select(u.action_id, u.quarter, func.max(u.version).label("version"))
              .where(u.review.in_(COUNTING)).group_by(u.action_id, u.quarter))
    if quarter:
        latest = latest.where(u.quarter == quarter)
    newest = latest.subquery()
    author = aliased(User)
    query = (select(Action.ref, u.quarter, u.version, u.rag, u.percent_complete, u.narrative,
                    u.next_steps, u.risks, u.corrective_action, u.is_concern,
                    u.concern_reason, author.name, u.created_at)
             .join(newest, (newest.c.action_id == u.action_id)
                   & (newest.c.quarter == u.quarter) & (newest.c.version == u.version))
             .join(Action, Action.id == u.action_id)
             .outerjoin(author, author.id == u.author_id)
             .order_by(u.quarter, Action.position, Action.id))
    rows, total = _paged(db, query, page)
    return [dict(zip(UPDATE_COLUMNS, row, strict=True)) for row in rows], total


ESCALATION_COLUMNS = ("id", "action_ref", "rule", "escalated_to", "quarter", "last_quarter",
                      "reason", "raised_at", "is_open", "resolved_at", "resolved_by",
                      "resolution")


def escalations(db: Session, state: str | None = None, page: Page | None = None
                ) -> tuple[list[dict[str, Any]], int]:
    """Escalations, oldest first; ``state`` ``open`` or ``resolved`` narrows them."""
    e = Escalation
    resolver = aliased(User)
    query = (select(e.id, Action.ref, e.rule, e.to, e.quarter, e.last_quarter, e.reason,
                    e.raised_at, e.resolved_at.is_(None), e.resolved_at, resolver.name,
                    e.resolution)
             .join(Action, Action.id == e.action_id)
             .outerjoin(resolver, resolver.id == e.resolved_by_id)
             .order_by(e.raised_at, e.id))
    if state == "open":
        query = query.where(e.resolved_at.is_(None))
    elif state == "resolved":
        query = query.where(e.resolved_at.is_not(None))
    rows, total = _paged(db, query, page)
    found = []
    for row in rows:
        item = dict(zip(ESCALATION_COLUMNS, row, strict=True))
        item["escalated_to"] = list(item["escalated_to"] or [])
        item["is_open"] = bool(item["is_open"])
        found.append(item)
    return found, total


# -- KPIs ------------------------------------------------------------------------------------


def _change(change: Any) -> float | None:
    return None if change is None else getattr(change, "percent", None)


def kpis(db: Session, the_plan: Plan, as_of: date) -> list[dict[str, Any]]:
    """Each KPI with its values that count (the latest for each period) and its measure as
    the board sees it on ``as_of``: three queries (the shape's KPIs, their rows, values)."""
    calendar = the_plan.partnership.calendar
    shape = plan_shape.current(db)
    definitions = shape.definitions(db, calendar)
    rows = {k.id: k for k in db.scalars(select(KPI).where(KPI.retired_at.is_(None)))}
    values = kpi_values.current_values(db, list(rows))
    series = kpi_values.current_series(db, shape.kpis, calendar)
    result = []
    for kpi in shape.kpis:
        row = rows.get(kpi.id)
        if row is None:
            continue
        measure = kpi_values.measured(definitions[kpi.id], series.get(kpi.id, ()), as_of)
        periods = sorted(values.get(kpi.id, {}).values(),
                         key=lambda v: kpi_values.period_start(row, v.period, calendar))
        result.append({
            "ref": kpi.ref, "name": kpi.name, "unit": row.unit, "better": row.better,
            "frequency": row.frequency, "source": row.source,
            "baseline_period": row.baseline_period, "baseline_value": row.baseline_value,
            "target": row.target, "targets": dict(row.targets or {}),
            "priority_refs": sorted(kpi.priority_refs), "theme_refs": sorted(kpi.theme_refs),
            "values": [{"period": v.period,
                        "period_start": kpi_values.period_start(row, v.period, calendar),
                        "value": v.value, "provisional": v.provisional,
                        "data_source": v.data_source, "recorded_at": v.recorded_at}
                       for v in periods],
            "measure": {"as_of": as_of, "period": measure.label, "value": measure.value,
                        "target": measure.target, "status": measure.status,
                        "reason": measure.reason, "direction": measure.direction,
                        "vs_baseline_percent": _change(measure.vs_baseline),
                        "vs_previous_percent": _change(measure.vs_previous),
                        "vs_last_year_percent": _change(measure.vs_last_year)},
        })
    return result


# -- the Power BI feed: flat rows -----------------------------------------------------------

FEED_COLUMNS: dict[str, tuple[str, ...]] = {
    "action-statuses": ("action_ref", "action_title", "commitment_ref", "priority_ref",
                        "group_ref", "lead_ref", "owner", "quarter", "colour", "rule",
                        "reason", "has_update", "computed_at"),
    "kpi-values": ("kpi_ref", "kpi_name", "unit", "better", "frequency", "period",
                   "period_start", "value", "provisional", "data_source", "recorded_at"),
    "escalations": ("escalation_id", "action_ref", "rule", "escalated_to", "quarter_raised",
                    "last_quarter", "reason", "raised_at", "is_open", "resolved_at",
                    "resolution"),
}


def feed(db: Session, name: str, the_plan: Plan | None) -> Iterator[tuple[Any, ...]]:
    """The rows of one feed (see :data:`FEED_COLUMNS`), each in its columns' order: one
    query of rows (and the plan's shape)."""
    if name == "action-statuses":
        by_id = {a.id: a.row for a in plan_shape.current(db).actions}
        s = ActionStatus
        query = (select(s.action_id, s.quarter, s.colour, s.rule, s.reason, s.has_update,
                        s.computed_at).order_by(s.quarter, s.action_id))
        for action_id, quarter, colour, rule, reason, has_update, computed_at in \
                db.execute(query):
            row = by_id.get(action_id)
            if row is None:
                continue  # a retired action
            yield (row[1], row[2], row[3], row[4], row[10] or None, row[8], row[5], quarter,
                   colour, rule, reason, bool(has_update), computed_at)
    elif name == "kpi-values":
        if the_plan is None:
            return
        calendar = the_plan.partnership.calendar
        kpi_rows = {k.id: k for k in db.scalars(select(KPI).where(KPI.retired_at.is_(None))
                                                .order_by(KPI.position, KPI.id))}
        values = kpi_values.current_values(db, list(kpi_rows))
        for kpi_id, kpi in kpi_rows.items():
            found = values.get(kpi_id, {})
            for value in sorted(found.values(), key=lambda v: kpi_values.period_start(
                    kpi, v.period, calendar)):
                yield (kpi.ref, kpi.name, kpi.unit, kpi.better, kpi.frequency, value.period,
                       kpi_values.period_start(kpi, value.period, calendar), value.value,
                       value.provisional, value.data_source, value.recorded_at)
    elif name == "escalations":
        rows, _ = escalations(db)
        for item in rows:
            yield (item["id"], item["action_ref"], item["rule"],
                   ";".join(item["escalated_to"]), item["quarter"], item["last_quarter"],
                   item["reason"], item["raised_at"], item["is_open"], item["resolved_at"],
                   item["resolution"])
    else:
        raise KeyError(name)


def plain(value: Any) -> Any:
    """A feed value as CSV and JSON carry it: dates and times in ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
