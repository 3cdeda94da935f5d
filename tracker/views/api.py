"""The read API, ``/api/v1``, and its Power BI / Excel feed, described by the OpenAPI 3.1
document at ``/api/v1/openapi.json`` (drawn from the schemas below by flask-smorest).

- **Tokens only.** Every route but the document needs ``Authorization: Bearer <token>``
  (:mod:`tracker.services.api_tokens`); a sign-in session's cookie is never read, so no
  page of the API can be reached through a browser's session, and the API has no form to
  forge (it answers GET and HEAD alone: any other method is 405).
- **Read-only.** Each request reads what is stored (:mod:`tracker.services.api_read`) in a
  fixed number of queries; the one write is the usage log, in a transaction of its own
  after the answer is made (:data:`tracker.db.WRITABLE_ON_READ`).
- **Errors are JSON**: ``{"error": {"code": ..., "message": ...}}``, 401 with
  ``WWW-Authenticate``, 429 with ``Retry-After``.
- **Caching**: an ``ETag`` from the data version, the plan's shape, today's date and the
  address asked for; ``If-None-Match`` with it answers 304 without reading the data.
- **Paging**: lists take ``page`` and ``page_size`` (at most :data:`MAX_PAGE_SIZE`) and say
  where they are in ``X-Pagination`` and ``Link``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
from flask import Blueprint as FlaskBlueprint
from flask import Flask, Response, current_app, g, jsonify, request, url_for
from flask_smorest import Api, Blueprint
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from tracker import access, clock
from tracker.db import data_version, get_session, shape_stamp, transaction_of_its_own
from tracker.services import api_read, api_tokens
from tracker.services.plan_load import current_plan

logger = logging.getLogger(__name__)

PREFIX = "/api/v1"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
BEARER = "bearer"

bp = Blueprint("api", __name__, url_prefix=PREFIX,
               description="The delivery plan, statuses, updates, KPIs and escalations, "
                           "read-only")
docs = FlaskBlueprint("api_docs", __name__, url_prefix=PREFIX)


# -- errors --------------------------------------------------------------------------------


class ApiError(HTTPException):
    """An API refusal with a code a program can test and a message a person can read."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = status
        self.error_code = code
        self.extra_headers = headers or {}


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def json_error(error: HTTPException) -> Response:
    """Any error under ``/api/``, as JSON (the app's error pages hand these over)."""
    status = error.code or 500
    code = getattr(error, "error_code", None) or _snake(error.name)
    message = error.description or error.name
    body: dict[str, Any] = {"code": code, "message": message}
    details = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
    if details:
        body["details"] = details
        body["message"] = "The query was not understood: see details."
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="tracker API", error="invalid_token", '
            f'error_description="{message}"')
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods or ["GET", "HEAD"]))
    for name, value in getattr(error, "extra_headers", {}).items():
        response.headers[name] = value
    return response


