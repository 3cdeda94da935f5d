"""KPI pages: the list at a glance, each KPI's chart and numbers, and entering values."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

import kpis as measures
from kpis.formatting import value_text
from plans import Plan
from tracker import access, clock
from tracker.db import get_session
from tracker.forms.kpis import KpiValueForm
from tracker.models import KPI, Group, Priority, Theme, User
from tracker.services import kpi_pages, kpi_values, plan_pages
from tracker.services.statuses import recompute
from tracker.views import plan_or_404, refuse

bp = Blueprint("kpis", __name__)

ARROWS = {"improving": "↑", "worsening": "↓", "stable": "→", "no data": "–"}


_plan = plan_or_404


def can_enter(user: object, kpi: KPI) -> bool:
    """A KPI's owner, or an admin, enters its values."""
    if not getattr(user, "is_authenticated", False):
        return False
    return access.is_admin(user) or kpi.owner_id == getattr(user, "id", None)


def _groups_of(kpi: KPI, priorities: dict[int, Priority]) -> set[int]:
    groups = {a.group_id for a in kpi.actions if a.group_id is not None}
    for c in kpi.commitments:
        priority = priorities.get(c.priority_id)
        if priority is not None and priority.group_id is not None:
            groups.add(priority.group_id)
    return groups


@bp.get("/kpis")
@access.reader
def index() -> str:
    plan = _plan()
    db = get_session()
    calendar = plan.partnership.calendar
    all_kpis = kpi_pages.current_kpis(db)
    priorities = {p.id: p for p in plan_pages.current(db, Priority)}
    themes = plan_pages.current(db, Theme)
    groups = {g.id: g for g in plan_pages.current(db, Group)}
    chosen = {k: request.args.get(k, "") for k in ("priority", "theme", "group")}
    shown = []
    for kpi in all_kpis:
        if chosen["priority"] and chosen["priority"] not in {
                priorities[c.priority_id].ref for c in kpi.commitments
                if c.priority_id in priorities}:
            continue
        if chosen["theme"] and chosen["theme"] not in {t.ref for t in kpi.themes}:
            continue
        if chosen["group"] and chosen["group"] not in {
                groups[g].ref for g in _groups_of(kpi, priorities) if g in groups}:
            continue
        shown.append(kpi)
    values = kpi_values.current_values(db, [k.id for k in shown])
    rows = []
    for kpi in shown:
        defn = kpi_values.definition(kpi, calendar)
        current = values.get(kpi.id, {})
        measure = measures.measure(defn, kpi_values.values_by_start(kpi, current, calendar),
                                   clock.today())
        updated = max((v.recorded_at for v in current.values()), default=None)
        rows.append({"kpi": kpi, "measure": measure, "updated": updated,
                     "value": value_text(defn, measure.value) if measure.value is not None
                     else "No data",
                     "target": value_text(defn, measure.target) if measure.target is not None
                     else "No target",
                     "arrow": ARROWS.get(measure.direction, "")})
    return render_template(
        "kpis/list.html", rows=rows, priorities=list(priorities.values()), themes=themes,
        groups=[g for g in groups.values() if g.kind != "board"], chosen=chosen,
        total=len(all_kpis))


def _kpi(ref: str) -> KPI:
    kpi = kpi_pages.find_kpi(get_session(), ref)
    if kpi is None:
        abort(404)
    return kpi


def _series(kpi: KPI, plan: Plan) -> tuple[measures.KpiDefinition, dict[date, float]]:
    calendar = plan.partnership.calendar
    current = kpi_values.current_values(get_session(), [kpi.id]).get(kpi.id, {})
    return (kpi_values.definition(kpi, calendar),
            kpi_values.values_by_start(kpi, current, calendar))


@bp.get("/kpis/<ref>")
@access.reader
def detail(ref: str) -> str:
    kpi = _kpi(ref)
    form = KpiValueForm()
    form.seen.data = str(kpi_values.newest_id(get_session(), kpi))
    return _render(_plan(), kpi, form)


