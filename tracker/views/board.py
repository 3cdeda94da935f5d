"""The board's pages: the dashboard for a quarter, drill-down, trend, exceptions, board pack.

Any signed-in account may read them (board members prepare from them; owners and leads see
how their work is reported). The chosen quarter and filters travel in the query string, so
a view can be shared by its address, and every link down from the dashboard keeps them.
Each page is built from one :class:`tracker.reports.dashboard.Dashboard`, in a fixed number
of queries whatever the size of the plan. Board packs are asked for here and built by the
pack builder (:mod:`tracker.builder`), never in a web worker: the page shows one being
prepared, and the file is served from the database once it is ready.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from plans import Plan, Quarter
from tracker import access, clock
from tracker.db import get_session
from tracker.models import PackBuild
from tracker.models.commentary import SUMMARY
from tracker.models.packs import READY
from tracker.reports import charts, history
from tracker.reports import dashboard as board
from tracker.reports import exceptions as exception_pages
from tracker.reports import trend as trend_report
from tracker.services import commentary, layouts, packs, plan_pages
from tracker.services.calendar import plan_quarters
from tracker.services.layouts import EVERYTHING, Choice
from tracker.views import page_cache, pagination, plan_or_404

bp = Blueprint("board", __name__, url_prefix="/board")


def _quarter(plan: Plan, today: date) -> Quarter:
    """The quarter asked for (or the open one); a page that names the quarters there are, if
    it is not one."""
    try:
        return board.choose_quarter(plan, today, request.args.get("quarter"))
    except board.QuarterUnknown as problem:
        abort(make_response(render_template(
            "board/quarter_unknown.html", message=str(problem),
            endpoint=request.endpoint, values=request.view_args or {}), 404))


def _view(plan: Plan, priority: str | None = None, details: bool = True) -> board.Dashboard:
    """The dashboard the address asks for; with ``priority``, only that priority's part
    (for its page and its commitments' pages), and with ``details=False`` without the
    actions' words, which the page then fills in for the actions it shows (see
    :func:`board.build`)."""
    today = clock.today()
    return board.build(get_session(), plan, today, _quarter(plan, today),
                       board.Filters.from_args(request.args), priority=priority,
                       details=details)


def view_args(view: board.Dashboard, **changes: str) -> dict[str, str]:
    """The query arguments that keep this view (quarter and filters), with ``changes``."""
    args = {"quarter": view.quarter.slug, **view.filters.args()}
    args.update(changes)
    return {k: v for k, v in args.items() if v}


def _context(view: board.Dashboard, **extra: Any) -> dict[str, Any]:
    return {"view": view, "args": view_args(view), "words": board.WORDS, **extra}


def _page(page: str, draw: Callable[[], dict[str, str]]) -> str:
    """The page from its parts, drawn at most once per data version for people who see it
    alike (:mod:`tracker.views.page_cache`)."""
    user = current_user
    return render_template("board/drawn.html",
                           parts=page_cache.drawn(page, audience_of(user), draw))


def audience_of(user: Any) -> list[str]:
    """What makes the board's pages differ between people: a role, and the priorities whose
    group they lead (their narratives are theirs to write)."""
    priorities = plan_pages.priority_refs_led(get_session(), access.led_group_ids(user))
    return ["admin" if access.is_admin(user) else getattr(user, "role", ""), *priorities]


@bp.get("")
@access.signed_in
def dashboard() -> str:
    plan = plan_or_404()

    def draw() -> dict[str, str]:
        view = _view(plan, details=False)
        shown = [row for kind, _word, _n in view.change_counts
                 for row in view.changes(kind)[:LISTED]]
        shown += [*view.concerns[:LISTED], *view.missing[:LISTED], *view.overdue[:LISTED]]
        board.detailed(get_session(), view.quarter, shown)
        listed = {row.id for row in shown}
        body = render_template("board/_dashboard.html", histories=_histories(view, listed),
                               briefing=layouts.for_board(get_session()),
                               **_notes(view), **_context(view))
        return {"title": f"Board dashboard, {view.quarter.label}", "body": body}

    return _page("dashboard", draw)


def _notes(view: board.Dashboard) -> dict[str, Any]:
    """The quarter's commentary, and which of it the person may write."""
    db = get_session()
    rows = plan_pages.priorities_by_id(db, [p.id for p in view.priorities])
    scopes = [commentary.Scope(SUMMARY, None)] + [
        commentary.Scope(p.ref, rows.get(p.id)) for p in view.priorities]
    return {"notes": commentary.latest(db, view.quarter.label),
            "may_write": {s.key for s in scopes if commentary.may_write(current_user, s)}}


