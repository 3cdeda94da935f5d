"""The quarterly update: My actions, the update form, approval, and locking quarters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from plans import Plan, Quarter
from plans.periods import long_date
from tracker import access, clock
from tracker.db import get_session
from tracker.forms.updates import LockForm, ReviewForm, UpdateForm
from tracker.models import Action, ActionUpdate, User
from tracker.services import layouts, packs, plan_pages
from tracker.services import updates as service
from tracker.services.calendar import (
    Reporting,
    locked_quarters,
    plan_quarters,
    reporting,
    window,
)
from tracker.services.layouts import Choice
from tracker.services.outbox import MailTemplates
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
    action = service.find_action(get_session(), ref)
    if action is None:
        abort(404)
    return action


@bp.get("/my-actions")
@access.signed_in
def my_actions() -> str:
    user: User = current_user
    plan = _plan()
    period = reporting(plan, clock.today())
    db = get_session()
    led = access.led_group_ids(user)
    actions = service.actions_for(db, user.id, led)
    ids = [a.id for a in actions]
    statuses = plan_pages.statuses_of(db, ids, period.quarter.label)
    latest = service.latest_updates(db, ids, period.quarter)
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
    user: User = current_user
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
    previous = service.previous_update(db, plan, action, period.quarter)
    problem = None
    prefilled = False
    if csrf_expired():
        form = _form(milestones, latest, previous, user, meta={"csrf": False})
        form.validate()
        problem = EXPIRED_MESSAGE
    elif request.method == "GET":
        held = take_held(request.path, user.id)
        if held is not None:  # what they typed before they were signed out, as it was
            form = _form(milestones, latest, previous, user, formdata=held)
            flash("We kept what you typed before you were signed out: check it and submit.",
                  "info")
        else:
            # the quarter's own latest version, or else the last quarter's update to start from
            prefilled = latest is None and previous is not None
            form = _form(milestones, latest, previous, user, formdata=None,
                         data=_prefill(latest, milestones, previous))
    else:
        form = _form(milestones, latest, previous, user)
        if form.validate_on_submit():
            base = _int(form.base_version.data)
            try:
                saved = service.record_update(db, plan, user, action, period.quarter,
                                              _data(form), base, clock.today())
            except service.StaleEdit as stale:
                form.base_version.data = str(stale.latest.version)
                refuse(render_template("updates/conflict.html", action=action, period=period,
                                       form=form, theirs=stale.latest, yours=_data(form)), 409)
            except service.UpdateRefused as refused:
                refuse(_form_page(plan, action, period, form, latest, previous,
                                  problem=str(refused)), 400)
            else:
                pending = saved.review == "pending"
                flash(f"Your update for {period.quarter.label} has been saved"
                      + (" and sent to the group lead for approval." if pending else "."),
                      "success")
                return redirect(url_for("plan.action", ref=action.ref))
    status = 400 if problem or form.errors else 200
    return _form_page(plan, action, period, form, latest, previous, problem=problem,
                      prefilled=prefilled), status


def _form_page(plan: Plan, action: Action, period: Reporting, form: UpdateForm,
               latest: ActionUpdate | None, previous: ActionUpdate | None, *,
               problem: str | None = None, prefilled: bool = False) -> str:
    approves = service.has_approver(get_session(), action) and not access.leads_action(
        current_user, action)  # a lead's own update counts at once
    return render_template("updates/form.html", action=action, period=period, form=form,
                           latest=latest, previous=previous, prefilled=prefilled,
                           problem=problem, today=clock.today(),
                           approval=plan.rules.approval if approves else "none")


def _form(milestones: list, latest: ActionUpdate | None,  # type: ignore[type-arg]
          previous: ActionUpdate | None, user: User, **kwargs: Any) -> UpdateForm:
    """The update form, its milestones to tick, and the percentage a lower one is checked
    against: the quarter's latest version, or else the last quarter's update."""
    form = UpdateForm(**kwargs)
    _choices(form, milestones)
    if latest is not None:
        form.expect_at_least(latest.percent_complete, f"version {latest.version} of this update")
    elif previous is not None:
        whose = "your" if previous.author_id == user.id else "the"
        form.expect_at_least(previous.percent_complete, f"{whose} {previous.quarter} update")
    return form


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
    form.milestones.choices = [
        SelectChoice(m.id, f"{m.title} (due {long_date(m.due)})") for m in milestones
    ]


def _prefill(latest: ActionUpdate | None, milestones: list,  # type: ignore[type-arg]
             previous: ActionUpdate | None = None) -> dict[str, object]:
    """The form's starting values: the quarter's latest version (changing it makes the next
    version), or else the last quarter's update to change what has moved on (a new concern
    is flagged afresh, so the flag and its reason start clear)."""
    done = [m.id for m in milestones if m.completed_at is not None]
    if latest is None and previous is None:
        return {"base_version": "0", "milestones": done}
    start = latest if latest is not None else previous
    assert start is not None
    values: dict[str, object] = {
        "rag": start.rag, "percent_complete": start.percent_complete,
        "narrative": start.narrative, "next_steps": start.next_steps, "risks": start.risks,
        "corrective_action": start.corrective_action, "evidence": "\n".join(start.evidence),
        "milestones": done, "base_version": str(latest.version) if latest else "0",
    }
    if latest is not None:
        values.update(is_concern=latest.is_concern, concern_reason=latest.concern_reason)
    return values


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
    user: User = current_user
    plan = _plan()
    action = _action(ref)
    access.require(access.can_approve(user, action))
    db = get_session()
    update = service.find_update(db, update_id)
    if update is None or update.action_id != action.id:
        abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _review_again(action, update, form), 400
    try:
        service.review(db, plan, user, update, form.decision.data == "approve",
                       form.comment.data or "", clock.today())
    except service.UpdateRefused as refused:
        flash(f"The decision was not saved: {refused}.", "error")
        refuse(redirect(url_for("plan.action", ref=action.ref) + "#updates"))
    else:
        flash("Update approved." if update.review == "approved"
              else "Update sent back to the owner with your comment.", "success")
    return redirect(url_for("plan.action", ref=action.ref) + "#updates")


@dataclass(frozen=True)
class ReviewAgain:
    """A decision that could not be taken as sent: the action page shows it again, the
    decision and comment as typed, each mistake beside its field (templates/plan/action.html
    reads it as ``g.review_again``)."""

    update_id: int
    form: ReviewForm
    blank: ReviewForm  # for any other update awaiting a decision on the page
    errors: list[dict[str, str]]


def _review_again(action: Action, update: ActionUpdate, form: ReviewForm) -> str:
    """The action page, as its own view draws it, with the review form that failed."""
    ids = {"decision": f"decision-{update.id}", "comment": f"comment-{update.id}"}
    errors = [{"text": messages[0], "href": "#" + ids.get(name, name)}
              for name, messages in form.errors.items() if messages]
    g.review_again = ReviewAgain(update_id=update.id, form=form,
                                 blank=ReviewForm(formdata=None), errors=errors)
    page = current_app.view_functions["plan.action"](ref=action.ref)
    assert isinstance(page, str), "the action page is drawn as HTML"
    return page


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
    user: User = current_user
    plan = _plan()
    chosen = _quarter(plan, quarter)
    form = LockForm()
    db = get_session()
    told = 0
    if form.validate_on_submit():
        try:
            if change == "lock":
                service.lock_quarter(db, user, chosen, form.note.data or "")
                # the board has met: its packs for the quarter are built now, to be ready,
                # laid out as the board's layout says, and the board is told where they are
                choice = Choice.of(layouts.for_board(db))
                packs.build_ahead(db, plan_quarters(plan, clock.today()), chosen,
                                  clock.today(), choice)
                told = packs.announce(db, MailTemplates.of(current_app), chosen, choice)
            else:
                service.unlock_quarter(db, user, chosen, form.note.data or "")
        except service.UpdateRefused as refused:
            flash(f"Nothing was changed: {refused}.", "error")
            refuse(redirect(url_for("updates.quarters")))
        else:
            flash(f"{chosen.label} is now {'locked' if change == 'lock' else 'unlocked'}."
                  + (f" {told} board member{'s are' if told != 1 else ' is'} emailed a link "
                     "to its board pack." if change == "lock" and told else ""), "success")
    return redirect(url_for("updates.quarters"))
