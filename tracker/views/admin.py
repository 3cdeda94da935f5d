"""Admin pages: the audit trail (read-only) and accounts.

Every route is for admins alone. The audit trail has no POST route at all: nothing in the app
edits or deletes it. Account changes go through ``tracker.services.accounts``, which records
each one in the audit trail in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from tracker import access, clock
from tracker.db import get_session, hold
from tracker.forms.admin import AuditFilterForm, RoleForm, SecurityFilterForm, UsersFilterForm
from tracker.forms.common import ConfirmForm
from tracker.models import User
from tracker.services import accounts, audit_trail, security_log, two_factor
from tracker.services.accounts import AccountRefused
from tracker.services.outbox import MailTemplates
from tracker.services.overview import overview
from tracker.services.plan_load import current_plan
from tracker.views import note_security, pagination, refuse

bp = Blueprint("admin", __name__, url_prefix="/admin")

FILTER_ARGS = ("actor", "action", "object_type", "object_ref", "date_from", "date_to")


# -- what needs doing -----------------------------------------------------------------------


@bp.get("")
@access.admin
def home() -> str:
    """The community safety team's home: what needs doing, and every admin page."""
    db = get_session()
    plan = current_plan(db)
    return render_template("admin/home.html", found=overview(db, plan, clock.today()),
                           has_plan=plan is not None)


# -- the audit trail ----------------------------------------------------------------------


@bp.get("/audit")
@access.admin
def audit() -> tuple[str, int]:
    db = get_session()
    form = AuditFilterForm(request.args)
    actions, object_types = audit_trail.choices(db)
    form.set_choices(actions, object_types)
    is_valid = form.validate()
    filters = audit_trail.AuditFilters(
        actor=(form.actor.data or "").strip() if not form.actor.errors else "",
        action=form.action.data or "",
        object_type=form.object_type.data or "",
        object_ref=(form.object_ref.data or "").strip() if not form.object_ref.errors else "",
        date_from=form.date_from.date,
        date_to=form.date_to.date if not form.date_to.errors else None,
    )
    page = audit_trail.find(db, filters, request.args.get("page", 1, type=int))
    kept = {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}
    return render_template(
        "admin/audit.html", form=form, page=page, pagination=_pagination(page, kept),
        is_filtered=bool(kept), changes=audit_trail.changes, as_json=audit_trail.as_json,
    ), (200 if is_valid else 400)


def _pagination(page: audit_trail.AuditPage, kept: dict[str, str]) -> dict[str, Any] | None:
    """Parameters for GOV.UK's pagination: first, last, and the pages around this one."""

    def href(number: int) -> str:
        values: dict[str, Any] = dict(kept)
        if number > 1:
            values["page"] = number
        return url_for("admin.audit", **values)

    return pagination(page.page, page.pages, href, "Pages of the audit trail")


# -- the security log ----------------------------------------------------------------------


@bp.get("/security")
@access.admin
def security() -> tuple[str, int]:
    form = SecurityFilterForm(request.args)
    form.set_kinds(security_log.KINDS)
    is_valid = form.validate()
    filters = security_log.Filters(
        kind=form.kind.data or "" if not form.kind.errors else "",
        account=(form.account.data or "").strip() if not form.account.errors else "",
        source=(form.source.data or "").strip() if not form.source.errors else "")
    page = security_log.find(get_session(), filters, request.args.get("page", 1, type=int))
    kept = {name: request.args[name] for name in ("kind", "account", "source")
            if request.args.get(name)}

    def href(number: int) -> str:
        values: dict[str, Any] = {**kept, **({"page": number} if number > 1 else {})}
        return url_for("admin.security", **values)

    return render_template(
        "admin/security.html", form=form, page=page, kinds=security_log.KINDS,
        is_filtered=bool(kept),
        pagination=pagination(page.page, page.pages, href, "Pages of the security log"),
        keep_events=security_log.KEEP_EVENTS.days,
    ), (200 if is_valid else 400)


# -- accounts -------------------------------------------------------------------------------


