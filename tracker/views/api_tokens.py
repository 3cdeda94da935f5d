"""Admin pages for the read API's tokens: the list, a new token (its secret shown once, on
the page that follows making it, and never again) and revoking one.

Every route is for admins alone; changes go through :mod:`tracker.services.api_tokens`,
which records each in the audit trail in the same transaction.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import access
from tracker.db import get_session, hold
from tracker.forms.admin import ApiTokenForm
from tracker.forms.common import ConfirmForm
from tracker.models import utcnow
from tracker.services import api_tokens
from tracker.views import refuse

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


def _list(form: ApiTokenForm | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("admin/api_tokens.html", tokens=api_tokens.listing(get_session()),
                           now=utcnow(), form=form or ApiTokenForm(formdata=None),
                           confirm=ConfirmForm(formdata=None),
                           longest=api_tokens.LONGEST_LIFE_DAYS), status


@bp.get("")
@access.admin
def index() -> tuple[str, int]:
    return _list()


@bp.post("")
@access.admin
def create() -> tuple[str, int]:
    form = ApiTokenForm()
    if not form.validate_on_submit():
        refuse(*_list(form, 400))
    try:
        new = api_tokens.create(get_session(), current_user, form.purpose.data or "",
                                form.days.data or 0)
    except api_tokens.TokenRefused as refused:
        form.purpose.errors = [str(refused)]
        refuse(*_list(form, 400))
    # shown on this page alone: it is stored only hashed, so nobody can see it again
    return render_template("admin/api_token_made.html", token=new.token,
                           secret=new.secret), 200


@bp.post("/<int:token_id>/revoke")
@access.admin
def revoke(token_id: int) -> Response:
    token = api_tokens.by_id(get_session(), token_id)
    if token is None:
        abort(404)
    hold(get_session(), token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        api_tokens.revoke(get_session(), current_user, token)
    except api_tokens.TokenRefused as refused:
        flash(str(refused), "info")
        return redirect(url_for("api_tokens.index"))
    flash(f"Token {token.prefix}… ({token.purpose}) is revoked: it no longer works.",
          "success")
    return redirect(url_for("api_tokens.index"))
