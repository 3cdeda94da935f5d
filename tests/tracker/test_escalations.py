"""Escalations: raised once per episode, kept open until resolved, withdrawn if corrected.

Kingston's rules escalate an update flagged as an area of concern to the board. An owner
flags one and the lead of the action's group approves it (an owner's update counts once
approved); the board sees it; statuses recomputed any number of times do not raise it twice;
a corrected update withdraws it; a resolved one is not raised again for the same episode.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from plans.periods import Calendar
from plans.rules import EscalationRule, NoUpdate
from tests.tracker.helpers import (
    QUARTER,
    action_id,
    approve,
    browser,
    cast,
    db,
    pin_today,
    submit_update,
)
from tracker.models import AuditEvent, Escalation
from tracker.services.escalations import episodes
from tracker.services.plan_load import current_plan
from tracker.services.statuses import recompute

CONCERN = "Flagged as an area of concern"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


def _escalations(app: Flask, ref: str, rule: str = CONCERN) -> list[Escalation]:
    with db(app) as s:
        return list(s.scalars(select(Escalation).where(
            Escalation.action_id == action_id(app, ref), Escalation.rule == rule)))


def _audit(app: Flask, kind: str, ref: str) -> list[str]:
    with db(app) as s:
        return list(s.scalars(select(AuditEvent.summary).where(
            AuditEvent.action == kind, AuditEvent.object_ref == ref)))


def _recompute(app: Flask) -> None:
    with db(app) as s:
        plan = current_plan(s)
        assert plan is not None
        recompute(s, plan, date(2026, 11, 25), actor="test")
        s.commit()


def test_a_flagged_concern_is_raised_to_the_board_once(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    response = submit_update(owner, people.action, rag="amber", is_concern="y",
                             concern_reason="The lease on the youth hub ends in December.",
                             corrective_action="Looking for a new venue.")
    assert response.status_code == 302
    assert _escalations(kingston_app, people.action) == []  # awaiting the lead's approval
    approve(kingston_app, people.action)
    raised = _escalations(kingston_app, people.action)
    assert [(e.quarter, e.to, e.is_open) for e in raised] == [(QUARTER, ["board"], True)]
    assert raised[0].reason == (f"{CONCERN}: the update for {QUARTER} flags an area of "
                                f"concern")
    _recompute(kingston_app)
    _recompute(kingston_app)
    assert len(_escalations(kingston_app, people.action)) == 1
    raised_audit = [s for s in _audit(kingston_app, "escalation.raised", people.action)
                    if CONCERN in s]
    assert raised_audit == [f"{QUARTER}: {raised[0].reason}"]
    board = browser(kingston_app, people.board)
    page = board.get("/board").get_data(as_text=True)
    assert people.action in page.split("Escalated to the board (", 1)[1].split("KPIs")[0]


def test_a_corrected_update_withdraws_the_escalation(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    submit_update(owner, people.action, rag="amber", is_concern="y",
                  concern_reason="The lease ends in December.", corrective_action="New venue.")
    approve(kingston_app, people.action)
    assert len(_escalations(kingston_app, people.action)) == 1
    response = submit_update(owner, people.action, rag="green",
                             narrative="The lease was extended; no concern now.")
    assert response.status_code == 302
    # the correction counts once approved: until then the approved concern stands
    assert len(_escalations(kingston_app, people.action)) == 1
    approve(kingston_app, people.action)
    assert _escalations(kingston_app, people.action) == []
    withdrawn = _audit(kingston_app, "escalation.withdrawn", people.action)
    assert withdrawn == [f"{QUARTER}: {CONCERN} no longer applies"]


def test_a_resolved_escalation_is_not_raised_again_for_the_same_episode(
        kingston_app: Flask) -> None:
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    submit_update(owner, people.action, rag="amber", is_concern="y",
                  concern_reason="The lease ends in December.", corrective_action="New venue.")
    approve(kingston_app, people.action)
    with db(kingston_app) as s:
        row = s.scalars(select(Escalation).where(Escalation.rule == CONCERN)).one()
        row.resolved_at, row.resolution = datetime(2026, 11, 20, tzinfo=UTC), "Lease extended"
        s.commit()
    _recompute(kingston_app)
    rows = _escalations(kingston_app, people.action)
    assert [(e.is_open, e.resolution) for e in rows] == [(False, "Lease extended")]


def test_episodes_are_runs_of_quarters_in_a_row() -> None:
    calendar = Calendar(4)
    q = [calendar.parse_quarter(f"2025/26 Q{n}") for n in (1, 2, 3, 4)]
    rule = EscalationRule("No update", NoUpdate(), ("owner",))
    other = EscalationRule("Other", NoUpdate(), ("board",))
    found = episodes({q[0]: [(rule, "a")], q[1]: [(rule, "b"), (other, "x")],
                      q[3]: [(rule, "d")]})
    assert [(e.rule.name, e.first.label, e.last.label, e.reason) for e in found] == [
        ("No update", "2025/26 Q1", "2025/26 Q2", "b"),
        ("Other", "2025/26 Q2", "2025/26 Q2", "x"),
        ("No update", "2025/26 Q4", "2025/26 Q4", "d"),
    ]


def _flag(app: Flask) -> tuple[object, int]:
    people = cast(app)
    owner = browser(app, people.owner)
    submit_update(owner, people.action, rag="amber", is_concern="y",
                  concern_reason="The lease ends in December.", corrective_action="New venue.")
    approve(app, people.action)
    (row,) = _escalations(app, people.action)
    return people, row.id


def test_an_admin_resolves_a_board_escalation_with_a_note(kingston_app: Flask) -> None:
    from tests.tracker.helpers import error_summary, token_for, visible

    people, escalation_id = _flag(kingston_app)
    admin = browser(kingston_app, people.admin)  # type: ignore[attr-defined]
    url = f"/escalations/{escalation_id}"
    page = admin.get(url).get_data(as_text=True)
    assert "Resolve it" in page and "How was it resolved?" in page
    refused = admin.post(url, data={"csrf_token": token_for(admin, url), "note": "  "})
    assert refused.status_code == 400
    assert error_summary(refused.get_data(as_text=True)) == [
        "Enter how the escalation was resolved"]
    assert _escalations(kingston_app, people.action)[0].is_open  # type: ignore[attr-defined]
    done = admin.post(url, data={"csrf_token": token_for(admin, url),
                                 "note": "The board agreed to fund a new venue."},
                      follow_redirects=True)
    text = visible(done.get_data(as_text=True))
    assert "Resolved" in text and "The board agreed to fund a new venue." in text
    row = _escalations(kingston_app, people.action)[0]  # type: ignore[attr-defined]
    assert not row.is_open and row.resolution == "The board agreed to fund a new venue."
    assert _audit(kingston_app, "escalation.resolved",
                  people.action) == [f"{QUARTER}: {CONCERN} resolved"]  # type: ignore[attr-defined]
    # resolved: gone from the board's open escalations, listed under resolved
    board = browser(kingston_app, people.board)  # type: ignore[attr-defined]
    dashboard = board.get("/board").get_data(as_text=True)
    assert f"/escalations/{escalation_id}" not in dashboard
    assert f"/escalations/{escalation_id}" in board.get("/escalations?state=resolved").get_data(
        as_text=True)


def test_board_members_and_other_people_cannot_resolve_it(kingston_app: Flask) -> None:
    from tests.tracker.helpers import token_for

    people, escalation_id = _flag(kingston_app)
    url = f"/escalations/{escalation_id}"
    for email in (people.board, people.owner, people.lead):  # type: ignore[attr-defined]
        client = browser(kingston_app, email)
        assert "Resolve it" not in client.get(url).get_data(as_text=True)
        response = client.post(url, data={"csrf_token": token_for(client, url), "note": "x"})
        assert response.status_code == 403, email
    assert _escalations(kingston_app, people.action)[0].is_open  # type: ignore[attr-defined]


def test_a_group_lead_resolves_an_escalation_raised_to_group_leads(kingston_app: Flask) -> None:
    from tests.tracker.helpers import token_for

    people = cast(kingston_app)
    rule = "No update two quarters running"
    if not _escalations(kingston_app, people.action, rule):
        with db(kingston_app) as s:
            s.add(Escalation(action_id=action_id(kingston_app, people.action), rule=rule,
                             to=["group_lead"], quarter=QUARTER, last_quarter=QUARTER,
                             reason="No update: test", resolution=""))
            s.commit()
    row = _escalations(kingston_app, people.action, rule)[0]
    assert row.is_open and row.to == ["group_lead"]
    url = f"/escalations/{row.id}"
    other = browser(kingston_app, people.other_lead)
    assert other.post(url, data={"csrf_token": token_for(other, url),
                                 "note": "x"}).status_code == 403
    lead = browser(kingston_app, people.lead)
    response = lead.post(url, data={"csrf_token": token_for(lead, url),
                                    "note": "Spoke to the owner; update due Friday."})
    assert response.status_code == 302
    assert not _escalations(kingston_app, people.action, rule)[0].is_open