@bp.get("/users")
@access.admin
def users() -> str:
    form = UsersFilterForm(request.args)
    people = accounts.accounts(get_session(), form.chosen_role)
    return render_template("admin/users.html", form=form, people=people,
                           role=form.chosen_role, state=accounts.state,
                           role_names=accounts.ROLE_NAMES)


def _account(user_id: int) -> User:
    # a change holds the account's row until it is committed: two admins changing one
    # account at the same moment are taken one after the other
    user = accounts.find_user(get_session(), user_id)
    if user is None:
        abort(404)
    if request.method == "POST":
        hold(get_session(), user)
    return user


def _show(user: User, *, role_form: RoleForm | None = None, problem: str | None = None,
          link: accounts.NewLink | None = None, status: int = 200) -> tuple[str, int]:
    me: User = current_user
    if role_form is None:
        role_form = RoleForm(formdata=None, data={"role": user.role})
    return render_template(
        "admin/user.html", user=user, me=me, state=accounts.state(user),
        role_names=accounts.ROLE_NAMES, role_form=role_form,
        problem=problem, link=link, led=access.led_group_ids(user),
        mfa_required=two_factor.is_required(user),
    ), status


@bp.get("/users/<int:user_id>")
@access.admin
def user(user_id: int) -> tuple[str, int]:
    return _show(_account(user_id))


def _change(user_id: int, change: Callable[[Session, User, User], object],
            done: str) -> tuple[str, int] | Response:
    """Run ``change(db, admin, user)`` on a confirmed POST; commit, or show why not."""
    user = _account(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(get_session(), current_user, user)
    except AccountRefused as refused:
        refuse(*_show(user, problem=str(refused), status=400))
    flash(done.format(name=user.name), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
@access.admin
def disable(user_id: int) -> tuple[str, int] | Response:
    return _change(user_id, accounts.disable,
                   "{name}'s account is disabled: they cannot sign in, and their sessions "
                   "have ended.")


@bp.post("/users/<int:user_id>/enable")
@access.admin
def enable(user_id: int) -> tuple[str, int] | Response:
    return _change(user_id, accounts.enable, "{name}'s account is enabled again.")


@bp.post("/users/<int:user_id>/link")
@access.admin
def link(user_id: int) -> tuple[str, int]:
    """A new invitation or reset link, shown on this page once (it is stored only hashed)
    and emailed to the account through the outbox."""
    user = _account(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        new = accounts.new_link(get_session(), current_user, user,
                               MailTemplates.of(current_app))
    except AccountRefused as refused:
        refuse(*_show(user, problem=str(refused), status=400))
    if new.is_emailed:
        flash(f"An email with this link to {user.email} is in the outbox: it is sent with the "
              "next delivery, or can be read on the outbox page.", "info")
    return _show(user, link=new)


@bp.post("/users/<int:user_id>/role")
@access.admin
def role(user_id: int) -> tuple[str, int] | Response:
    user = _account(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _show(user, role_form=form, status=400)
    try:
        accounts.change_role(get_session(), current_user, user, form.role.data or "")
    except AccountRefused as refused:
        form.role.errors = [str(refused)]
        refuse(*_show(user, role_form=form, status=400))
    flash(f"{user.name} is now: {accounts.ROLE_NAMES[user.role]}.", "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-two-factor", methods=["GET", "POST"])
@access.admin
def reset_two_factor(user_id: int) -> tuple[str, int] | Response:
    """Clear a person's second factor (they lost their phone and their recovery codes): a
    page to confirm, then the POST. Their sessions end; audited and in the security log."""
    user = _account(user_id)
    me: User = current_user
    if (why := two_factor.reset_refusal(me, user)) is not None:
        refuse(*_show(user, problem=why, status=400))
    if request.method == "GET":
        return render_template("admin/reset_two_factor.html", user=user,
                               mfa_required=two_factor.is_required(user)), 200
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ended = two_factor.reset(get_session(), me, user)
    note_security("mfa.reset", user.email, f"by {me.email}; {ended} session"
                  f"{'s' if ended != 1 else ''} ended", with_request=True)
    flash(f"{user.name}'s two-factor authentication is reset and they are signed out. They "
          "set it up again when they next sign in.", "success")
    return redirect(url_for("admin.user", user_id=user.id))
