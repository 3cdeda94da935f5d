"""Helpers for the browser tests: a live server, signing in through the real form, axe scans.

The fixtures that use these live in ``conftest.py`` next to this file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.tracker import signing
from tracker.db import get_engine

# Debian's Chromium: Playwright drives it, no browser download needed
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
]

TODAY = date(2026, 11, 25)  # the open quarter is 2026/27 Q2, whose updates were due 15 October
QUARTER = "2026/27 Q2"

# the demo sign-ins (``tracker demo``), one per role; every one has the demo password
DEMO_PASSWORD = "demo-orange-river-lamp"
ADMIN = "priya.shah@example.org"
BOARD = "helen.marsh@example.org"
LEAD = "daniel.price@example.org"
MEMBER = "aisha.khan@example.org"
DEMO_PEOPLE = (ADMIN, BOARD, LEAD, MEMBER)

# axe-core: WCAG 2.0, 2.1 and 2.2, levels A and AA
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SERIOUS = ("serious", "critical")


# -- the live server ------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    """The tracker served over HTTP: ``url`` is its base, e.g. ``http://127.0.0.1:41234``."""

    app: Flask
    url: str
    database: Path

    def __call__(self, path: str = "/") -> str:
        """The full address of ``path`` on this server: ``live_server("/kpis")``."""
        return self.url + path


SERVED: dict[str, Flask] = {}
"""The app behind each live server's address, for reading what a person would know (the
code their authenticator app shows) from its database."""


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _read_whole(app: Flask) -> Callable[..., Iterable[bytes]]:
    """``app``, its answers read whole and closed before they are sent: Werkzeug's server
    leaves a file it was sending open (and Python warns) when the browser goes first."""
    def answer(environ: dict, start_response: Callable) -> Iterable[bytes]:  # type: ignore[type-arg]
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    return answer


@contextmanager
def serve(app: Flask, database: Path) -> Iterator[LiveServer]:
    """Serve ``app`` on 127.0.0.1, on a free port (bound to port 0), in a background thread,
    with the pack builder beside it (in threads of this process: the pinned date holds)."""
    from tracker import builder

    server: BaseWSGIServer = make_server("127.0.0.1", 0, _read_whole(app), threaded=True,
                                         request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"live-server-{server.port}", daemon=True)
    stop = threading.Event()
    packs = threading.Thread(target=builder.serve, args=(app, stop),
                             kwargs={"in_process": True}, name="pack-builder", daemon=True)
    thread.start()
    packs.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        SERVED[url] = app
        yield LiveServer(app=app, url=url, database=database)
    finally:
        SERVED.pop(f"http://127.0.0.1:{server.port}", None)
        stop.set()
        packs.join(timeout=30)
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# -- what a person does and sees ------------------------------------------------------------


def sign_in(page: Page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would, and wait until it is done: an
    account with two-factor (the demo's admin and board, set up in ``conftest.py`` with the
    tests' authenticator app) enters the code its app shows now."""
    page.goto(base_url + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    signed_in = page.get_by_role("button", name="Sign out")
    code = page.get_by_label("Security code")
    expect(signed_in.or_(code)).to_be_visible()
    if code.is_visible():
        code.fill(signing.code_in(get_engine(SERVED[base_url]), email))
        page.get_by_role("button", name="Continue").click()
    expect(signed_in).to_be_visible()


def banners(page: Page) -> list[str]:
    """The text of each notification banner on the page (flashed messages), spaces collapsed."""
    found = page.locator(".govuk-notification-banner").all_inner_texts()
    return [" ".join(text.split()) for text in found]


# -- accessibility --------------------------------------------------------------------------


def axe_problems(page: Page, every: bool = False) -> list[str]:
    """The problems axe-core finds on the page as it is now: serious and critical WCAG 2.2
    A/AA ones, or with ``every`` each violation of any impact of axe's default rules (WCAG
    2.x A and AA, and its best practices).

    Each is "rule id: help (N nodes: selector, ...)", e.g.
    "color-contrast: Elements must meet minimum color contrast ratio thresholds (1 node: .x)".
    """
    from axe_playwright_python.sync_playwright import Axe

    options: dict[str, object] = {"resultTypes": ["violations"]}
    if not every:
        options["runOnly"] = {"type": "tag", "values": WCAG_TAGS}
    results = Axe().run(page, options=options)
    problems = []
    for violation in results.response["violations"]:
        if not every and violation.get("impact") not in SERIOUS:
            continue
        nodes = violation["nodes"]
        targets = ", ".join(_selector(node["target"]) for node in nodes)
        count = f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}"
        problems.append(f"{violation['id']}: {violation['help']} ({count}: {targets})")
    return problems


def _selector(target: list[object]) -> str:
    """A node's selector; inside iframes or shadow roots axe gives a list, joined here."""
    return " >> ".join(str(part) for part in target)
