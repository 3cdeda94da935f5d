"""Good-news stories: staff submit one (``/stories/new``), the community safety team approves
or withdraws it (``/stories``); only approved stories appear on the public progress page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import access
from tracker.db import get_session
from tracker.forms.stories import StoryForm
from tracker.models import User
from tracker.models.stories import APPROVED, WITHDRAWN
from tracker.services import stories as service

bp = Blueprint("stories", __name__, url_prefix="/stories")


def _choices() -> list[tuple[str, str]]:
    rows = service.commitment_choices(get_session())
    return [("", "None")] + [(ref, f"{ref}: {text[:80]}") for ref, text in rows]


@bp.route("/new", methods=["GET", "POST"])
@access.signed_in
def new() -> str | Response | tuple[str, int]:
    access.require(service.may_submit(current_user))
    form = StoryForm()
    form.commitment.choices = _choices()
    if request.method == "POST" and form.validate_on_submit():
        user: User = current_user
        try:
            service.submit(get_session(), user, form.title.data or "", form.body.data or "",
                           form.commitment.data or None)
        except service.StoryRefused as refused:
            form.body.errors = [*form.body.errors, str(refused)]
        else:
            flash("Your story is submitted. The community safety team will read it before "
                  "it appears on the public progress page.", "success")
            return redirect(url_for("stories.new"))
    status = 400 if form.errors else 200
    return render_template("stories/new.html", form=form), status


@bp.get("")
@access.admin
def index() -> str:
    return render_template("stories/index.html", stories=service.all_stories(get_session()))


@bp.post("/<int:story_id>/decide")
@access.admin
def decide(story_id: int) -> Response:
    # CSRFProtect has already checked the form's token
    db = get_session()
    story = service.get(db, story_id)
    if story is None:
        abort(404)
    decision = request.form.get("decision", "")
    status = {"approve": APPROVED, "withdraw": WITHDRAWN}.get(decision)
    if status is None:
        abort(400)
    user: User = current_user
    try:
        service.decide(db, user, story, status)
    except service.StoryRefused as refused:
        flash(str(refused), "error")
    else:
        flash(f"“{story.title}” is {status}.", "success")
    return redirect(url_for("stories.index"))