class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "For programs: "
                            "token_missing, token_invalid, token_expired, token_revoked, "
                            "rate_limited, not_found, method_not_allowed, ..."})
    message = ma.fields.String(required=True, metadata={"description": "For people"})
    details = ma.fields.Dict(metadata={"description": "What was wrong with the query"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBody, required=True)


class TrackerApi(Api):
    """flask-smorest's Api, answering only the API's own errors in JSON: the rest of the app
    keeps its pages (its error handler is the blueprint's, not the app's)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


@bp.errorhandler(HTTPException)
def _api_error(error: HTTPException) -> Response:
    return json_error(error)


# -- tokens, the rate limit, the usage log and ETags --------------------------------------


def _presented() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != BEARER:
        return None
    return secret.strip() or None


PAGING = frozenset({"page", "page_size"})
# the query parameters each operation takes: any other is refused (400), so that a misspelt
# one (``quater=``) is never quietly ignored
QUERY = {"api.actions": PAGING, "api.statuses": PAGING | {"quarter"},
         "api.updates": PAGING | {"quarter"}, "api.escalations": PAGING | {"state"}}


@bp.before_request
def _authenticate() -> Response | None:
    db = get_session()
    checked = api_tokens.check(db, _presented())
    g.api_token_id = checked.token.id if checked.token is not None else None
    if checked.problem is not None or checked.token is None:
        raise ApiError(401, checked.code, checked.problem or "")
    limit = max(1, int(current_app.config.get("API_RATE_LIMIT", api_tokens.RATE_LIMIT)))
    wait = api_tokens.wait_for(db, checked.token, limit)
    if wait is not None:
        raise ApiError(429, "rate_limited",
                       f"This token made more than {limit} requests in a minute: try again "
                       f"in {wait} seconds.", {"Retry-After": str(wait)})
    unknown = sorted(set(request.args) - QUERY.get(request.endpoint or "", frozenset()))
    if unknown:
        raise ApiError(400, "unknown_parameter",
                       f"This address takes no parameter {', '.join(map(repr, unknown))}.")
    tag = hashlib.sha256(
        f"{data_version(db)}:{shape_stamp(db)}:{clock.today()}:{request.full_path}"
        .encode()).hexdigest()[:32]
    g.api_etag = tag
    if request.if_none_match.contains(tag):
        response = Response(status=304)
        response.set_etag(tag)
        return response
    return None


@bp.after_request
def _finish(response: Response) -> Response:
    if response.status_code == 200 and g.get("api_etag"):
        response.set_etag(g.api_etag)
    response.headers["Cache-Control"] = "private, no-cache"
    if "X-Pagination" in response.headers:
        response.headers["Link"] = _links(json.loads(response.headers["X-Pagination"]))
    token_id = g.get("api_token_id")
    if token_id is not None:
        _log_use(token_id, response.status_code)
    return response


def _log_use(token_id: int, status: int) -> None:
    """Keep the use in the usage log: in a transaction of its own, so that the request
    itself writes nothing; best effort (a busy database loses the row, logged, never the
    answer)."""
    logger.info("api token=%s %s %s %s %s", token_id, request.method, request.full_path,
                status, request.remote_addr or "-")
    try:
        with transaction_of_its_own(current_app) as db:
            api_tokens.log_use(db, token_id, request.method, request.full_path.rstrip("?"),
                               status, request.remote_addr or "")
    except SQLAlchemyError as error:
        logger.warning("api token=%s: the use was not logged: %s", token_id, error)


def _links(meta: dict[str, Any]) -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page"}
    rels = {"first": meta.get("first_page"), "last": meta.get("last_page"),
            "prev": meta.get("previous_page"), "next": meta.get("next_page")}
    return ", ".join(
        f'<{url_for(request.endpoint or "", **request.view_args or {}, **args, page=n)}>; '
        f'rel="{rel}"' for rel, n in rels.items() if n)


FARTHEST = 2**62  # a page past every row: asked for beyond it, the answer is as empty


def _page(pagination: Any) -> api_read.Page:
    return api_read.Page(offset=min(pagination.first_item, FARTHEST),
                         size=pagination.page_size)


def _plan_or_404() -> Any:
    plan = current_plan(get_session())
    if plan is None:
        raise ApiError(404, "no_plan", "No plan is loaded yet.")
    return plan


# -- schemas -------------------------------------------------------------------------------

F = ma.fields
QUARTER = re.compile(r"^\d{4}[/-]\d{2}[ -]Q[1-4]$")


def _quarter_label(text: str | None) -> str | None:
    """``2025-26-Q1`` (as in the pages' addresses) or ``2025/26 Q1`` (as stored)."""
    if not text:
        return None
    return f"{text[:4]}/{text[5:7]} {text[-2:]}"


class QuarterArgs(ma.Schema):
    quarter = F.String(validate=ma.validate.Regexp(QUARTER.pattern), metadata={
        "description": "Only this quarter: 2025-26-Q1 or 2025/26 Q1", "example": "2025-26-Q1"})


class EscalationArgs(ma.Schema):
    state = F.String(validate=ma.validate.OneOf(["open", "resolved"]),
                     metadata={"description": "Only open, or only resolved, escalations"})


class PartnershipSchema(ma.Schema):
    ref = F.String(required=True)
    name = F.String(required=True)
    area = F.String(allow_none=True)
    vision = F.String(allow_none=True)
    plan_title = F.String(required=True)
    plan_starts = F.Date(required=True)
    plan_ends = F.Date(required=True)
    aims = F.List(F.String(), required=True)


class PrioritySchema(ma.Schema):
    ref = F.String(required=True)
    title = F.String(required=True)


class CommitmentSchema(ma.Schema):
    ref = F.String(required=True)
    text = F.String(required=True)
    priority_ref = F.String(required=True)
    parent_ref = F.String(allow_none=True, metadata={
        "description": "For a part of a commitment: the commitment it is part of"})
    is_part = F.Boolean(required=True)
    theme_refs = F.List(F.String(), required=True)


class ThemeSchema(ma.Schema):
    ref = F.String(required=True)
    name = F.String(required=True)


class GroupSchema(ma.Schema):
    ref = F.String(required=True)
    name = F.String(required=True)
    kind = F.String(required=True)


class PlanSchema(ma.Schema):
    partnership = F.Nested(PartnershipSchema, allow_none=True, required=True)
    priorities = F.List(F.Nested(PrioritySchema), required=True)
    commitments = F.List(F.Nested(CommitmentSchema), required=True, metadata={
        "description": "Commitments and their parts (a part has a parent_ref)"})
    themes = F.List(F.Nested(ThemeSchema), required=True)
    groups = F.List(F.Nested(GroupSchema), required=True)


class ActionSchema(ma.Schema):
    ref = F.String(required=True)
    title = F.String(required=True)
    commitment_ref = F.String(required=True)
    priority_ref = F.String(required=True)
    owner = F.String(required=True, metadata={"description": "The owner's name, as the "
                                              "board's pages show it (never an email)"})
    lead = F.String(required=True, metadata={"description": "The lead agency"})
    lead_ref = F.String(required=True)
    group = F.String(allow_none=True)
    group_ref = F.String(allow_none=True)
    theme_refs = F.List(F.String(), required=True)
    due = F.Date(required=True)


class StatusSchema(ma.Schema):
    action_ref = F.String(required=True)
    quarter = F.String(required=True, metadata={"example": "2025/26 Q1"})
    colour = F.String(required=True, metadata={"description": "red, amber, green, complete, "
                                               "no_update, ..."})
    rule = F.String(required=True, metadata={"description": "The plan's rule that fired"})
    reason = F.String(required=True)
    has_update = F.Boolean(required=True)
    computed_at = F.AwareDateTime(required=True)


class UpdateSchema(ma.Schema):
    action_ref = F.String(required=True)
    quarter = F.String(required=True)
    version = F.Integer(required=True)
    rag = F.String(required=True)
    percent_complete = F.Integer(required=True)
    narrative = F.String(required=True)
    next_steps = F.String(required=True)
    risks = F.String(required=True)
    corrective_action = F.String(required=True)
    is_concern = F.Boolean(required=True)
    concern_reason = F.String(required=True)
    author = F.String(allow_none=True, metadata={"description": "The author's name"})
    submitted_at = F.AwareDateTime(required=True)


class KpiValueSchema(ma.Schema):
    period = F.String(required=True)
    period_start = F.Date(required=True)
    value = F.Float(required=True)
    provisional = F.Boolean(required=True)
    data_source = F.String(required=True)
    recorded_at = F.AwareDateTime(required=True)


class MeasureSchema(ma.Schema):
    as_of = F.Date(required=True)
    period = F.String(allow_none=True)
    value = F.Float(allow_none=True)
    target = F.Float(allow_none=True)
    status = F.String(required=True)
    reason = F.String(required=True)
    direction = F.String(required=True)
    vs_baseline_percent = F.Float(allow_none=True)
    vs_previous_percent = F.Float(allow_none=True)
    vs_last_year_percent = F.Float(allow_none=True)


class KpiSchema(ma.Schema):
    ref = F.String(required=True)
    name = F.String(required=True)
    unit = F.String(required=True)
    better = F.String(required=True)
    frequency = F.String(required=True)
    source = F.String(allow_none=True)
    baseline_period = F.String(allow_none=True)
    baseline_value = F.Float(allow_none=True)
    target = F.Float(allow_none=True)
    targets = F.Dict(keys=F.String(), values=F.Float(), required=True)
    priority_refs = F.List(F.String(), required=True)
    theme_refs = F.List(F.String(), required=True)
    values = F.List(F.Nested(KpiValueSchema), required=True)
    measure = F.Nested(MeasureSchema, required=True)


class EscalationSchema(ma.Schema):
    id = F.Integer(required=True)
    action_ref = F.String(required=True)
    rule = F.String(required=True)
    escalated_to = F.List(F.String(), required=True)
    quarter = F.String(required=True, metadata={"description": "The quarter it was raised in"})
    last_quarter = F.String(required=True)
    reason = F.String(required=True)
    raised_at = F.AwareDateTime(required=True)
    is_open = F.Boolean(required=True)
    resolved_at = F.AwareDateTime(allow_none=True)
    resolved_by = F.String(allow_none=True, metadata={"description": "Who resolved it, by name"})
    resolution = F.String(required=True)


NOT_MODIFIED = "Not modified: the ETag sent in If-None-Match is still current."
PAGED = {"page": 1, "page_size": PAGE_SIZE, "max_page_size": MAX_PAGE_SIZE}


# -- the API ---------------------------------------------------------------------------------


@bp.route("/plan")
@access.api_token
@bp.response(200, PlanSchema)
@bp.alt_response(304, description=NOT_MODIFIED)
def plan() -> dict[str, Any]:
    """The plan: the partnership, its priorities, commitments and their parts, themes and
    groups."""
    return api_read.plan(get_session())


@bp.route("/actions")
@access.api_token
@bp.response(200, ActionSchema(many=True))
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.paginate(**PAGED)
def actions(pagination_parameters: Any) -> list[dict[str, Any]]:
    """The plan's actions, in the plan's order."""
    found = api_read.actions(get_session())
    pagination_parameters.item_count = len(found)
    start = pagination_parameters.first_item
    return found[start:start + pagination_parameters.page_size]


@bp.route("/statuses")
@access.api_token
@bp.arguments(QuarterArgs, location="query")
@bp.response(200, StatusSchema(many=True))
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.paginate(**PAGED)
def statuses(args: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
    """Each action's stored status in each quarter, with the rule that fired and why."""
    rows, total = api_read.statuses(get_session(), _quarter_label(args.get("quarter")),
                                    _page(pagination_parameters))
    pagination_parameters.item_count = total
    return rows


@bp.route("/updates")
@access.api_token
@bp.arguments(QuarterArgs, location="query")
@bp.response(200, UpdateSchema(many=True))
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.paginate(**PAGED)
def updates(args: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
    """The updates that count for the board: for each action and quarter, the latest
    version that needed no approval or was approved."""
    rows, total = api_read.updates(get_session(), _quarter_label(args.get("quarter")),
                                   _page(pagination_parameters))
    pagination_parameters.item_count = total
    return rows


@bp.route("/kpis")
@access.api_token
@bp.response(200, KpiSchema(many=True))
@bp.alt_response(304, description=NOT_MODIFIED)
def kpis() -> list[dict[str, Any]]:
    """The KPIs, each with its values that count and its measure today, as the board sees
    it."""
    return api_read.kpis(get_session(), _plan_or_404(), clock.today())


@bp.route("/escalations")
@access.api_token
@bp.arguments(EscalationArgs, location="query")
@bp.response(200, EscalationSchema(many=True))
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.paginate(**PAGED)
def escalations(args: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
    """Escalations, oldest first: open and resolved."""
    rows, total = api_read.escalations(get_session(), args.get("state"),
                                       _page(pagination_parameters))
    pagination_parameters.item_count = total
    return rows


# -- the Power BI / Excel feed ---------------------------------------------------------------

FEEDS = {
    "action-statuses": "Every action's status in every quarter: one row per action and "
                       "quarter.",
    "kpi-values": "Every KPI's values that count: one row per KPI and period.",
    "escalations": "Every escalation, open and resolved: one row each.",
}


def _csv(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Iterator[str]:
    """The rows as CSV, written out a row at a time (UTF-8, with a byte order mark so that
    Excel reads it as UTF-8, and a header row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    yield "\ufeff" + out.getvalue()
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow(["" if v is None else api_read.plain(v) for v in row])
        yield out.getvalue()


def _feed_view(name: str, fmt: str) -> Callable[[], Response]:
    columns = api_read.FEED_COLUMNS[name]

    def view() -> Response:
        plan = current_plan(get_session())
        rows = list(api_read.feed(get_session(), name, plan))
        filename = f"{name}.{fmt}"
        if fmt == "csv":
            response = Response(_csv(columns, rows), mimetype="text/csv")
            response.mimetype_params["charset"] = "utf-8"
        else:
            response = jsonify([dict(zip(columns, map(api_read.plain, row), strict=True))
                                for row in rows])
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    view.__name__ = f"feed_{name.replace('-', '_')}_{fmt}"
    view.__doc__ = f"{FEEDS[name]} Columns: {', '.join(columns)}."
    row_schema = {"type": "object", "required": list(columns),
                  "properties": {c: {} for c in columns}}
    content = ({"text/csv": {"schema": {"type": "string"}}} if fmt == "csv" else
               {"application/json": {"schema": {"type": "array", "items": row_schema}}})
    documented = bp.doc(responses={"200": {"description": f"The {name} feed as {fmt}",
                                           "content": content}},
                        tags=["feed"])(view)
    return documented  # type: ignore[no-any-return]


for _name in FEEDS:
    for _fmt in ("csv", "json"):
        _view = _feed_view(_name, _fmt)
        bp.route(f"/feed/{_name}.{_fmt}", endpoint=_view.__name__)(
            bp.alt_response(304, description=NOT_MODIFIED)(access.api_token(_view)))


# -- the document ----------------------------------------------------------------------------


@docs.get("/openapi.json")
@access.public
def openapi() -> Response:
    """The OpenAPI 3.1 document (public: it describes the API, and holds no data)."""
    api: TrackerApi = current_app.extensions["tracker.api"]
    document = api.spec.to_dict()
    # a header's value is text: X-Pagination is JSON text, of the PaginationMetadata shape
    document["components"]["headers"]["PAGINATION"] = {
        "description": "Where this page is, as JSON text (see the PaginationMetadata "
                       "schema): total, total_pages, first_page, last_page, page, "
                       "previous_page, next_page",
        "schema": {"type": "string"}}
    return jsonify(document)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Community Safety Partnership tracker: read API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Read-only. Send an API token an admin made for you as "
                                "'Authorization: Bearer <token>'."},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "An API token made on /admin/api-tokens"}}},
        "security": [{"bearer": []}],
    })
    api = TrackerApi(app)
    api.register_blueprint(bp)
    app.register_blueprint(docs)
    app.extensions["tracker.api"] = api
