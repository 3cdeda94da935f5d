"""Every page type, as each role sees it, at 390 px (a phone) and 1280 px (a council laptop):
never wider than the screen, and axe-core finds no WCAG 2.2 A/AA violation of any impact.

Each page is loaded in Chromium from a live server (the Kingston demo, on a database of this
module's own: the error states below write), as the person who would see it, and measured
and scanned as it is shown. A test below checks that the list names every page the app
serves, so that a new page is measured too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from tests.tracker import oidc, signing
from tests.tracker.servers import free_port
from tests.tracker.signing import OTHER_ADMIN
from tracker.db import get_engine

from .browser import (
    ADMIN,
    BOARD,
    DEMO_PASSWORD,
    LEAD,
    MEMBER,
    SERVED,
    LiveServer,
    axe_problems,
    sign_in,
)
from .conftest import _served

WIDTHS = (390, 1280)
HEIGHT = 800
ANYONE = None


@dataclass(frozen=True)
class Sample:
    """Things in the demo that the pages below are about, found in its database."""

    theme: str
    escalation: int
    change: int
    user: int
    layout: int
    message: int
    lead_priority: str
    pending: str  # an action of the lead's group whose open-quarter update awaits approval
    build: int  # a board pack asked for
    enrolled: int = 0  # an account with two-factor, not the admin's own


def _wrong_password(page: Page) -> None:
    page.get_by_label("Email address").fill(MEMBER)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()


def _password_of(email: str) -> Callable[[Page], None]:
    """The password step of signing in (its POST answers 302): the page then shown is the
    second step's."""
    def step(page: Page) -> None:
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
    return step


def _new_recovery_codes(page: Page) -> None:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.get_by_label("Security code").fill(signing.code_in(get_engine(SERVED[origin]), ADMIN))
    page.get_by_role("button", name="Make new recovery codes").click()


def _make_token_without_a_purpose(page: Page) -> None:
    page.get_by_role("button", name="Make token").click()


def _make_token(page: Page) -> None:
    page.get_by_label("What the token is for").fill("Power BI board report")
    page.get_by_role("button", name="Make token").click()


def _empty_layout(page: Page) -> None:
    page.get_by_role("button", name="Save the layout").click()


def _send_back_without_a_comment(page: Page) -> None:
    page.get_by_label("Send it back to the owner").first.check()
    page.get_by_role("button", name="Save decision").first.click()


def _stale_commentary(page: Page) -> None:
    """Someone saved the narrative while this form was open: the page shows both texts."""
    page.evaluate("document.querySelector('input[name=base_version]').value = '0'")
    page.get_by_label("Commentary").fill("Written while someone else saved theirs.")
    page.get_by_role("button", name="Save the commentary").click()


@dataclass(frozen=True)
class Shown:
    """One page type: who looks (None: signed out), where, the status it answers with, and
    what they do on it first (a failed submit shows the page with its errors)."""

    name: str
    who: str | None
    path: str
    status: int = 200
    then: Callable[[Page], None] | None = None


