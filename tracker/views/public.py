"""The public progress page for residents (``/public``), on only when ``TRACKER_PUBLIC_PAGE``
is set: the vision, each priority's progress in plain words, the public KPIs with their
charts, and approved good-news stories. No sign-in; no person's name, narrative, concern or
escalation (see tracker.reports.public)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, make_response, render_template
from flask_login import current_user

import kpis as measures
from tracker import access, clock
from tracker.db import get_session
from tracker.reports import public as report
from tracker.views import plan_or_404

bp = Blueprint("public", __name__, url_prefix="/public")
MAX_AGE = 300  # seconds: figures change at most a few times a quarter


def _on() -> None:
    if not current_app.config.get("PUBLIC_PAGE"):
        abort(404)


def _cached(response: Response) -> Response:
    # the same page for everyone; a signed-in visitor's copy is never kept by a shared cache
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.vary.add("Cookie")
    return response


@bp.get("")
@access.public
def page() -> Response:
    _on()
    plan = plan_or_404()
    found = report.build(get_session(), plan, clock.today())
    return _cached(make_response(render_template("public/progress.html", page=found,
                                                 partnership_name=found.name)))


@bp.get("/kpis/<ref>/chart.svg")
@access.public
def chart(ref: str) -> Response:
    _on()
    plan = plan_or_404()
    db = get_session()
    kpi = report.public_kpi(db, ref)
    if kpi is None:
        abort(404)
    today = clock.today()
    until = report.as_of(report.shown_quarter(db, plan, today), today)
    defn, values = report.kpi_series(db, plan, [kpi], until)[kpi.id]
    svg = measures.chart_svg(defn, values, until, title=kpi.name)
    return _cached(Response(svg, mimetype="image/svg+xml"))
