"""Each role's home and navigation: where a person lands after signing in, what the
navigation offers them, and the community safety team's overview of what needs doing."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import _copy, _make_app
from tests.tracker.helpers import db, page, pin_today, visible
from tests.tracker.signing import ADMIN, BOARD, LEAD, MEMBER, set_password, sign_in
from tracker.db import get_engine
from tracker.models import ActionUpdate, OutboxMessage, QuarterLock, User, utcnow

HOMES = {MEMBER: "/my-actions", LEAD: "/my-actions", BOARD: "/board", ADMIN: "/admin"}
NAV = {
    MEMBER: ["My actions", "Board", "Plan", "KPIs", "Escalations"],
    LEAD: ["My actions", "Board", "Plan", "KPIs", "Escalations"],
    BOARD: ["Board", "Escalations", "Plan", "KPIs", "Themes", "Who's who"],
    ADMIN: ["Overview", "Board", "Plan", "KPIs", "Escalations", "Accounts"],
}


def _nav(html: str) -> list[str]:
    return [" ".join(link.get_text(" ").split())
            for link in page(html).select("a.govuk-service-navigation__link[href]")]


@pytest.mark.parametrize("email", list(HOMES))
def test_each_role_lands_on_its_home_with_its_own_navigation(kingston_app: Flask,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            email: str) -> None:
    pin_today(monkeypatch)
    set_password(kingston_app, email)
    client = kingston_app.test_client()
    response = sign_in(client, email)
    assert response.status_code == 302 and response.headers["Location"] == HOMES[email]
    page = client.get(HOMES[email])
    assert page.status_code == 200
    shown = [item for item in _nav(page.get_data(as_text=True)) if not item.endswith(
        "your account") and item != "Sign out"]
    # the "Change requests" page appears where that feature is installed
    assert [item for item in shown if item != "Change requests"] == NAV[email]
    assert client.get("/sign-in").headers["Location"] == HOMES[email]  # already signed in
    assert "My actions" not in shown or email != BOARD


def test_a_link_followed_before_signing_in_still_leads_there(kingston_app: Flask) -> None:
    set_password(kingston_app, BOARD)
    response = sign_in(kingston_app.test_client(), BOARD, query="?next=/kpis")
    assert response.headers["Location"] == "/kpis"


def test_the_navigation_when_signed_out_is_the_plan(kingston_app: Flask) -> None:
    html = kingston_app.test_client().get("/").get_data(as_text=True)
    assert _nav(html) == ["Plan", "Themes", "Who's who", "KPIs", "Sign in"]


def test_the_admin_overview_says_what_needs_doing(kingston_app: Flask,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)
    with db(kingston_app) as s:
        s.add(OutboxMessage(key="test|failed", kind="reminder", to_address="x@example.org",
                            cc=[], subject="A reminder", text_body="x", html_body="<p>x</p>",
                            created_at=utcnow(), send_after=utcnow(), attempts=14,
                            failed_at=utcnow(), last_error="550 no such user"))
        s.add(QuarterLock(quarter="2024/25 Q1", note="The board met."))
        waiting = s.query(User).filter(User.password_hash.is_(None),
                                       User.is_active.is_(True)).count()
        s.commit()
    set_password(kingston_app, ADMIN)
    client = kingston_app.test_client()
    sign_in(client, ADMIN)
    page = visible(client.get("/admin").get_data(as_text=True))
    assert "What needs doing" in page
    # the quarters before 2026/27 Q2 that are over and not locked, 2024/25 Q1 excepted
    assert "Quarters to lock (8)" in page and "2024/25 Q2, 2024/25 Q3" in page
    assert "2024/25 Q1," not in page
    assert "Emails that failed (1)" in page
    assert f"Accounts without a password ({waiting - 1})" in page  # the admin has one now
    # nothing is written for the quarter yet: the summary is to write; nothing is asked for
    assert "The summary of 2026/27 Q2" in page
    assert "/board/commentary/2026-27-Q2/summary" in client.get("/admin").get_data(as_text=True)
    assert "Change requests waiting for a decision" not in page


def test_the_admin_overview_lists_decisions_waiting(demo_db_template: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """In the demo, one change request is open and some updates await their lead."""
    pin_today(monkeypatch)
    app = _make_app(_copy(demo_db_template, tmp_path))
    with db(app) as s:
        waiting = s.scalar(select(func.count(func.distinct(ActionUpdate.action_id))).where(
            ActionUpdate.quarter == "2026/27 Q2", ActionUpdate.review == "pending"))
    assert waiting
    set_password(app, ADMIN)
    client = app.test_client()
    sign_in(client, ADMIN)
    page = visible(client.get("/admin").get_data(as_text=True))
    assert "Change requests waiting for a decision (1)" in page
    assert f"Updates awaiting their lead's approval ({waiting})" in page
    assert "The summary of 2026/27 Q2" not in page  # the demo wrote it
    get_engine(app).dispose()
