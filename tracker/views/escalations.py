"""Escalations: the areas of concern the plan's rules raised, and resolving them.

Any signed-in account reads them; admins resolve any (recording what the board decided),
and a group lead resolves those raised to group leads for their own group's actions.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import access
from tracker.db import get_session
from tracker.forms.updates import ResolveForm
from tracker.models import Escalation
from tracker.models.base import utcnow
from tracker.services import escalations as escalation_service
from tracker.views import refuse

bp = Blueprint("escalations", __name__, url_prefix="/escalations")
STATES = {"open": "Open", "resolved": "Resolved"}


@bp.get("")
@access.signed_in
def index() -> str:
    state = request.args.get("state", "open")
    if state not in STATES:
        state = "open"
    rows = escalation_service.listing(get_session(), is_open=state == "open")
    return render_template("escalations/list.html", rows=rows, state=state, states=STATES)


def _escalation(escalation_id: int) -> Escalation:
    found = escalation_service.find(get_session(), escalation_id)
    if found is None:
        abort(404)
    return found


@bp.get("/<int:escalation_id>")
@access.signed_in
def detail(escalation_id: int) -> str:
    escalation = _escalation(escalation_id)
    return _page(escalation, ResolveForm())


@bp.post("/<int:escalation_id>")
@access.signed_in
def resolve(escalation_id: int) -> tuple[str, int] | Response:
    """Checked here, per escalation: admins, or the lead of the action's group."""
    escalation = _escalation(escalation_id)
    access.require(access.can_resolve(current_user, escalation))
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            escalation_service.resolve(get_session(), escalation, current_user,
                                       form.note.data or "", utcnow())
        except escalation_service.ResolveRefused as refused:
            form.note.errors = [str(refused)]
            refuse(_page(escalation, form), 400)
        flash(f"The escalation for {escalation.action.ref} is resolved.", "success")
        return redirect(url_for("escalations.detail", escalation_id=escalation.id))
    return _page(escalation, form), 400


def _page(escalation: Escalation, form: ResolveForm) -> str:
    may_resolve = access.can_resolve(current_user, escalation) and escalation.is_open
    return render_template("escalations/detail.html", escalation=escalation, form=form,
                           may_resolve=may_resolve)
