"""The blueprints: thin views over the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from flask import abort, current_app, g, make_response, request
from flask.typing import ResponseReturnValue

from plans import Plan
from tracker.db import get_session
from tracker.services import security_log
from tracker.services.plan_load import current_plan


def plan_or_404() -> Plan:
    """The plan as last loaded; pages that need one answer 404 before any is loaded."""
    plan = current_plan(get_session())
    if plan is None:
        abort(404)
    return plan


def note_security(kind: str, email: str = "", detail: str = "", *,
                  with_request: bool = False) -> None:
    """Keep a security event about this request (:mod:`tracker.services.security_log`):
    ``with_request``, in its unit of work (a page that commits whatever happens), else on
    its own."""
    seen = security_log.Seen(source=request.remote_addr or "",
                             request_id=g.get("request_id", ""), method=request.method,
                             path=request.path)
    security_log.keep(current_app, kind, seen, email, detail,
                      session=get_session() if with_request else None)


def refuse(page: ResponseReturnValue, status: int | None = None) -> NoReturn:
    """Answer with ``page`` (a refusal, a conflict: nothing may be saved), rolling back
    whatever this request had written before the refusal was found."""
    response = make_response(page) if status is None else make_response(page, status)
    abort(response)


def pagination(page: int, pages: int, href: Callable[[int], str],
               label: str) -> dict[str, Any] | None:
    """Parameters for GOV.UK's pagination component: the first and last pages and those
    around this one, with gaps; None when everything fits on one page."""
    if pages <= 1:
        return None
    numbers = sorted({1, pages, *range(max(1, page - 1), min(pages, page + 1) + 1)})
    items: list[dict[str, Any]] = []
    for before, number in zip([0, *numbers], numbers, strict=False):
        if number - before > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page})
    params: dict[str, Any] = {"items": items, "landmarkLabel": label}
    if page > 1:
        params["previous"] = {"href": href(page - 1)}
    if page < pages:
        params["next"] = {"href": href(page + 1)}
    return params
