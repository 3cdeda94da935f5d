"""The briefing book's layouts (admins): ``/board/layouts``, a new one, and one to change.

Each layout lists its own pack links for the quarter being reported on."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from tracker import access, clock
from tracker.db import get_session
from tracker.forms.board import LayoutForm
from tracker.models import PackLayout, User
from tracker.services import layouts as service
from tracker.services.calendar import reporting
from tracker.views import plan_or_404, refuse

bp = Blueprint("layouts", __name__, url_prefix="/board/layouts")


@bp.get("")
@access.admin
def index() -> str:
    plan = plan_or_404()
    return render_template("board/layouts.html", layouts=service.layouts(get_session()),
                           quarter=reporting(plan, clock.today()).quarter,
                           sections=service.SECTIONS)


def _form(layout: PackLayout | None) -> LayoutForm:
    priorities, kpis = service.options(get_session())
    if request.method == "POST":
        form = LayoutForm()
    elif layout is None:
        form = LayoutForm(formdata=None, data={"sections": list(service.SECTIONS)})
    else:
        form = LayoutForm(formdata=None, data={
            "name": layout.name, "sections": list(layout.sections),
            "priorities": list(layout.priorities), "kpis": list(layout.kpis),
            "cover_note": layout.cover_note, "is_for_board": layout.is_for_board,
            "version": str(layout.version)})
    form.sections.choices = [SelectChoice(k, v) for k, v in service.SECTIONS.items()]
    form.priorities.choices = [SelectChoice(k, v) for k, v in priorities]
    form.kpis.choices = [SelectChoice(k, v) for k, v in kpis]
    return form


def _edit(layout: PackLayout | None) -> str | Response | tuple[str, int]:
    plan_or_404()
    form = _form(layout)
    if form.validate_on_submit():
        user: User = current_user
        version = (form.version.data or "").strip()
        data = service.LayoutData(
            name=form.name.data or "", sections=list(form.sections.data or []),
            priorities=list(form.priorities.data or []), kpis=list(form.kpis.data or []),
            cover_note=form.cover_note.data or "", is_for_board=bool(form.is_for_board.data))
        try:
            saved = service.save(get_session(), user, layout, data,
                                 int(version) if version.isdigit() else None)
        except service.LayoutRefused as refused:
            getattr(form, refused.field).errors = [str(refused)]
            refuse(render_template("board/layout.html", form=form, layout=layout), 400)
        except service.StaleLayout:
            form.version.errors = []
            refuse(render_template("board/layout.html", form=form, layout=layout,
                                   problem="Someone changed this layout while you had it open: "
                                           "nothing was saved. Your choices are below; "
                                           "reload the page to see theirs."), 409)
        flash(f"The layout {saved.name} is saved.", "success")
        return redirect(url_for("layouts.index"))
    status = 400 if form.errors else 200
    return render_template("board/layout.html", form=form, layout=layout), status


@bp.route("/new", methods=["GET", "POST"])
@access.admin
def new() -> str | Response | tuple[str, int]:
    return _edit(None)


@bp.route("/<int:layout_id>", methods=["GET", "POST"])
@access.admin
def edit(layout_id: int) -> str | Response | tuple[str, int]:
    layout = service.find(get_session(), layout_id)
    if layout is None:
        abort(404)
    return _edit(layout)
