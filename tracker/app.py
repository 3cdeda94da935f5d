"""The Flask application: :func:`create_app` and the unit of work it runs each request as."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from tracker import access, auth, db, logs, sso, templating
from tracker.access import SECOND_FACTOR_GUARD
from tracker.config import INSTANCE, TEMPLATES, load_config
from tracker.views import (
    admin,
    api,
    api_tokens,
    board,
    changes,
    commentary,
    errors,
    escalations,
    forms_support,
    health,
    kpis,
    layouts,
    outbox,
    plan,
    public,
    stories,
    two_factor,
    updates,
)
from tracker.views import auth as auth_views
from tracker.views import sso as sso_views
from tracker.views.errors import busy_page
from tracker.views.kpi_import import bp as kpi_import_bp

logger = logging.getLogger(__name__)


class TrackerApp(Flask):
    """Flask, with each request run as one unit of work (:mod:`tracker.db`): committed when
    the view returns, rolled back when anything raises, run again when the database was
    busy or a concurrent request won a race."""

    def full_dispatch_request(self) -> Response:
        response: Response = db.serve_request(super().full_dispatch_request)
        return logs.finished(response)  # once, for the answer given (not each try)

    def handle_user_exception(self, e: Exception) -> HTTPException | ResponseReturnValue:
        db.request_failed(e)  # undone before any error page is drawn
        return super().handle_user_exception(e)

    def handle_exception(self, e: Exception) -> Response:
        if isinstance(e, db.DatabaseBusy):  # nothing was saved: say so, and keep the text
            return logs.finished(
                self.finalize_request(busy_page(e), from_error_handler=True))
        return logs.finished(super().handle_exception(e))


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers, commands."""
    app = TrackerApp(
        "tracker",
        instance_path=str(INSTANCE),
        instance_relative_config=False,
    )
    app.config.update(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    logs.init_app(app)  # first: every request has its id before anything else runs
    app.url_map.converters["int"] = BoundedInt
    register_templates(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


class BoundedInt(IntegerConverter):
    """``<int:id>`` in an address matches only ids a database can hold (1 to 2**63 - 1):
    ``/escalations/99999999999999999999999`` is a page not found, not a failed query."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def register_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(TEMPLATES)),  # the checkout's, or the wheel's
            PrefixLoader({
                "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
            }),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    templating.init_app(app)


def register_extensions(app: Flask) -> None:
    if app.config.get("PROXIES"):
        proxies = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    db.init_app(app)
    auth.init_app(app)
    sso.init_app(app)
    access.init_app(app)  # before CSRF: who may ask is decided before what they sent
    CSRFProtect(app)
    WTFormsHelpers(app)
    forms_support.init_app(app)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(plan.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(sso_views.bp)
    app.extensions[SECOND_FACTOR_GUARD] = two_factor.enforce
    app.register_blueprint(updates.bp)
    app.register_blueprint(kpis.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(kpi_import_bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(commentary.bp)
    app.register_blueprint(layouts.bp)
    app.register_blueprint(escalations.bp)
    app.register_blueprint(outbox.bp)
    app.register_blueprint(changes.bp)
    api.init_app(app)  # the read API under /api/v1, and its OpenAPI document
    app.register_blueprint(api_tokens.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)  # the public progress page, and good-news stories
    app.register_blueprint(stories.bp)


def register_errorhandlers(app: Flask) -> None:
    errors.init_app(app)


def register_commands(app: Flask) -> None:
    # the command line and the scheduler's commands make apps of their own (create_app), so
    # they stand above this module: registered here, they are imported here
    from notifications import cli as notifications_cli  # noqa: PLC0415 - the one arrow back
    from tracker import cli  # noqa: PLC0415 - the command line imports this module

    cli.init_app(app)
    notifications_cli.init_app(app)
