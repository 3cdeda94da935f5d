"""The plan pages: overview, priority, commitment, action, themes and who's who.

Read-only, and readable without signing in while the deployment allows public reading.
Each page loads what it shows in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from tracker import access, clock
from tracker.db import get_session
from tracker.forms.updates import ReviewForm
from tracker.models import (
    KPI,
    ActionUpdate,
    Authority,
    Commitment,
    Duty,
    PreventionLevel,
    Principle,
    Priority,
    Theme,
)
from tracker.reports import history
from tracker.services import plan_pages
from tracker.services.calendar import locked_quarters, plan_quarters, reporting
from tracker.services.plan_load import current_plan

bp = Blueprint("plan", __name__)

T = TypeVar("T")


def _found(item: T | None) -> T:
    """The item the address names, or a page not found."""
    if item is None:
        abort(404)
    return item


def _statuses_for(item_type: str, item_id: int, action_ids: list[int]) -> dict[str, object]:
    """The open quarter's roll-up for an item and its actions' statuses (two queries)."""
    db = get_session()
    plan = current_plan(db)
    if plan is None:
        return {"quarter": None, "rollup": None, "action_statuses": {}, "strip": None}
    quarter = reporting(plan, clock.today()).quarter.label
    rollup = plan_pages.rollup_of(db, item_type, item_id, quarter)
    statuses = plan_pages.statuses_of(db, action_ids, quarter)
    strips = history.of_rollups(db, item_type, [item_id], plan_quarters(plan, clock.today()))
    return {"quarter": quarter, "rollup": rollup, "action_statuses": statuses,
            "strip": strips.get(item_id)}


@bp.get("/")
@access.reader
def overview() -> str:
    db = get_session()
    priorities = [p for p in plan_pages.priorities_with_commitments(db) if not p.is_retired]
    return render_template(
        "plan/overview.html",
        partnership=plan_pages.partnership(db),
        priorities=priorities,
        action_counts=plan_pages.action_counts(db),
        themes=plan_pages.current(db, Theme),
        principles=plan_pages.current(db, Principle),
        prevention_levels=plan_pages.current(db, PreventionLevel),
        duties=plan_pages.current(db, Duty),
    )


@bp.get("/priorities/<ref>")
@access.reader
def priority(ref: str) -> str:
    db = get_session()
    item = _found(plan_pages.find_priority(db, ref))
    kpis: dict[str, KPI] = {}
    for commitment in item.commitments:
        for kpi in commitment.kpis:
            kpis.setdefault(kpi.ref, kpi)
    return render_template("plan/priority.html", priority=item,
                           action_counts=plan_pages.action_counts(db),
                           kpis=sorted(kpis.values(), key=lambda k: k.position))


@bp.get("/commitments/<ref>")
@access.reader
def commitment(ref: str) -> str:
    db = get_session()
    item = _found(plan_pages.find_commitment(db, ref))
    ids = [item.id, *(part.id for part in item.parts)]
    actions = plan_pages.commitment_actions(db, ids)
    return render_template("plan/commitment.html", commitment=item, actions=actions,
                           **_statuses_for("commitment", item.id, [a.id for a in actions]))


@bp.get("/actions/<ref>")
@access.reader
def action(ref: str) -> str:
    db = get_session()
    item = _found(plan_pages.find_action(db, ref))
    updates = plan_pages.updates_of(db, item.id)
    versions: dict[str, list[ActionUpdate]] = defaultdict(list)
    for update in updates:
        versions[update.quarter].append(update)
    statuses = plan_pages.status_history(db, item.id)
    plan = current_plan(db)
    period = reporting(plan, clock.today()) if plan else None
    board_quarter = None
    if plan is not None and request.args.get("quarter") and current_user.is_authenticated:
        try:  # reached from the board's pages: the way back keeps the chosen quarter
            board_quarter = plan.partnership.calendar.parse_quarter(request.args["quarter"])
        except ValueError:
            board_quarter = None
    return render_template(
        "plan/action.html", action=item, versions=versions, statuses=statuses,
        strip=history.of_rows(statuses),
        board_quarter=board_quarter,
        period=period, locked=locked_quarters(db),
        can_update=access.can_update(current_user, item),
        can_approve=access.can_approve(current_user, item), review_form=ReviewForm(),
    )


@bp.get("/themes")
@access.reader
def themes() -> str:
    db = get_session()
    priorities = [p for p in plan_pages.priorities_with_commitments(db) if not p.is_retired]
    all_themes = plan_pages.current(db, Theme)
    grid: dict[tuple[int, int], list[Commitment]] = defaultdict(list)
    for priority_item in priorities:
        for c in priority_item.commitments:
            if c.is_retired:
                continue
            for theme in c.themes:
                grid[(theme.id, priority_item.id)].append(c)
    return render_template("plan/themes.html", themes=all_themes, priorities=priorities,
                           grid=grid)


@bp.get("/themes/<ref>")
@access.reader
def theme(ref: str) -> str:
    db = get_session()
    item = _found(plan_pages.find_theme(db, ref))
    commitments = plan_pages.theme_commitments(db, item.id)
    by_priority: dict[Priority, list[Commitment]] = defaultdict(list)
    for c in sorted(commitments, key=lambda c: (c.priority.position, c.position)):
        by_priority[c.priority].append(c)
    actions = plan_pages.theme_actions(db, item.id)
    kpis = plan_pages.theme_kpis(db, item.id)
    return render_template("plan/theme.html", theme=item, by_priority=by_priority,
                           actions=actions, kpis=kpis)


@bp.get("/who")
@access.reader
def whos_who() -> str:
    db = get_session()
    authorities = plan_pages.current(db, Authority)
    groups = plan_pages.groups_with_people(db)
    priorities = {g.id: [] for g in groups}  # type: dict[int, list[Priority]]
    for p in plan_pages.current(db, Priority):
        if p.group_id in priorities:
            priorities[p.group_id].append(p)
    kinds = ("board", "thematic", "forum")
    return render_template(
        "plan/whos_who.html",
        responsible=[a for a in authorities if a.is_responsible],
        partners=[a for a in authorities if not a.is_responsible],
        groups_by_kind={k: [g for g in groups if g.kind == k] for k in kinds},
        priorities_by_group=priorities,
    )
