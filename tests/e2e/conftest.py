"""Fixtures for the browser tests: the Kingston demo served over HTTP, and Chromium.

- ``live_server``: the Kingston plan with the demo history (as ``make run`` builds it), served on
  127.0.0.1 for the whole e2e package; tests share it, so a test that writes should not rely
  on what another test wrote (or use ``fresh_server``).
- ``fresh_server``: the same, on its own copy of the database, for one test.
- ``browser``: one Chromium for the package; ``page``: a new context and page for each test.

Today is 25 November 2026 for every page served while these tests run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import _copy, _make_app
from tests.tracker import signing
from tracker.db import get_engine

from .browser import (
    ADMIN,
    BOARD,
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    DEMO_PEOPLE,
    TODAY,
    LiveServer,
    serve,
)

# generous, for a busy machine: a page that is right shows at once, only a wrong one waits
TIMEOUT_MS = 15_000


@pytest.fixture(scope="package", autouse=True)
def pinned_today() -> Iterator[None]:
    """Every page sees 25 November 2026 as today (undone when the e2e tests are over)."""
    import tracker.clock

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tracker.clock, "today", lambda: TODAY)
        yield


@pytest.fixture(scope="package")
def demo_people_db(demo_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Kingston demo as on 25 November 2026, with the demo sign-ins' password, and the
    admin's and board member's two-factor set up with the tests' authenticator app."""
    path = _copy(demo_db_template, tmp_path_factory.mktemp("e2e-template"))
    app = _make_app(path)
    for email in DEMO_PEOPLE:  # the demo password, hashed cheaply so that signing in is quick
        signing.set_password(app, email, DEMO_PASSWORD)
    for email in (ADMIN, BOARD):  # they must have two-factor: set up with the tests' app
        signing.enrol(app, email)
    engine = get_engine(app)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _served(template: Path, folder: Path) -> Iterator[LiveServer]:
    database = _copy(template, folder)
    app = _make_app(database)
    app.config["PUBLIC_PAGE"] = True  # the public progress page is shown and checked too
    try:
        with serve(app, database) as server:
            yield server
    finally:
        get_engine(app).dispose()


@pytest.fixture(scope="package")
def live_server(demo_people_db: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    """The demo, served over HTTP for all the e2e tests: ``live_server.url``,
    ``live_server("/kpis")``, ``live_server.app``."""
    yield from _served(demo_people_db, tmp_path_factory.mktemp("e2e-live"))


@pytest.fixture
def fresh_server(demo_people_db: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The demo, on a database of its own, served for one test."""
    yield from _served(demo_people_db, tmp_path)


@pytest.fixture(scope="package")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole e2e package.

    It needs ``live_server`` only so that it is closed first, ending its connections.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Chromium "
                    "(apt-get install chromium; .ci/run installs it)", pytrace=False)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new browser context (no cookies) and page for one test."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
