"""Change requests: asking for a revised due date or KPI target, and deciding.

An action's owner (or a lead of its group) asks from the action page, a KPI's owner from
the KPI page; who decides comes from the plan's ``rules.change_approval``
(:mod:`tracker.services.changes`). Every check is made here from the URL's action, KPI or
request, never from what the form sends. The action and KPI pages show each item's
baseline, the revision in force and every request through the ``action_changes`` and
``kpi_changes`` template globals (read only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from plans import Plan
from plans.periods import long_date
from tracker import access, clock
from tracker.db import get_session
from tracker.forms.changes import ChangeDecisionForm, ChangeDueDateForm, ChangeTargetForm
from tracker.models import KPI, Action, ChangeRequest, User
from tracker.models.changes import ACTION_DUE, KPI_TARGET, OPEN
from tracker.services import changes as service
from tracker.services import revisions
from tracker.services.outbox import MailTemplates
from tracker.services.plan_load import current_plan
from tracker.views import plan_or_404, refuse
from tracker.views.forms_support import EXPIRED_MESSAGE, csrf_expired, keeps_text, take_held

F = TypeVar("F", bound=FlaskForm)

bp = Blueprint("changes", __name__)
STATES = {"open": "Waiting for a decision", "decided": "Decided"}
DUE = "due"  # the form's value for the action's own due date
PLAN_TARGET = "plan"  # the form's value for a KPI's target for the whole plan


def _mail() -> MailTemplates:
    return MailTemplates.of(current_app)


def _user() -> User:
    user: User = current_user
    return user


# -- what the action and KPI pages show -------------------------------------------------


@dataclass
class DateLine:
    """An item's due date: the plan's, and the approved revision in force."""

    label: str
    baseline: date
    revision: ChangeRequest | None

    @property
    def due(self) -> date:
        if self.revision is not None and self.revision.requested_date is not None:
            return self.revision.requested_date
        return self.baseline


@dataclass
class TargetLine:
    label: str
    baseline: str
    revision: ChangeRequest | None
    revised: str = ""


@dataclass
class Changes:
    """What the change requests section of an action or KPI page shows."""

    rule: str
    requests: list[ChangeRequest]
    lines: list[Any]
    may_ask: bool
    ask_url: str
    decidable: set[int] = field(default_factory=set)
    in_force: set[int] = field(default_factory=set)
    words: dict[int, tuple[str, str, str, str]] = field(default_factory=dict)


def _words(change: ChangeRequest) -> tuple[str, str, str, str]:
    """What, from, to and who decided, in words."""
    decided = service.decided_words(change) if not change.is_open else ""
    return (service.item_words(change), service.from_words(change), service.to_words(change),
            decided)


def action_changes(action: Action) -> Changes | None:
    """The change requests section of an action page (two queries)."""
    db = get_session()
    plan = _current_plan()
    if plan is None:
        return None
    requests = service.for_action(db, action)  # their action is the page's own, loaded
    in_force = revisions.in_force_ids(requests)
    due = next((c for c in requests if c.id in in_force and c.kind == ACTION_DUE), None)
    lines = [DateLine("Due date", action.due, due)]
    for milestone in action.milestones:
        revision = next((c for c in requests if c.id in in_force
                         and c.milestone_id == milestone.id), None)
        if revision is not None:
            lines.append(DateLine(f"Milestone: {milestone.title}", milestone.due, revision))
    user = current_user
    groups = {action.group_id} if action.group_id is not None else set()
    decidable = {c.id for c in requests if c.is_open
                 and service.may_decide(db, plan, user, c, groups)}
    return Changes(rule=service.decider(plan), requests=requests, lines=lines,
                   may_ask=access.can_update(user, action),
                   ask_url=url_for("changes.ask_due_date", ref=action.ref),
                   decidable=decidable, in_force=in_force,
                   words={c.id: _words(c) for c in requests})


def kpi_changes(kpi: KPI) -> Changes | None:
    """The change requests section of a KPI page."""
    db = get_session()
    plan = _current_plan()
    if plan is None:
        return None
    requests = service.for_kpi(db, kpi)
    in_force = revisions.in_force_ids(requests)
    lines = []
    periods = [*sorted(kpi.targets), *([revisions.PLAN_WIDE] if kpi.target is not None else [])]
    for period in periods:
        revision = next((c for c in requests if c.id in in_force and c.period == period), None)
        if revision is None:
            continue
        label = ("Target for the whole plan" if period == revisions.PLAN_WIDE
                 else f"Target for {period}")
        lines.append(TargetLine(label, service.baseline_words(revision), revision,
                                service.to_words(revision)))
    user = current_user
    decidable: set[int] = set()
    if any(c.is_open for c in requests) and getattr(user, "is_authenticated", False):
        groups = service.kpi_group_ids(db, kpi.id)
        decidable = {c.id for c in requests if c.is_open
                     and service.may_decide(db, plan, user, c, groups)}
    return Changes(rule=service.decider(plan), requests=requests, lines=lines,
                   may_ask=service.may_ask_target(user, kpi)
                   and bool(service.target_choices(kpi, plan, clock.today())),
                   ask_url=url_for("changes.ask_target", ref=kpi.ref),
                   decidable=decidable, in_force=in_force,
                   words={c.id: _words(c) for c in requests})


def _current_plan() -> Plan | None:
    return current_plan(get_session())


def init_app(app: Flask) -> None:
    app.add_template_global(action_changes, "action_changes")
    app.add_template_global(kpi_changes, "kpi_changes")


@bp.record_once
def _registered(state: Any) -> None:
    init_app(state.app)


# -- the list and one request -----------------------------------------------------------


@bp.get("/changes")
@access.signed_in
def index() -> str:
    plan = plan_or_404()
    state = request.args.get("state", "open")
    if state not in STATES:
        state = "open"
    db = get_session()
    rows = service.listing(db, OPEN if state == "open" else "decided")
    user = _user()
    groups: dict[int, set[int]] = {}
    mine = []
    if state == "open":
        for change in rows:
            if change.kind == KPI_TARGET and change.kpi_id is not None:
                found = groups.setdefault(change.kpi_id,
                                          service.kpi_group_ids(db, change.kpi_id))
            else:
                found = service.group_ids(db, change)
            if service.may_decide(db, plan, user, change, found):
                mine.append(change)
    return render_template("changes/list.html", rows=rows, mine=mine, state=state,
                           states=STATES, rule=service.decider(plan),
                           words={c.id: _words(c) for c in rows})


def _change(change_id: int) -> ChangeRequest:
    found = service.find(get_session(), change_id)
    if found is None:
        abort(404)
    return found


@bp.get("/changes/<int:change_id>")
@access.signed_in
@keeps_text
def detail(change_id: int) -> str:
    plan = plan_or_404()
    change = _change(change_id)
    form = ChangeDecisionForm()
    held = take_held(request.path, _user().id)
    if held is not None:
        form = ChangeDecisionForm(formdata=held)
        flash("We kept what you typed before you were signed out: check it and save.", "info")
    return _detail_page(plan, change, form)


@bp.post("/changes/<int:change_id>")
@access.signed_in
@keeps_text
def decide(change_id: int) -> str | Response | tuple[str, int]:
    """Checked here, per request: who the plan's rules say decides it."""
    plan = plan_or_404()
    change = _change(change_id)
    db = get_session()
    user = _user()
    if change.is_open:
        access.require(service.may_decide(db, plan, user, change))
    else:
        access.require(access.can_decide_change(user, change, service.decider(plan),
                                                service.group_ids(db, change)))
    if csrf_expired():
        form = ChangeDecisionForm(meta={"csrf": False})
        form.validate()
        return _detail_page(plan, change, form, problem=EXPIRED_MESSAGE), 400
    form = ChangeDecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        try:
            service.decide(db, plan, user, change, approve, form.comment.data or "",
                           clock.today(), _mail())
        except service.AlreadyDecided as decided:
            refuse(_detail_page(plan, change, form, problem=str(decided), lost=True), 409)
        except service.ChangeRefused as refused:
            _field(form, refused.field, "comment").errors = [str(refused)]
            refuse(_detail_page(plan, change, form), 400)
        flash(f"The request for {_item_ref(change)} is "
              f"{'approved' if approve else 'declined'}.", "success")
        return redirect(url_for("changes.detail", change_id=change.id))
    return _detail_page(plan, change, form), 400