@bp.post("/kpis/<ref>/values")
@access.signed_in
def enter_value(ref: str) -> str | WerkzeugResponse | tuple[str, int]:
    """A KPI's owner or an admin records a value (or corrects one) for a period."""
    plan = _plan()
    kpi = _kpi(ref)
    access.require(can_enter(current_user, kpi))
    db = get_session()
    form = KpiValueForm()
    if form.validate_on_submit():
        number = form.number()
        if number is None:
            form.value.errors = ["Enter the value as a number, like 1420 or 71.5"]
        else:
            user: User = current_user
            try:
                row = kpi_values.record_value(
                    db, plan, user, kpi, form.period.data or "", number,
                    note=form.note.data or "", data_source=form.data_source.data or "",
                    today=clock.today(), seen=form.seen_id())
                recompute(db, plan, clock.today(), kpi_values.affected_actions(db, kpi), actor=user)
            except kpi_values.ValueConflict as conflict:
                form.seen.data = str(conflict.newest_id)
                form.period.errors = [str(conflict)]
                refuse(_render(plan, kpi, form), 409)
            except kpi_values.ValueRefused as refused:
                message = str(refused)
                form.period.errors = [message[0].upper() + message[1:]]
                refuse(_render(plan, kpi, form), 400)
            else:
                flash(f"The value for {row.period} has been saved.", "success")
                return redirect(url_for("kpis.detail", ref=kpi.ref))
    return _render(plan, kpi, form), 400


def _render(plan: Plan, kpi: KPI, form: KpiValueForm) -> str:
    db = get_session()
    defn, values = _series(kpi, plan)
    measure = measures.measure(defn, values, clock.today())
    history = kpi_values.value_history(db, kpi)
    counted: set[str] = set()
    superseded: set[int] = set()
    for row in history:
        if row.period in counted:
            superseded.add(row.id)
        counted.add(row.period)
    via_commitments = kpi_pages.commitments_actions(db, [c.id for c in kpi.commitments])
    direct = [a for a in kpi.actions if not a.is_retired]
    return render_template(
        "kpis/detail.html", kpi=kpi, defn=defn, measure=measure,
        description=measures.describe(defn, values, clock.today(), measure),
        table=_with_provisional(kpi, plan, defn,
                                measures.table(defn, values, clock.today())),
        history=history, superseded=superseded,
        actions=direct + [a for a in via_commitments if a not in direct],
        can_enter=can_enter(current_user, kpi), form=form,
        example=kpi_values.period_examples(kpi, plan.partnership.calendar),
        value_text=lambda v: value_text(defn, v), arrow=ARROWS.get(measure.direction, ""),
    )


def _with_provisional(kpi: KPI, plan: Plan, defn: measures.KpiDefinition,
                      rows: list[Any]) -> list[dict[str, Any]]:
    """The table's rows, newest first, with the provisional values (some months missing)
    that measures leave out, each marked in words and judged by nothing."""
    calendar = plan.partnership.calendar
    current = kpi_values.current_values(get_session(), [kpi.id]).get(kpi.id, {})
    shown = [dict(row) for row in rows]
    for label, row in current.items():
        if row.provisional:
            months = row.note.removeprefix("Provisional: ").removesuffix(" in the police.uk files")
            shown.append({"period": kpi_values.period_start(kpi, label, calendar),
                          "label": label, "value_text": value_text(defn, row.value),
                          "target_text": "", "status": "", "change_text": "",
                          "partial": False, "provisional": months})
    return sorted(shown, key=lambda r: r["period"], reverse=True)


@bp.get("/kpis/<ref>/chart.svg")
@access.reader
def chart(ref: str) -> Response:
    plan = _plan()
    kpi = _kpi(ref)
    defn, values = _series(kpi, plan)
    svg = measures.chart_svg(defn, values, clock.today(), title=kpi.name)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-cache"
    return response