LISTED = 25  # the most of each list the dashboard shows


def _histories(view: board.Dashboard, action_ids: set[int]) -> dict[int, history.History]:
    """The strips of quarters of the actions a page lists: the last eight quarters."""
    return history.of_actions(get_session(), action_ids,
                              history.last(view.quarters, view.quarter))


def _crumbs(**context: Any) -> str:
    return render_template("board/_crumbs.html", **context)


@bp.get("/priorities/<ref>")
@access.signed_in
def priority(ref: str) -> str:
    plan = plan_or_404()

    def draw() -> dict[str, str]:
        view = _view(plan, priority=ref)
        found = view.priority(ref)
        if found is None:
            abort(404)
        strips = history.of_rollups(get_session(), "commitment",
                                    [c.id for c in found.commitments],
                                    history.last(view.quarters, view.quarter))
        context = {"priority": found, **_context(view)}
        return {"title": f"Priority {found.ref}, {view.quarter.label}",
                "crumbs": _crumbs(**context),
                "body": render_template("board/_priority.html", histories=strips,
                                        **_notes(view), **context)}

    return _page(f"priority {ref}", draw)


@bp.get("/commitments/<ref>")
@access.signed_in
def commitment(ref: str) -> str:
    plan = plan_or_404()

    def draw() -> dict[str, str]:
        view = _view(plan, priority=plan_pages.priority_ref_of(get_session(), ref) or "")
        found = view.commitment(ref)
        if found is None:
            abort(404)
        priority_row, commitment_row = found
        context = {"priority": priority_row, "commitment": commitment_row, **_context(view)}
        histories = _histories(view, {r.id for r in commitment_row.actions})
        return {"title": f"Commitment {commitment_row.ref}, {view.quarter.label}",
                "crumbs": _crumbs(**context),
                "body": render_template("board/_commitment.html", histories=histories,
                                        **context)}

    return _page(f"commitment {ref}", draw)


@bp.get("/exceptions")
@access.signed_in
def exceptions() -> str:
    plan = plan_or_404()

    def draw() -> dict[str, str]:
        view = _view(plan, details=False)
        found = exception_pages.read(view, request.args.get("only", ""),
                                     request.args.get("page", 1, type=int) or 1)
        board.detailed(get_session(), view.quarter, [row for _, row in found.rows])
        histories = _histories(view, {row.id for _, row in found.rows})
        args = view_args(view)

        def href(number: int) -> str:
            values: dict[str, Any] = {**args, **({"only": found.only} if found.only else {}),
                                      **({"page": str(number)} if number > 1 else {})}
            return url_for("board.exceptions", **values)

        context = _context(view)
        body = render_template(
            "board/_exceptions.html", found=found, histories=histories,
            only=exception_pages.ONLY, page_href=href,
            pages=pagination(found.page, found.pages, href, "Pages of the exception report"),
            **context)
        return {"title": f"Exception report, {view.quarter.label}",
                "crumbs": _crumbs(**context), "body": body}

    return _page("exceptions", draw)


@bp.get("/trend")
@access.signed_in
def trend() -> str:
    def draw() -> dict[str, str]:
        found = _trend()
        labels = [q.label for q in found.quarters]
        body = render_template(
            "board/_trend.html", trend=found, words=board.WORDS,
            chart_text=charts.describe_bars(labels, found.commitment_counts, "commitments"))
        return {"title": "Trend", "crumbs": render_template("board/_trend_crumbs.html"),
                "body": body}

    return _page("trend", draw)