def _field(form: Any, name: str | None, default: str) -> Any:
    """The form's field a refusal is about (its default field if it has no such field)."""
    return getattr(form, name or default, None) or getattr(form, default)


def _item_ref(change: ChangeRequest) -> str:
    if change.kind == KPI_TARGET and change.kpi is not None:
        return change.kpi.ref
    return change.action.ref if change.action is not None else ""


def _detail_page(plan: Plan, change: ChangeRequest, form: ChangeDecisionForm,
                 problem: str | None = None, lost: bool = False) -> str:
    db = get_session()
    return render_template(
        "changes/detail.html", change=change, form=form, problem=problem, lost=lost,
        may_decide=service.may_decide(db, plan, current_user, change),
        rule=service.decider(plan), words=_words(change),
        baseline=service.baseline_words(change), item_ref=_item_ref(change))


# -- asking for a revised due date -------------------------------------------------------


def _action(ref: str) -> Action:
    found = service.find_action(get_session(), ref)
    if found is None:
        abort(404)
    return found


def _due_choices(action: Action, current: dict[int, date], due: date
                 ) -> list[tuple[str, str]]:

    choices = [(DUE, f"The action's due date, now {long_date(due)}")]
    for milestone in action.milestones:
        if milestone.is_retired or milestone.completed_at is not None:
            continue
        day = current.get(milestone.id, milestone.due)
        choices.append((f"milestone-{milestone.id}",
                        f"Milestone: {milestone.title}, now due {long_date(day)}"))
    return choices


