"""The board's pages drawn once per data version, and shared by every worker and host.

A board page (the dashboard, a priority, a commitment, the exception report, the trend)
costs what the whole plan costs to gather and draw: at 10,000 actions, a second or more.
Yet it changes only when the data does. So each page's parts (its title, breadcrumbs and
body: everything inside the layout, which alone knows who is signed in) are kept in the
database (``page_cache``) under the data version they were drawn at
(:func:`tracker.db.data_version`, raised by every transaction that writes data the pages
show, whatever wrote it). A request reads the version and the page's row first, in its own
transaction: if the row was drawn at this version it is used as it is, in two queries;
otherwise the page is drawn, and kept for the next person.

What a page is kept under: the page, its address's query (quarter, filters, page number),
today (pages count what is overdue), who is asking as far as the page differs (a role, and
the priorities whose group they lead: who may write which narrative), and the code (the tracker's
version and its templates), so an upgrade draws every page afresh. Keeping is best effort,
in a transaction of its own after the page is drawn: a busy database or a race with another
worker only means the next person draws it too. ``PAGE_CACHE = False`` (or debug mode) draws
every page every time. The rows are read and written by :mod:`tracker.services.page_cache`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from flask import Flask, current_app, request, url_for
from flask_login import login_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from plans.bulk import cycle_collection_paused
from tracker import clock
from tracker.config import TEMPLATES
from tracker.db import data_version, get_session, transaction_of_its_own
from tracker.services import accounts
from tracker.services import page_cache as store

logger = logging.getLogger(__name__)

Parts = Mapping[str, str]


def enabled() -> bool:
    return enabled_for(current_app)


def drawn(page: str, audience: Iterable[object], draw: Callable[[], Parts]) -> dict[str, Markup]:
    """The page's parts at the current data version: kept ones, or ``draw()``'s (kept)."""
    if not enabled():
        return _markup(_draw(draw))
    db = get_session()
    version = data_version(db)  # first: what is drawn after it is at least this new
    key = _key(page, audience)
    found = store.kept(db, key, version)
    if found is not None:
        return _markup(found)
    parts = _draw(draw)
    _keep(key, version, parts)
    return _markup(parts)


def _draw(draw: Callable[[], Parts]) -> Parts:
    """Draw the page with the cycle collector paused: a board page gathers a row for every
    action (10,000 at a large size), none in a cycle (see :mod:`plans.bulk`)."""
    with cycle_collection_paused():
        return draw()


def _markup(parts: Parts) -> dict[str, Markup]:
    return {name: Markup(text) for name, text in parts.items()}  # noqa: S704 - drawn here


def _key(page: str, audience: Iterable[object]) -> str:
    named = json.dumps([_code(), page, sorted(request.args.items(multi=True)),
                        clock.today().isoformat(), [str(a) for a in audience]])
    return hashlib.sha256(named.encode()).hexdigest()


@cache
def _code() -> str:
    """The tracker's version and its templates' sizes and times, worked out once."""
    try:
        stamp = [version("csp-tracker")]
    except PackageNotFoundError:
        stamp = ["unknown"]
    for folder, _dirs, files in sorted(os.walk(TEMPLATES)):
        for name in sorted(files):
            info = (Path(folder) / name).stat()
            stamp.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(stamp).encode()).hexdigest()


def _keep(key: str, version: int, parts: Parts) -> None:
    """Keep the page (and drop those of earlier versions), in a transaction of its own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with transaction_of_its_own(app) as db:
            store.keep(db, key, version, parts)
    except SQLAlchemyError as error:  # another worker kept it first, or the database is busy
        logger.info("page %s not kept: %s", request.path, type(error).__name__)


# -- drawn ahead ---------------------------------------------------------------------------

WARMED = ("board.dashboard", "board.exceptions", "board.trend", "board.trend_chart")
"""The pages a board member opens first: drawn ahead by the pack builder after a change."""


def warm(app: Flask, seen: int | None) -> int | None:
    """Draw :data:`WARMED` as a board member sees them (the open quarter, no filters) if the
    data changed since version ``seen``, so that the next board member finds them drawn.

    Run by the pack builder (``tracker worker``) between builds, never by a web worker.
    Returns the version drawn at (``seen`` when nothing changed). Reads only, like a page; a
    page that fails is logged and left to be drawn by its first reader.
    """
    with app.app_context():
        db = get_session()
        version = data_version(db)
        if version == seen or not enabled_for(app):
            return version
        member_id = store.drawn_ahead_for(db)
    if member_id is None:
        return version
    base = app.config.get("BASE_URL")
    with app.test_request_context(base_url=base):
        paths = {endpoint: url_for(endpoint) for endpoint in WARMED}
    for endpoint, path in paths.items():
        with app.test_request_context(path, base_url=base):
            try:
                user = accounts.find_user(get_session(), member_id)
                login_user(user)
                app.view_functions[endpoint]()
            except Exception:  # noqa: BLE001 - one page's failure leaves the others
                logger.exception("drawing %s ahead failed", path)
    return version


def enabled_for(app: Flask) -> bool:
    return bool(app.config.get("PAGE_CACHE", True)) and not app.debug
