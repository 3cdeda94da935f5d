"""The plan pages: overview, priority, commitment, action, themes and who's who.

Read-only, and readable without signing in while the deployment allows public reading.
Each page loads what it shows in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.base import ExecutableOption

from tracker import access, clock
from tracker.db import get_session
from tracker.models import (
    KPI,
    Action,
    ActionStatus,
    ActionUpdate,
    Authority,
    Commitment,
    Duty,
    Group,
    Partnership,
    PreventionLevel,
    Principle,
    Priority,
    Theme,
)
from tracker.models.base import PlanItem
from tracker.reports import history
from tracker.services.calendar import plan_quarters

bp = Blueprint("plan", __name__)

ItemT = TypeVar("ItemT", bound=PlanItem)


def _current(model: type[ItemT]) -> list[ItemT]:
    query = select(model).where(model.retired_at.is_(None)).order_by(model.position)
    return list(get_session().scalars(query))


def _action_counts() -> dict[int, int]:
    query = (select(Action.commitment_id, func.count())
             .where(Action.retired_at.is_(None)).group_by(Action.commitment_id))
    return {cid: count for cid, count in get_session().execute(query)}


def _priorities_with_commitments() -> list[Priority]:
    query = (
        select(Priority)
        .order_by(Priority.retired_at.is_not(None), Priority.position)
        .options(
            joinedload(Priority.group),
            selectinload(Priority.commitments).selectinload(Commitment.themes),
        )
    )
    return list(get_session().scalars(query))


def _by_ref(model: type[ItemT], ref: str, *options: ExecutableOption) -> ItemT:
    item = get_session().scalars(select(model).where(model.ref == ref).options(*options)).first()
    if item is None:
        abort(404)
    return item


def _statuses_for(item_type: str, item_id: int, action_ids: list[int]) -> dict[str, object]:
    """The open quarter's roll-up for an item and its actions' statuses (two queries)."""
    from tracker.models import RollupStatus
    from tracker.services.calendar import reporting
    from tracker.services.plan_load import current_plan

    db = get_session()
    plan = current_plan(db)
    if plan is None:
        return {"quarter": None, "rollup": None, "action_statuses": {}, "strip": None}
    quarter = reporting(plan, clock.today()).quarter.label
    rollup = db.scalars(select(RollupStatus).where(
        RollupStatus.item_type == item_type, RollupStatus.item_id == item_id,
        RollupStatus.quarter == quarter)).first()
    statuses = {row.action_id: row for row in db.scalars(select(ActionStatus).where(
        ActionStatus.action_id.in_(action_ids), ActionStatus.quarter == quarter))}
    strips = history.of_rollups(db, item_type, [item_id], plan_quarters(plan, clock.today()))
    return {"quarter": quarter, "rollup": rollup, "action_statuses": statuses,
            "strip": strips.get(item_id)}


@bp.get("/")
@access.reader
def overview() -> str:
    priorities = [p for p in _priorities_with_commitments() if not p.is_retired]
    return render_template(
        "plan/overview.html",
        partnership=get_session().scalars(select(Partnership).limit(1)).first(),
        priorities=priorities,
        action_counts=_action_counts(),
        themes=_current(Theme),
        principles=_current(Principle),
        prevention_levels=_current(PreventionLevel),
        duties=_current(Duty),
    )


@bp.get("/priorities/<ref>")
@access.reader
def priority(ref: str) -> str:
    item = _by_ref(
        Priority, ref, joinedload(Priority.group),
        selectinload(Priority.commitments).selectinload(Commitment.themes),
        selectinload(Priority.commitments).selectinload(Commitment.kpis),
    )
    kpis: dict[str, KPI] = {}
    for commitment in item.commitments:
        for kpi in commitment.kpis:
            kpis.setdefault(kpi.ref, kpi)
    return render_template("plan/priority.html", priority=item, action_counts=_action_counts(),
                           kpis=sorted(kpis.values(), key=lambda k: k.position))


@bp.get("/commitments/<ref>")
@access.reader
def commitment(ref: str) -> str:
    item = _by_ref(
        Commitment, ref, joinedload(Commitment.priority), joinedload(Commitment.parent),
        joinedload(Commitment.prevention), selectinload(Commitment.themes),
        selectinload(Commitment.parts), selectinload(Commitment.kpis),
    )
    ids = [item.id, *(part.id for part in item.parts)]
    actions = list(get_session().scalars(
        select(Action).where(Action.commitment_id.in_(ids))
        .order_by(Action.retired_at.is_not(None), Action.position)
        .options(joinedload(Action.owner), joinedload(Action.lead),
                 joinedload(Action.commitment))
    ))
    return render_template("plan/commitment.html", commitment=item, actions=actions,
                           **_statuses_for("commitment", item.id, [a.id for a in actions]))


@bp.get("/actions/<ref>")
@access.reader
def action(ref: str) -> str:
    from flask_login import current_user

    from tracker.forms.updates import ReviewForm
    from tracker.services.calendar import locked_quarters, reporting
    from tracker.services.plan_load import current_plan

    item = _by_ref(
        Action, ref,
        joinedload(Action.commitment).joinedload(Commitment.priority),
        joinedload(Action.owner), joinedload(Action.lead), joinedload(Action.group),
        joinedload(Action.prevention), selectinload(Action.themes), selectinload(Action.kpis),
        selectinload(Action.milestones),
    )
    db = get_session()
    updates = list(db.scalars(
        select(ActionUpdate).where(ActionUpdate.action_id == item.id)
        .order_by(ActionUpdate.quarter.desc(), ActionUpdate.version.desc())
        .options(joinedload(ActionUpdate.author), joinedload(ActionUpdate.reviewed_by))
    ))
    versions: dict[str, list[ActionUpdate]] = defaultdict(list)
    for update in updates:
        versions[update.quarter].append(update)
    statuses = list(db.scalars(select(ActionStatus).where(ActionStatus.action_id == item.id)
                               .order_by(ActionStatus.quarter.desc())))
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
    priorities = [p for p in _priorities_with_commitments() if not p.is_retired]
    all_themes = _current(Theme)
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
    item = _by_ref(Theme, ref)
    commitments = list(get_session().scalars(
        select(Commitment).join(Commitment.themes).where(Theme.id == item.id)
        .order_by(Commitment.retired_at.is_not(None), Commitment.ref)
        .options(joinedload(Commitment.priority))
    ))
    by_priority: dict[Priority, list[Commitment]] = defaultdict(list)
    for c in sorted(commitments, key=lambda c: (c.priority.position, c.position)):
        by_priority[c.priority].append(c)
    actions = list(get_session().scalars(
        select(Action).join(Action.themes).where(Theme.id == item.id,
                                                 Action.retired_at.is_(None))
        .order_by(Action.position).options(joinedload(Action.commitment))
    ))
    kpis = list(get_session().scalars(
        select(KPI).join(KPI.themes).where(Theme.id == item.id, KPI.retired_at.is_(None))
        .order_by(KPI.position)
    ))
    return render_template("plan/theme.html", theme=item, by_priority=by_priority,
                           actions=actions, kpis=kpis)


@bp.get("/who")
@access.reader
def whos_who() -> str:
    authorities = _current(Authority)
    groups = list(get_session().scalars(
        select(Group).where(Group.retired_at.is_(None)).order_by(Group.position)
        .options(joinedload(Group.lead), joinedload(Group.reports_to),
                 selectinload(Group.members))
    ))
    priorities = {g.id: [] for g in groups}  # type: dict[int, list[Priority]]
    for p in _current(Priority):
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