@bp.route("/actions/<ref>/changes/new", methods=["GET", "POST"])
@access.signed_in
@keeps_text
def ask_due_date(ref: str) -> str | Response | tuple[str, int]:
    """The owner of the action, or a lead of its group (checked here, from the URL)."""
    plan = plan_or_404()
    action = _action(ref)
    user = _user()
    access.require(access.can_update(user, action))
    db = get_session()
    due = revisions.revised_due_dates(db, [action.id]).get(action.id, action.due)
    current = revisions.revised_milestone_dates(db, [m.id for m in action.milestones])
    choices = _due_choices(action, current, due)
    form, problem, fresh = _form_as_sent(ChangeDueDateForm, "item", choices, user)
    if fresh:
        form.item.data = DUE if len(choices) == 1 or request.args.get("item") is None \
            else request.args.get("item")
    elif problem is None and request.method == "POST":
        if form.validate_on_submit():
            try:
                made = service.ask_due_date(db, plan, user, action,
                                            _milestone_id(form.item.data or ""),
                                            form.new_date.data, form.reason.data or "",
                                            clock.today(), _mail())
            except service.ChangeRefused as refused:
                _field(form, refused.field, "item").errors = [str(refused)]
                refuse(_ask_page(plan, action, form, due), 400)
            flash(f"Your request for a revised due date has been sent to "
                  f"{_who_decides(plan)}.", "success")
            return redirect(url_for("plan.action", ref=action.ref) + f"#change-{made.id}")
    status = 400 if problem or form.errors else 200
    return _ask_page(plan, action, form, due, problem), status



