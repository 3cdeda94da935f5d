"""Writing the quarter's summary (the community safety team) and a priority's narrative (its
group's lead): ``/board/commentary/<quarter>/<scope>``, scope ``summary`` or a priority's
ref. Read on the dashboard, the priority's page and in the board pack."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from plans import Plan, Quarter
from tracker import access, clock
from tracker.db import get_session
from tracker.forms.board import CommentaryForm
from tracker.models import User
from tracker.models.commentary import SUMMARY
from tracker.services import commentary as service
from tracker.services.calendar import is_locked, plan_quarters
from tracker.views import plan_or_404, refuse
from tracker.views.forms_support import EXPIRED_MESSAGE, csrf_expired, keeps_text

bp = Blueprint("commentary", __name__, url_prefix="/board/commentary")


def _quarter(plan: Plan, slug: str) -> Quarter:
    try:
        quarter = plan.partnership.calendar.parse_quarter(slug)
    except ValueError:
        abort(404)
    if quarter not in plan_quarters(plan, clock.today()):
        abort(404)
    return quarter


def _back(scope: service.Scope, quarter: Quarter) -> str:
    if scope.priority is None:
        return url_for("board.dashboard", quarter=quarter.slug) + "#summary"
    return url_for("board.priority", ref=scope.priority.ref, quarter=quarter.slug) + \
        "#commentary"


@bp.route("/<quarter>/<scope>", methods=["GET", "POST"])
@access.signed_in
@keeps_text
def edit(quarter: str, scope: str) -> str | Response | tuple[str, int]:
    plan = plan_or_404()
    chosen = _quarter(plan, quarter)
    db = get_session()
    found = service.scope_of(db, scope)
    if found is None:
        abort(404)
    access.require(service.may_write(current_user, found))
    user: User = current_user
    earlier = service.versions(db, chosen.label, found.key)
    latest = earlier[0] if earlier else None
    previous = service.latest(db, chosen.previous().label).get(found.key)
    locked = is_locked(db, chosen)
    problem = EXPIRED_MESSAGE if csrf_expired() else None
    if request.method == "GET":
        form = CommentaryForm(formdata=None, data={
            "text": latest.text if latest else "",
            "base_version": str(latest.version if latest else 0)})
    else:
        form = CommentaryForm(meta={"csrf": not csrf_expired()})
        if problem is None and form.validate_on_submit():
            try:
                service.write(db, user, chosen, found, form.text.data or "", form.base())
            except service.StaleCommentary as stale:
                form.base_version.data = str(stale.latest.version)
                refuse(render_template("board/commentary.html", scope=found, quarter=chosen,
                                       form=form, versions=earlier, previous=previous,
                                       theirs=stale.latest, locked=locked,
                                       back=_back(found, chosen)), 409)
            except service.CommentaryRefused as refused:
                form.text.errors = [str(refused)]
                refuse(render_template("board/commentary.html", scope=found, quarter=chosen,
                                       form=form, versions=earlier, previous=previous,
                                       locked=locked, back=_back(found, chosen)), 400)
            flash(f"{found.title} for {chosen.label} is saved.", "success")
            return redirect(_back(found, chosen))
    status = 400 if (problem or form.errors) else 200
    return render_template("board/commentary.html", scope=found, quarter=chosen, form=form,
                           versions=earlier, previous=previous, problem=problem,
                           locked=locked, back=_back(found, chosen), summary=SUMMARY), status
