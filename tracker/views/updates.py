"""The quarterly update: My actions, the update form, approval, and locking quarters."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from plans import Plan, Quarter
from tracker import access, clock
from tracker.db import get_session
from tracker.forms import LockForm, ReviewForm, UpdateForm
from tracker.models import Action, ActionStatus, ActionUpdate, Commitment, User
from tracker.services import packs
from tracker.services import updates as service
from tracker.services.calendar import (
    locked_quarters,
    plan_quarters,
    reporting,
    window,
)
from tracker.views import plan_or_404, refuse
from tracker.views.forms_support import EXPIRED_MESSAGE, csrf_expired, keeps_text, take_held

bp = Blueprint("updates", __name__)


_plan = plan_or_404


def _quarter(plan: Plan, slug: str) -> Quarter:
    try:
        return plan.partnership.calendar.parse_quarter(slug)
    except ValueError:
        abort(404)


def _action(ref: str) -> Action:
    action = get_session().scalars(
        select(Action).where(Action.ref == ref)
        .options(joinedload(Action.commitment).joinedload(Commitment.priority),
                 joinedload(Action.owner), selectinload(Action.milestones))
    ).first()
    if action is None:
        abort(404)
    return action


@bp.get("/my-actions")
@access.signed_in
def my_actions() -> str:
    user: User = current_user  # type: ignore[assignment]
    plan = _plan()
    period = reporting(plan, clock.today())
    db = get_session()
    led = access.led_group_ids(user)
    query = (select(Action).where(Action.retired_at.is_(None))
             .where((Action.owner_id == user.id) | Action.group_id.in_(led))
             .order_by(Action.due, Action.position)
             .options(joinedload(Action.owner), joinedload(Action.group),
                      joinedload(Action.commitment)))
    actions = list(db.scalars(query))
    ids = [a.id for a in actions]
    statuses = {s.action_id: s for s in db.scalars(
        select(ActionStatus).where(ActionStatus.action_id.in_(ids),
                                   ActionStatus.quarter == period.quarter.label))}
    latest: dict[int, ActionUpdate] = {}
    for update in db.scalars(select(ActionUpdate).where(
            ActionUpdate.action_id.in_(ids), ActionUpdate.quarter == period.quarter.label)
            .order_by(ActionUpdate.version)):
        latest[update.action_id] = update
    due_now = [a for a in actions if statuses.get(a.id) is None
               or statuses[a.id].rule not in ("Not started", "Complete")
               or a.id in latest]
    return render_template(
        "updates/my_actions.html", period=period, today=clock.today(), actions=due_now,
        owned=[a for a in due_now if a.owner_id == user.id],
        led=[a for a in due_now if a.owner_id != user.id],
        statuses=statuses, latest=latest, pending=service.pending_for(db, user),
        locked=period.quarter.label in locked_quarters(db),
    )


@bp.get("/actions/<ref>/update")
@access.signed_in
def update_open_quarter(ref: str) -> Response:
    plan = _plan()
    access.require(access.can_update(current_user, _action(ref)))
    return redirect(url_for("updates.update", ref=ref,
                            quarter=reporting(plan, clock.today()).quarter.slug))


@bp.route("/actions/<ref>/update/<quarter>", methods=["GET", "POST"])
@access.signed_in
@keeps_text
def update(ref: str, quarter: str) -> str | Response | tuple[str, int]:
    user: User = current_user  # type: ignore[assignment]
    plan = _plan()
    action = _action(ref)
    period = window(plan, _quarter(plan, quarter))
    access.require(access.can_update(user, action))
    db = get_session()
    try:
        service.check_can_edit(db, plan, user, action, period.quarter, clock.today())
    except service.UpdateRefused as refused:
        return render_template("updates/closed.html", action=action, period=period,
                               reason=str(refused), shown=_typed()), 409
    milestones = [m for m in action.milestones if not m.is_retired]
    latest = service.latest_version(db, action, period.quarter)
    problem = None
    if csrf_expired():
        form = UpdateForm(meta={"csrf": False})
        _choices(form, milestones)
        form.validate()
        problem = EXPIRED_MESSAGE
    elif request.method == "GET":
        held = take_held(request.path, user.id)
        form = UpdateForm(formdata=held) if held is not None else UpdateForm(
            formdata=None, data=_prefill(latest, milestones))
        _choices(form, milestones)
        if held is not None:
            flash("We kept what you typed before you were signed out: check it and submit.",
                  "info")
    else:
        form = UpdateForm()
        _choices(form, milestones)
        if form.validate_on_submit():
            base = _int(form.base_version.data)
            try:
                service.record_update(db, plan, user, action, period.quarter,
                                      _data(form), base, clock.today())
            except service.StaleEdit as stale:
                form.base_version.data = str(stale.latest.version)
                refuse(render_template("updates/conflict.html", action=action, period=period,
                                       form=form, theirs=stale.latest, yours=_data(form)), 409)
            except service.UpdateRefused as refused:
                refuse(render_template(
                    "updates/form.html", action=action, period=period, form=form,
                    latest=latest, problem=str(refused), today=clock.today(),
                    approval=plan.rules.approval), 400)
            else:
                pending = plan.rules.approval == "group_lead" and not access.leads_action(
                    user, action)
                flash(f"Your update for {period.quarter.label} has been saved"
                      + (" and sent to the group lead for approval." if pending else "."),
                      "success")
                return redirect(url_for("plan.action", ref=action.ref))
    status = 400 if problem or form.errors else 200
    return render_template("updates/form.html", action=action, period=period, form=form,
                           latest=latest, problem=problem, today=clock.today(),
                           approval=plan.rules.approval), status


TYPED = (("narrative", "Progress"), ("next_steps", "Next steps"), ("risks", "Risks and issues"),
         ("corrective_action", "Corrective action"), ("concern_reason", "Area of concern"),
         ("evidence", "Evidence"))


def _typed() -> list[tuple[str, str]]:
    """What a refused submit had typed, to show back (nothing typed is lost)."""
    if request.method != "POST":
        return []
    return [(label, request.form[name]) for name, label in TYPED
            if request.form.get(name, "").strip()]


def _int(value: object) -> int:
    try:
        return int(str(value or "0"))
    except ValueError:
        return -1  # a tampered version number can never match: the edit is refused as stale


def _choices(form: UpdateForm, milestones: list) -> None:  # type: ignore[type-arg]
    from wtforms.fields.choices import SelectChoice

    form.milestones.choices = [
        SelectChoice(m.id, f"{m.title} (due {m.due.day} {m.due:%B %Y})") for m in milestones
    ]


def _prefill(latest: ActionUpdate | None, milestones: list) -> dict[str, object]:  # type: ignore[type-arg]
    done = [m.id for m in milestones if m.completed_at is not None]
    if latest is None:
        return {"base_version": "0", "milestones": done}
    return {
        "rag": latest.rag, "percent_complete": latest.percent_complete,
        "narrative": latest.narrative, "next_steps": latest.next_steps, "risks": latest.risks,
        "corrective_action": latest.corrective_action, "is_concern": latest.is_concern,
        "concern_reason": latest.concern_reason, "evidence": "\n".join(latest.evidence),
        "milestones": done, "base_version": str(latest.version),
    }


def _data(form: UpdateForm) -> service.UpdateData:
    return service.UpdateData(
        rag=form.rag.data or "green", percent_complete=int(form.percent_complete.data or 0),
        narrative=(form.narrative.data or "").strip(),
        next_steps=(form.next_steps.data or "").strip(), risks=(form.risks.data or "").strip(),
        corrective_action=(form.corrective_action.data or "").strip(),
        is_concern=bool(form.is_concern.data),
        concern_reason=(form.concern_reason.data or "").strip() if form.is_concern.data else "",
        evidence=form.evidence_links(), milestones_done=set(form.milestones.data or []),
    )


@bp.post("/actions/<ref>/updates/<int:update_id>/review")
@access.signed_in
def review(ref: str, update_id: int) -> str | Response | tuple[str, int]:
    user: User = current_user  # type: ignore[assignment]
    plan = _plan()
    action = _action(ref)
    access.require(access.can_approve(user, action))
    db = get_session()
    update = db.get(ActionUpdate, update_id)
    if update is None or update.action_id != action.id:
        abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            service.review(db, plan, user, update, form.decision.data == "approve",
                           form.comment.data or "", clock.today())
        except service.UpdateRefused as refused:
            flash(f"The decision was not saved: {refused}.", "error")
            refuse(redirect(url_for("plan.action", ref=action.ref) + "#updates"))
        else:
            flash("Update approved." if update.review == "approved"
                  else "Update sent back to the owner with your comment.", "success")
    else:
        flash("Select approve or send back.", "error")
    return redirect(url_for("plan.action", ref=action.ref) + "#updates")


@bp.get("/quarters")
@access.admin
def quarters() -> str:
    plan = _plan()
    db = get_session()
    return render_template("updates/quarters.html",
                           quarters=list(reversed(plan_quarters(plan, clock.today()))),
                           locked=locked_quarters(db), form=LockForm(),
                           open_quarter=reporting(plan, clock.today()).quarter)


@bp.post("/quarters/<quarter>/<any(lock, unlock):change>")
@access.admin
def lock(quarter: str, change: str) -> Response:
    user: User = current_user  # type: ignore[assignment]
    plan = _plan()
    chosen = _quarter(plan, quarter)
    form = LockForm()
    db = get_session()
    if form.validate_on_submit():
        try:
            if change == "lock":
                service.lock_quarter(db, user, chosen, form.note.data or "")
                # the board has met: its packs for the quarter are built now, to be ready
                packs.build_ahead(db, plan_quarters(plan, clock.today()), chosen,
                                  clock.today())
            else:
                service.unlock_quarter(db, user, chosen, form.note.data or "")
        except service.UpdateRefused as refused:
            flash(f"Nothing was changed: {refused}.", "error")
            refuse(redirect(url_for("updates.quarters")))
        else:
            flash(f"{chosen.label} is now {'locked' if change == 'lock' else 'unlocked'}.",
                  "success")
    return redirect(url_for("updates.quarters"))