def _form_as_sent(form_class: type[F], choice_field: str, choices: list[tuple[str, str]],
                  user: User) -> tuple[F, str | None, bool]:
    """The asking form as this request brings it, with its choices: a POST whose session
    lapsed (validated without CSRF, so the person sees what to fix, and ``problem`` says the
    session lapsed), a GET with the text held from such a POST, or the POST as sent.
    ``fresh`` is a GET with nothing held: the caller fills in the defaults."""
    if csrf_expired():
        form = form_class(meta={"csrf": False})
        getattr(form, choice_field).choices = choices
        form.validate()
        return form, EXPIRED_MESSAGE, False
    held = take_held(request.path, user.id) if request.method == "GET" else None
    form = form_class(formdata=held) if held is not None else form_class()
    getattr(form, choice_field).choices = choices
    return form, None, request.method == "GET" and held is None

def _milestone_id(value: str) -> int | None:
    """The milestone the form names, None for the action's own date (whether it is the
    URL's action's is checked by the service)."""
    if value == DUE:
        return None
    number = value.removeprefix("milestone-")
    return int(number) if number.isdigit() else -1


def _who_decides(plan: Plan) -> str:
    if service.decider(plan) == "board":
        return "the community safety team, who record the board's decision"
    return "the group lead"


def _ask_page(plan: Plan, action: Action, form: ChangeDueDateForm, due: date,
              problem: str | None = None) -> str:
    return render_template("changes/ask_due_date.html", action=action, form=form, due=due,
                           problem=problem, rule=service.decider(plan),
                           single=len(form.item.choices or []) == 1)


# -- asking for a revised KPI target -----------------------------------------------------


def _kpi(ref: str) -> KPI:
    found = service.find_kpi(get_session(), ref)
    if found is None:
        abort(404)
    return found


@bp.route("/kpis/<ref>/changes/new", methods=["GET", "POST"])
@access.signed_in
@keeps_text
def ask_target(ref: str) -> str | Response | tuple[str, int]:
    """The KPI's owner (checked here, from the URL)."""
    plan = plan_or_404()
    kpi = _kpi(ref)
    user = _user()
    access.require(service.may_ask_target(user, kpi))
    today = clock.today()
    choices = [(value or PLAN_TARGET, words)
               for value, words in service.target_choices(kpi, plan, today)]
    if not choices:
        abort(404)
    form, problem, fresh = _form_as_sent(ChangeTargetForm, "period", choices, user)
    if fresh:
        form.period.data = choices[0][0]
    elif problem is None and request.method == "POST":
        if form.validate_on_submit():
            chosen = form.period.data or ""
            period = revisions.PLAN_WIDE if chosen == PLAN_TARGET else chosen
            try:
                made = service.ask_target(get_session(), plan, user, kpi, period,
                                          form.number(), form.reason.data or "", today,
                                          _mail())
            except service.ChangeRefused as refused:
                _field(form, refused.field, "period").errors = [str(refused)]
                refuse(_target_page(plan, kpi, form), 400)
            flash(f"Your request for a revised target has been sent to {_who_decides(plan)}.",
                  "success")
            return redirect(url_for("kpis.detail", ref=kpi.ref) + f"#change-{made.id}")
    status = 400 if problem or form.errors else 200
    return _target_page(plan, kpi, form, problem), status


def _target_page(plan: Plan, kpi: KPI, form: ChangeTargetForm,
                 problem: str | None = None) -> str:
    targets = []
    revised = revisions.revised_targets(kpi)
    for value, words in service.target_choices(kpi, plan, clock.today()):
        baseline = revisions.file_target(kpi, value)
        targets.append((words, _number(kpi, baseline), _number(kpi, revised.get(value))
                        if value in revised else ""))
    return render_template("changes/ask_target.html", kpi=kpi, form=form, problem=problem,
                           rule=service.decider(plan), targets=targets,
                           single=len(form.period.choices or []) == 1)


def _number(kpi: KPI, value: float | None) -> str:
    return service.target_words(kpi, value)