@bp.get("/trend.svg")
@access.signed_in
def trend_chart() -> Response:
    def draw() -> dict[str, str]:
        found = _trend()
        svg = charts.status_bars_svg([q.label for q in found.quarters],
                                     found.commitment_counts, "commitments",
                                     "Commitments by status, quarter by quarter")
        return {"svg": svg.decode() if isinstance(svg, bytes) else svg}

    svg = page_cache.drawn("trend.svg", [], draw)["svg"]
    return Response(str(svg), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def _trend() -> Any:
    plan = plan_or_404()
    return trend_report.build(get_session(), plan, clock.today())


@bp.get("/pack.<fmt>")
@access.signed_in
def pack(fmt: str) -> WerkzeugResponse:
    """Ask for the pack: it is never made here. The file, if it is built with the data as it
    is; else the page that shows it being prepared (it is queued for the builder)."""
    if fmt not in packs.FORMATS:
        abort(404)
    plan = plan_or_404()
    db = get_session()
    today = clock.today()
    quarter = _quarter(plan, today)
    filters, _problems = board.checked_filters(db, board.Filters.from_args(request.args))
    choice = _layout_asked_for()
    try:
        asked = packs.ask(db, current_user, fmt, plan_quarters(plan, today), quarter,
                          filters.args(), today, choice)
    except packs.PackRefused as refused:
        flash(f"{refused}.", "info")
        assert refused.waiting is not None
        return redirect(url_for("board.pack_status", build_id=refused.waiting.id))
    if asked.build.state == READY:
        return redirect(url_for("board.pack_file", build_id=asked.build.id,
                                filename=asked.build.filename))
    return redirect(url_for("board.pack_status", build_id=asked.build.id))


def _layout_asked_for() -> Choice:
    """The briefing book's layout named by ``?layout=`` (the whole pack without one); a
    layout that is not there (deleted, or mistyped) is a page not found."""
    raw = request.args.get("layout", "").strip()
    if not raw:
        return EVERYTHING
    found = layouts.find(get_session(), int(raw)) if raw.isdigit() else None
    if found is None:
        abort(404)
    return Choice.of(found)


def _build(build_id: int) -> PackBuild:
    found = packs.build_by_id(get_session(), build_id)
    if found is None:
        abort(404)
    return found


def _pack_args(found: PackBuild) -> dict[str, Any]:  # url_for values
    return {"quarter": found.quarter.replace("/", "-").replace(" ", "-"), **found.filters}


def _layout_args(found: PackBuild) -> dict[str, Any]:  # url_for values
    kept = found.layout or {}
    return {"layout": str(kept["id"])} if kept.get("id") else {}


@bp.get("/packs/<int:build_id>")
@access.signed_in
def pack_status(build_id: int) -> str:
    found = _build(build_id)
    return render_template("board/pack_status.html", build=found, names=packs.NAMES,
                           again=url_for("board.pack", fmt=found.format, **_pack_args(found),
                                         **_layout_args(found)),
                           layout=(found.layout or {}).get("name", ""),
                           dashboard=url_for("board.dashboard", **_pack_args(found)))


@bp.get("/packs/<int:build_id>/status.json")
@access.signed_in
def pack_progress(build_id: int) -> Response:
    found = _build(build_id)
    body = {"state": found.state, "step": found.step, "progress": found.progress}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/packs/<int:build_id>/<filename>")
@access.signed_in
def pack_file(build_id: int, filename: str) -> Response:
    found = _build(build_id)
    if found.state != READY or filename != found.filename:
        return redirect(url_for("board.pack_status", build_id=build_id))  # type: ignore[return-value]
    content = packs.content_of(get_session(), build_id) or b""
    response = Response(content, mimetype=found.mimetype)
    if found.format == "html":  # a standalone document: its own stylesheet, nothing else
        response.headers["Content-Security-Policy"] = _document_policy(content)
    disposition = "inline" if found.format == "html" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{found.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _document_policy(document: bytes) -> str:
    """A CSP for the HTML pack: its inline <style> elements (by hash), data: images, and
    no scripts, frames or forms at all."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(style).digest()).decode() + "'"
        for style in re.findall(rb"<style[^>]*>(.*?)</style>", document, re.S))
    styles = hashes or "'none'"
    return (f"default-src 'none'; style-src {styles}; img-src data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
