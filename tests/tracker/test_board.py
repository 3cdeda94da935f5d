"""The board's dashboard, drill-down, exception report and trend, as a board member sees them.

The statuses are set up in the test, for the open quarter and the one before, so every
figure on the page can be checked against what was set: counts by status per priority, the
changes since the previous quarter, missing updates, escalations and the themes grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from bs4 import Tag
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from tests.tracker.helpers import browser, db, pin_today, table, visible
from tests.tracker.helpers import page as parsed
from tests.tracker.signing import ADMIN, BOARD
from tracker.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Commitment,
    Escalation,
    Priority,
    RollupStatus,
)

NOW, BEFORE = "2026/27 Q2", "2026/27 Q1"
SLUG = "2026-27-Q2"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


@dataclass
class Scene:
    """Five actions with known statuses: four in priority 1, one in priority 2."""

    newly_red: str
    improved: str
    worsened: str
    completed: str
    missing: str  # priority 2: Red both quarters, no update this quarter
    not_started: str  # priority 2: not started, so not on the board


def _set(app: Flask) -> Scene:
    """Replace the two quarters' statuses with the scene's, and give three updates."""
    with db(app) as s:
        s.execute(delete(ActionStatus).where(ActionStatus.quarter.in_((NOW, BEFORE))))
        s.execute(delete(Escalation))
        s.execute(delete(RollupStatus))
        by_priority: dict[str, list[Action]] = {"1": [], "2": []}
        for action, priority_ref in s.execute(
                select(Action, Priority.ref)
                .join(Commitment, Action.commitment_id == Commitment.id)
                .join(Priority, Commitment.priority_id == Priority.id)
                .where(Priority.ref.in_(("1", "2")), Action.retired_at.is_(None))
                .order_by(Action.position)):
            by_priority[priority_ref].append(action)
        one, two = by_priority["1"], by_priority["2"]
        scene = Scene(one[0].ref, one[1].ref, one[2].ref, one[3].ref, two[0].ref, two[1].ref)
        plan = {  # ref: (before, now, rule now, has update now)
            scene.newly_red: ("green", "red", "Past its due date", True),
            scene.improved: ("amber", "green", "Owner's rating", True),
            scene.worsened: ("green", "amber", "Owner's rating", True),
            scene.completed: ("amber", "blue", "Complete", True),
            scene.missing: ("red", "red", "No update", False),
            scene.not_started: ("grey", "grey", "Not started", False),
        }
        ids = {a.ref: a.id for a in one[:4] + two[:2]}
        for ref, (before, now, rule, has_update) in plan.items():
            rule_before = "Not started" if ref == scene.not_started else "Owner's rating"
            s.add(ActionStatus(action_id=ids[ref], quarter=BEFORE, colour=before,
                               rule=rule_before, reason=f"{rule_before}: set by the test",
                               has_update=True))
            s.add(ActionStatus(action_id=ids[ref], quarter=NOW, colour=now, rule=rule,
                               reason=f"{rule}: set by the test for {ref}",
                               has_update=has_update))
        s.add(ActionUpdate(action_id=ids[scene.newly_red], quarter=NOW, version=1, rag="red",
                           percent_complete=40, narrative="Venue fell through in August.",
                           corrective_action="New venue booked for October.",
                           is_concern=True, concern_reason="Funding ends in March."))
        s.add(ActionUpdate(action_id=ids[scene.worsened], quarter=NOW, version=1, rag="amber",
                           percent_complete=50, narrative="Recruitment slower than planned.",
                           corrective_action="Agency staff from November."))
        s.add(ActionUpdate(action_id=ids[scene.worsened], quarter=NOW, version=2, rag="amber",
                           percent_complete=55, narrative="A version awaiting approval.",
                           review="pending"))
        s.add(Escalation(action_id=ids[scene.missing], rule="Red two quarters running",
                         to=["board"], quarter=BEFORE, last_quarter=NOW,
                         reason="Red two quarters running: Red in 2026/27 Q1 and 2026/27 Q2",
                         resolution=""))
        s.add(Escalation(action_id=ids[scene.improved], rule="KPI off target",
                         to=["group_lead"], quarter=BEFORE, last_quarter=BEFORE,
                         reason="KPI off target: resolved", resolution="Done",
                         resolved_at=datetime(2026, 10, 1, tzinfo=UTC)))
        s.commit()
    return scene


@pytest.fixture
def scene(kingston_app: Flask) -> Scene:
    return _set(kingston_app)


@pytest.fixture
def board(kingston_app: Flask) -> FlaskClient:
    return browser(kingston_app, BOARD)


def _get(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_dashboard_counts_each_priority_s_actions_by_status(
        scene: Scene, board: FlaskClient) -> None:
    html = _get(board, "/board")
    rows = table(html, "Actions by status in each priority")
    assert rows[0] == ["Priority", "Status", "Red", "Amber", "Green", "Complete", "No update",
                       "Total"]
    by_priority = {row[0]: row[1:] for row in rows[1:]}
    safe = next(k for k in by_priority if k.startswith("1. "))
    assert by_priority[safe][1:] == ["1", "1", "1", "1", "0", "4"]
    assert by_priority[safe][0].startswith(f"Red Worst of 4 actions: {scene.newly_red} is Red")
    serious = next(k for k in by_priority if k.startswith("2. "))
    assert by_priority[serious][1:] == ["1", "0", "0", "0", "0", "1"]
    assert by_priority["All priorities"][-6:] == ["2", "1", "1", "1", "0", "5"]
    text = visible(html)
    assert "Board dashboard: 2026/27 Q2" in text
    assert ("5 actions under way in 2026/27 Q2: 2 Red, 1 Amber, 1 Green and 1 Complete. "
            "1 escalation waits for the board.") in text
    assert scene.not_started not in text  # not started: not on the board


def test_the_dashboard_shows_what_changed_since_the_previous_quarter(
        scene: Scene, board: FlaskClient) -> None:
    text = visible(_get(board, "/board"))
    changes = text.split("What changed since 2026/27 Q1", 1)[1].split("No update, and overdue")[0]
    assert f"Newly Red 1 action {scene.newly_red}" in changes
    assert f"Worsened 1 action {scene.worsened}" in changes
    assert f"Improved 1 action {scene.improved}" in changes
    assert f"Completed 1 action {scene.completed}" in changes
    assert "Green to Red" in changes and "Amber to Complete" in changes
    assert scene.missing not in changes  # Red both quarters: no change


def test_missing_updates_and_open_escalations_are_listed(scene: Scene,
                                                         board: FlaskClient) -> None:
    text = visible(_get(board, "/board"))
    missing = text.split("No update for 2026/27 Q2 (1)", 1)[1].split("Past their due")[0]
    assert scene.missing in missing
    assert "Escalated to the board (1)" in text
    escalations = text.split("Escalated to the board (1)", 1)[1].split("KPIs")[0]
    assert scene.missing in escalations and "Red two quarters running" in escalations
    assert "Board" in escalations and "2026/27 Q1" in escalations
    assert "Escalated to group leads, for the groups to deal with (0)" in escalations
    # the resolved one is not open now, but was open at the end of 2026/27 Q1
    earlier = visible(_get(board, "/board?quarter=2026-27-Q1"))
    assert "Escalated to the board (1)" in earlier
    assert "Escalated to group leads, for the groups to deal with (1)" in earlier


def test_the_themes_grid_counts_commitments_and_actions_per_priority(
        kingston_app: Flask, scene: Scene, board: FlaskClient) -> None:
    html = _get(board, "/board")
    with db(kingston_app) as s:
        action = s.scalars(select(Action).where(Action.ref == scene.newly_red)).one()
        commitment = s.get(Commitment, action.commitment_id)
        assert commitment is not None
        themes = {t.name for t in action.themes} | {t.name for t in commitment.themes}
    grid = html.split('aria-label="Themes by priority"', 1)[1].split("</table>")[0]
    rows = [visible(f"<main>{r}</main>") for r in grid.split("</tr>")]
    for name in themes:
        row = next(r for r in rows if r.startswith(name))
        assert " action" in row and "Red" in row  # the newly Red action touches the theme


def test_filters_are_kept_in_the_address_and_narrow_every_figure(
        scene: Scene, board: FlaskClient) -> None:
    html = _get(board, "/board?status=red")
    rows = table(html, "Actions by status in each priority")
    assert rows[-1][-6:] == ["2", "0", "0", "0", "0", "2"]
    text = visible(html)
    assert "Showing only actions with the status Red" in text
    assert 'href="/board/exceptions?quarter=2026-27-Q2&amp;status=red"' in html
    assert 'href="/board/priorities/1?quarter=2026-27-Q2&amp;status=red"' in html
    # a filter naming nothing in the plan is dropped, and the page says so
    html = _get(board, "/board?group=no-such-group")
    assert "There is no group 'no-such-group' in the plan" in visible(html)
    assert table(html, "Actions by status in each priority")[-1][-1] == "5"


def test_drilling_down_keeps_the_chosen_quarter(scene: Scene, board: FlaskClient) -> None:
    html = _get(board, "/board?quarter=2026-27-Q1")
    assert 'href="/board/priorities/1?quarter=2026-27-Q1"' in html
    priority = _get(board, "/board/priorities/1?quarter=2026-27-Q1")
    assert "Priority 1:" in visible(priority)
    first = table(priority, "Commitments, with their actions by status")[1][0]
    ref = first.split()[1]
    assert f'href="/board/commitments/{ref}?quarter=2026-27-Q1"' in priority
    commitment = _get(board, f"/board/commitments/{ref}?quarter=2026-27-Q1")
    assert "2026/27 Q1" in visible(commitment)
    action_link = f'href="/actions/{scene.newly_red}?quarter=2026-27-Q1"'
    if scene.newly_red in visible(commitment):
        assert action_link in commitment
    page = _get(board, f"/actions/{scene.newly_red}?quarter=2026-27-Q1")
    assert 'href="/board?quarter=2026-27-Q1"' in page  # the way back keeps the quarter


def test_an_unknown_quarter_says_which_quarters_there_are(scene: Scene,
                                                          board: FlaskClient) -> None:
    response = board.get("/board?quarter=2031-32-Q1")
    assert response.status_code == 404
    text = visible(response.get_data(as_text=True))
    assert "2031/32 Q1 has no statuses: choose a quarter from 2024/25 Q1 to 2026/27 Q2" in text
    assert board.get("/board?quarter=next-week").status_code == 404


def test_the_exception_report_reads_red_then_amber_with_reasons_and_narratives(
        scene: Scene, board: FlaskClient) -> None:
    html = _get(board, "/board/exceptions")
    text = visible(html)
    assert "Exception report: 2026/27 Q2" in text
    summary = table(html, "Summary")
    assert [row[0].split()[0] for row in summary[1:]][:2] == [scene.newly_red, scene.worsened]
    assert summary[1][1].startswith("Red") and summary[2][1].startswith("Amber")
    assert f'href="#detail-{scene.newly_red}"' in html  # each links to its detail
    details = text.split("Summary", 1)[1].split(" Amber ", 1)[1]
    one = details.split("Priority 1:", 1)[1].split("Priority 2:")[0]
    assert one.index(scene.newly_red) < one.index(scene.worsened)  # Red before Amber
    assert scene.improved not in one and scene.completed not in one
    red = one.split(scene.worsened)[0]
    assert f"Past its due date: set by the test for {scene.newly_red}" in red
    assert "Corrective action New venue booked for October." in red
    assert "Venue fell through in August." in red
    assert "Area of concern Funding ends in March." in red
    amber = one.split(scene.worsened, 1)[1]
    assert "Recruitment slower than planned." in amber  # not the pending version
    assert "A version awaiting approval." not in amber
    two = details.split("Priority 2:", 1)[1]
    assert f"{scene.missing}" in two and "No update that counts for 2026/27 Q2" in two
    red_only = visible(_get(board, "/board/exceptions?only=red"))
    assert scene.newly_red in red_only and f"{scene.worsened}:" not in red_only


def test_the_trend_shows_each_quarter_s_stored_statuses(kingston_app: Flask,
                                                         board: FlaskClient) -> None:
    html = _get(board, "/board/trend")
    with db(kingston_app) as s:
        stored = {(r.item_id, r.quarter): r.colour for r in s.scalars(
            select(RollupStatus).where(RollupStatus.item_type == "priority"))}
        priority = s.scalars(select(Priority).where(Priority.ref == "1")).one()
    words = {"red": "Red", "amber": "Amber", "green": "Green", "blue": "Complete",
             "grey": "No update"}
    strip = parsed(html).find("ol", class_="app-strip", attrs={
        "aria-label": "Priority 1, status by quarter, 2024/25 Q1 to 2026/27 Q2"})
    assert isinstance(strip, Tag)
    heard = [span.get_text() for span in strip.select("span.govuk-visually-hidden")]
    quarters = [f"{y}/{y - 1999} Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)] + [
        "2026/27 Q1", "2026/27 Q2"]
    assert heard == [f"{q}: {words[stored[(priority.id, q)]]}" for q in quarters]
    # commitments in the plan's order, each with its title and a link
    refs = [link["href"].removeprefix("/board/commitments/")
            for link in parsed(html).select('a.govuk-link[href^="/board/commitments/"]')]
    assert refs[:3] == ["1.a", "1.b", "1.c"] and refs.index("2.a") > refs.index("1.k")
    chart = board.get("/board/trend.svg")
    assert chart.mimetype == "image/svg+xml" and b"<svg" in chart.data
    assert 'alt="Chart of commitments by status, quarter by quarter.' in html


def test_the_board_pages_need_an_account(kingston_app: Flask) -> None:
    anonymous = kingston_app.test_client()
    for url in ("/board", "/board/exceptions", "/board/trend", "/board/pack.csv"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert browser(kingston_app, ADMIN).get("/board").status_code == 200


def test_the_dashboard_s_date_is_the_pinned_today() -> None:
    import tracker.clock

    assert tracker.clock.today() == date(2026, 11, 25)


def test_the_html_pack_opens_styled_and_can_run_nothing(kingston_app: Flask, scene: Scene,
                                                        board: FlaskClient) -> None:
    import base64
    import hashlib

    from tracker import builder

    asked = board.get("/board/pack.html?quarter=2026-27-Q2")
    assert asked.status_code == 302
    builder.build_waiting(kingston_app)
    file_url = board.get("/board/pack.html?quarter=2026-27-Q2").headers["Location"]
    response = board.get(file_url)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Disposition"].startswith("inline")
    policy = response.headers["Content-Security-Policy"]
    styles = re.findall(rb"<style[^>]*>(.*?)</style>", response.data, re.S)
    assert styles
    for style in styles:  # the pack's own stylesheet is allowed, by its hash
        digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert b"<script" not in response.data


@pytest.mark.parametrize("filters", [{}, {"status": "red"}, {"theme": "vulnerability"}])
def test_a_priority_read_alone_is_the_priority_of_the_whole_dashboard(
        demo_app: Flask, filters: dict[str, str]) -> None:
    """A priority's page (and its commitments') reads only that priority's rows: what it
    shows is what the whole dashboard shows for that priority, figure for figure."""
    from tracker.db import get_session
    from tracker.reports import dashboard
    from tracker.services.plan_load import current_plan

    today = date(2026, 11, 25)
    with demo_app.app_context():
        session = get_session()
        plan = current_plan(session)
        assert plan is not None
        quarter = dashboard.choose_quarter(plan, today, None)
        chosen = dashboard.Filters.from_args(filters)
        whole = dashboard.build(session, plan, today, quarter, chosen)
        assert whole.priorities and whole.actions
        for expected in whole.priorities:
            alone = dashboard.build(session, plan, today, quarter, chosen,
                                    priority=expected.ref)
            assert alone.priorities == [expected]
            assert alone.escalations == [] and alone.kpis == []
            assert alone.filters == whole.filters and not alone.filter_problems
            assert alone.options == whole.options