def pages(s: Sample) -> list[Shown]:
    return [
        # anyone: the published plan and KPIs, signing in
        Shown("plan overview", ANYONE, "/"),
        Shown("priority", ANYONE, "/priorities/1"),
        Shown("commitment", ANYONE, "/commitments/2.c"),
        Shown("action", ANYONE, "/actions/SKP-005"),
        Shown("themes", ANYONE, "/themes"),
        Shown("theme", ANYONE, f"/themes/{s.theme}"),
        Shown("who's who", ANYONE, "/who"),
        Shown("public progress page", ANYONE, "/public"),
        Shown("KPIs", ANYONE, "/kpis"),
        Shown("KPI", ANYONE, "/kpis/asb-incidents"),
        Shown("sign-in", ANYONE, "/sign-in"),
        Shown("sign-in refused", ANYONE, "/sign-in", status=400, then=_wrong_password),
        # single sign-on is set up, to a provider that does not answer
        Shown("single sign-on: the provider cannot be reached", ANYONE, "/sign-in/sso",
              status=400),
        Shown("single sign-on refused", ANYONE, "/sign-in/sso/callback", status=400),
        Shown("set a password: a link that does not work", ANYONE,
              "/account/set-password/not-a-real-token", status=404),
        Shown("page not found", ANYONE, "/actions/NO-SUCH-ACTION", status=404),
        # signing in with two-factor: the code, or setting it up (an admin without it)
        Shown("two-factor code", ANYONE, "/sign-in/code", status=302, then=_password_of(BOARD)),
        Shown("set up two-factor at sign-in", ANYONE, "/sign-in/set-up-two-factor",
              status=302, then=_password_of(OTHER_ADMIN)),
        # an action owner
        Shown("my actions", MEMBER, "/my-actions"),
        Shown("update form", MEMBER, "/actions/SKP-005/update/2026-27-Q2"),
        Shown("action, signed in", MEMBER, "/actions/SKP-005"),
        Shown("ask for a revised due date", MEMBER, "/actions/SKP-005/changes/new"),
        Shown("ask for a revised target", MEMBER, "/kpis/asb-incidents/changes/new"),
        Shown("change requests", MEMBER, "/changes"),
        Shown("account", MEMBER, "/account"),
        Shown("set up two-factor", MEMBER, "/account/two-factor/set-up"),
        Shown("escalations", MEMBER, "/escalations"),
        Shown("submit a good-news story", MEMBER, "/stories/new"),
        Shown("not allowed", MEMBER, "/admin", status=403),
        # a thematic group's lead
        Shown("my actions, a lead's", LEAD, "/my-actions"),
        Shown("update awaiting the lead's approval", LEAD, f"/actions/{s.pending}"),
        Shown("sent back with no comment", LEAD, f"/actions/{s.pending}", status=400,
              then=_send_back_without_a_comment),
        Shown("update form, the lead's", LEAD, f"/actions/{s.pending}/update/2026-27-Q2"),
        Shown("priority narrative", LEAD, f"/board/commentary/2026-27-Q2/{s.lead_priority}"),
        Shown("narrative saved by someone else meanwhile", LEAD,
              f"/board/commentary/2026-27-Q1/{s.lead_priority}", status=409,
              then=_stale_commentary),
        Shown("change request", LEAD, f"/changes/{s.change}"),
        Shown("turn off two-factor", LEAD, "/account/two-factor/turn-off"),
        # a board member
        Shown("board dashboard", BOARD, "/board"),
        Shown("board dashboard, filtered", BOARD, "/board?quarter=2025-26-Q2&status=red"),
        Shown("exception report", BOARD, "/board/exceptions"),
        Shown("exception report, Red only", BOARD, "/board/exceptions?only=red"),
        Shown("board priority", BOARD, "/board/priorities/2"),
        Shown("board commitment", BOARD, "/board/commitments/2.c"),
        Shown("trend", BOARD, "/board/trend"),
        Shown("action from the board", BOARD, "/actions/SKP-004?quarter=2025-26-Q2"),
        Shown("escalation", BOARD, f"/escalations/{s.escalation}"),
        Shown("escalations, the board's", BOARD, "/escalations"),
        # asking for a pack leads to the page that shows it being prepared, then ready
        Shown("board pack", BOARD, f"/board/packs/{s.build}"),
        # the community safety team
        Shown("admin overview", ADMIN, "/admin"),
        Shown("audit trail", ADMIN, "/admin/audit"),
        Shown("security log", ADMIN, "/admin/security"),
        Shown("security log, one account", ADMIN, "/admin/security?account=ben"),
        Shown("accounts", ADMIN, "/admin/users"),
        Shown("account details", ADMIN, f"/admin/users/{s.user}"),
        Shown("reset two-factor", ADMIN, f"/admin/users/{s.enrolled}/reset-two-factor"),
        Shown("set up two-factor on a new phone", ADMIN, "/account/two-factor/set-up"),
        Shown("make new recovery codes", ADMIN, "/account/two-factor/recovery-codes"),
        Shown("new recovery codes", ADMIN, "/account/two-factor/recovery-codes",
              then=_new_recovery_codes),
        Shown("KPI import", ADMIN, "/kpis/import"),
        Shown("police.uk import", ADMIN, "/kpis/import-police"),
        Shown("KPI with its value form", ADMIN, "/kpis/asb-incidents"),
        Shown("quarters", ADMIN, "/quarters"),
        Shown("outbox", ADMIN, "/admin/outbox"),
        Shown("email", ADMIN, f"/admin/outbox/{s.message}"),
        Shown("briefing book", ADMIN, "/board/layouts"),
        Shown("good-news stories", ADMIN, "/stories"),
        Shown("new layout", ADMIN, "/board/layouts/new"),
        Shown("new layout refused", ADMIN, "/board/layouts/new", status=400,
              then=_empty_layout),
        Shown("layout", ADMIN, f"/board/layouts/{s.layout}"),
        Shown("quarter's summary", ADMIN, "/board/commentary/2026-27-Q2/summary"),
        Shown("change requests, all", ADMIN, "/changes?state=all"),
        Shown("board dashboard, the team's", ADMIN, "/board"),
        Shown("API tokens", ADMIN, "/admin/api-tokens"),
        Shown("API token refused", ADMIN, "/admin/api-tokens", status=400,
              then=_make_token_without_a_purpose),
        Shown("API token made", ADMIN, "/admin/api-tokens", then=_make_token),
    ]


# these answer with something other than a page: images, downloads, JSON, redirects
NOT_PAGES = {"kpis.chart", "public.chart", "board.trend_chart", "board.pack", "board.pack_progress",
             "board.pack_file", "auth.sign_out", "updates.update_open_quarter",
             "static"}
# the read API answers JSON and CSV to programs, not pages to people
NOT_PAGES |= {rule for rule in ("api_docs.openapi",)} | {
    f"api.{name}" for name in ("plan", "actions", "statuses", "updates", "kpis", "escalations",
                               *(f"feed_{feed}_{fmt}" for feed in (
                                   "action_statuses", "kpi_values", "escalations")
                                 for fmt in ("csv", "json")))}
# a load balancer's health checks answer JSON
NOT_PAGES |= {"health.healthz", "health.readyz"}


@pytest.fixture(scope="module")
def server(demo_people_db: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[LiveServer]:
    for served in _served(demo_people_db, tmp_path_factory.mktemp("every-page")):
        # single sign-on set up (its button on the sign-in page), to a provider that is not
        # there: its refusal pages are shown without one
        oidc.configure(served.app, f"http://127.0.0.1:{free_port()}")
        signing.enrol(served.app, LEAD)  # a lead may choose two-factor, and turn it off
        signing.set_password(served.app, OTHER_ADMIN, DEMO_PASSWORD)  # must set it up
        yield served


@pytest.fixture(scope="module")
def sample(server: LiveServer) -> Sample:
    from notifications.scheduler import run_job

    run_job(server.app, "reminders")  # an email in the outbox
    client = server.app.test_client()  # a board member asks for a pack
    signing.sign_in(client, BOARD, DEMO_PASSWORD)
    asked = client.get("/board/pack.xlsx?quarter=2024-25-Q4")
    built = re.search(r"/board/packs/(\d+)", asked.headers.get("Location", ""))
    assert built is not None, asked.headers
    one = {
        "theme": "select ref from themes order by position, id",
        "escalation": "select id from escalations order by id",
        "change": "select id from change_requests where state = 'open' order by id",
        "user": "select id from users where role = 'member' order by id",
        "enrolled": "select id from users where totp_secret is not null and email = :board",
        "layout": "select id from pack_layouts order by id",
        "message": "select id from outbox order by id",
        "lead_priority": "select p.ref from priorities p join groups g on g.id = p.group_id"
                         " join users u on u.id = g.lead_id where u.email = :lead",
        "pending": "select a.ref from action_updates x join actions a on a.id = x.action_id"
                   " join groups g on g.id = a.group_id join users u on u.id = g.lead_id"
                   " where u.email = :lead and x.review = 'pending'"
                   " and x.quarter = '2026/27 Q2' and a.owner_id != u.id order by a.position",
    }
    found = {}
    with get_engine(server.app).connect() as conn:
        for name, query in one.items():
            value = conn.execute(text(query), {"lead": LEAD, "board": BOARD}).scalar()
            assert value is not None, f"the demo has no {name}"
            found[name] = value
    return Sample(**found, build=int(built.group(1)))


@pytest.fixture(scope="module")
def signed_in(browser: Browser, server: LiveServer) -> dict[str | None, dict]:
    """Each role's cookies, signed in once through the form."""
    states: dict[str | None, dict] = {ANYONE: {}}
    for who in (MEMBER, LEAD, BOARD, ADMIN):
        context = browser.new_context()
        sign_in(context.new_page(), server.url, who, DEMO_PASSWORD)
        states[who] = context.storage_state()
        context.close()
    return states


def _width(page: Page) -> int:
    return int(page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"))


def _what_overflows(page: Page, width: int) -> list[str]:
    """The outermost elements reaching past the right edge: the ones to fix."""
    return page.evaluate("""(width) => {
        const wide = [];
        for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            if (box.right > width + 1 && !wide.some(w => w.contains(el))) wide.push(el);
        }
        return wide.slice(0, 5).map(el => el.tagName.toLowerCase()
            + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined
            ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '')
            + ' (' + Math.round(el.getBoundingClientRect().right) + ' px)');
    }""", width)


def _look(browser: Browser, state: dict, url: str, shown: Shown, width: int) -> list[str]:
    context = browser.new_context(storage_state=state or None, locale="en-GB",
                                  timezone_id="Europe/London",
                                  viewport={"width": width, "height": HEIGHT})
    try:
        page = context.new_page()
        response = page.goto(url)
        assert response is not None
        status = response.status
        if shown.then is not None:
            with page.expect_response(lambda r: r.request.method == "POST") as posted:
                shown.then(page)
            status = posted.value.status
            page.wait_for_load_state()
        assert status == shown.status, f"{shown.name}: answered {status}"
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        problems = []
        if _width(page) > width:
            problems.append(f"{width} px: {_width(page)} px wide; past the edge: "
                            + ", ".join(_what_overflows(page, width)))
        problems.extend(f"{width} px: {problem}" for problem in axe_problems(page, every=True))
        return problems
    finally:
        context.close()


NAMES = [shown.name for shown in pages(Sample("t", 1, 1, 1, 1, 1, "1", "A", 1))]


@pytest.mark.parametrize("name", NAMES)
def test_the_page_fits_the_screen_and_has_no_accessibility_violation(
        browser: Browser, server: LiveServer, sample: Sample, signed_in: dict, name: str
) -> None:
    shown = next(s for s in pages(sample) if s.name == name)
    problems: list[str] = []
    for width in WIDTHS:
        problems.extend(_look(browser, signed_in[shown.who], server(shown.path), shown, width))
    assert problems == []


def test_the_list_names_every_page_the_app_serves(server: LiveServer, sample: Sample) -> None:
    adapter = server.app.url_map.bind("localhost")
    listed = set()
    for shown in pages(sample):
        try:
            endpoint, _ = adapter.match(urlsplit(shown.path).path)
        except HTTPException:
            continue  # the page-not-found page
        listed.add(endpoint)
    served = {rule.endpoint for rule in server.app.url_map.iter_rules()
              if "GET" in rule.methods}
    assert sorted(served - listed - NOT_PAGES) == []


def test_the_scan_names_each_problem_and_where_it_is(page: Page) -> None:
    """The scan itself works: on a page with known faults it finds them, rule and selector."""
    page.set_content(
        '<html><body><main><img src="data:,"><input type="text" id="q">'
        '<p style="color:#bbb;background:#fff">faint</p></main></body></html>')
    assert axe_problems(page) == [
        "color-contrast: Elements must meet minimum color contrast ratio thresholds "
        "(1 node: p)",
        "document-title: Documents must have <title> element to aid in navigation (1 node: html)",
        "html-has-lang: <html> element must have a lang attribute (1 node: html)",
        "image-alt: Images must have alternative text (1 node: img)",
        "label: Form elements must have labels (1 node: #q)",
    ]
    # of any impact: a page without a main landmark is a moderate problem
    page.set_content('<html lang="en"><head><title>t</title></head><body>'
                     '<div><h1>Hello</h1></div></body></html>')
    assert axe_problems(page) == []
    assert axe_problems(page, every=True) == [
        "landmark-one-main: Document should have one main landmark (1 node: html)",
        "region: All page content should be contained by landmarks (1 node: div)",
    ]


def test_a_page_wider_than_the_screen_is_caught(browser: Browser) -> None:
    """The measure itself works: a table wider than a phone is found, and named."""
    context = browser.new_context(viewport={"width": 390, "height": HEIGHT})
    try:
        page = context.new_page()
        page.set_content('<html><body style="margin:0"><table id="wide" style="width:900px">'
                         '<tr><td>x</td></tr></table></body></html>')
        assert _width(page) == 900
        assert _what_overflows(page, 390) == ["table#wide (900 px)"]
    finally:
        context.close()
