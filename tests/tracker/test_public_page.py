"""The public progress page for residents (``/public``) and the good-news stories behind it.

The scene is the Kingston demo on 25 November 2026: three KPIs are marked ``public: true`` in
plans.yaml (neighbourhood crime, knife crime with injury, antisocial behaviour); the demo has
one approved story and one waiting for a decision. The page is off unless
``TRACKER_PUBLIC_PAGE`` is set.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.tracker.helpers import (
    banners,
    browser,
    counted_get,
    db,
    error_summary,
    token_for,
    visible,
)
from tests.tracker.signing import ADMIN, BOARD, LEAD, MEMBER
from tracker.config import ConfigError, load_config
from tracker.models import KPI, ActionUpdate, AuditEvent, Commentary, Escalation, Story, User
from tracker.models.stories import APPROVED, SUBMITTED, WITHDRAWN

APPROVED_TITLE = "Safer routes home from school"
WAITING_TITLE = "A new space for young people on the estate"


@pytest.fixture
def on(demo_app: Flask) -> Flask:
    demo_app.config["PUBLIC_PAGE"] = True
    return demo_app


def test_the_setting_is_off_by_default_and_read_from_the_environment() -> None:
    assert load_config("instance", {})["PUBLIC_PAGE"] is False
    assert load_config("instance", {"TRACKER_PUBLIC_PAGE": "1"})["PUBLIC_PAGE"] is True
    with pytest.raises(ConfigError, match="TRACKER_PUBLIC_PAGE"):
        load_config("instance", {"TRACKER_PUBLIC_PAGE": "perhaps"})


def test_off_the_page_and_its_charts_are_not_found(demo_app: Flask) -> None:
    resident = browser(demo_app)
    assert resident.get("/public").status_code == 404
    assert resident.get("/public/kpis/neighbourhood-crime/chart.svg").status_code == 404
    assert "/public" not in resident.get("/").get_data(as_text=True)


def test_a_resident_reads_the_vision_progress_public_kpis_and_approved_stories(on: Flask) -> None:
    response = browser(on).get("/public")
    assert response.status_code == 200
    text = visible(response.get_data(as_text=True))
    assert "How we are doing" in text
    assert "Our vision" in text
    assert re.search(r"\d+ of \d+ actions on track", text), text[:2000]
    assert "Neighbourhood crime offences" in text
    assert "Knife crime with injury offences" in text
    assert "Domestic abuse incidents" not in text  # not marked public
    assert APPROVED_TITLE in text
    assert WAITING_TITLE not in text
    html = response.get_data(as_text=True)
    assert 'src="/public/kpis/neighbourhood-crime/chart.svg"' in html
    assert "The figures are in the table below" in html
    assert "Sign in" not in text
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_no_name_narrative_concern_or_escalation_is_anywhere_in_the_html(on: Flask) -> None:
    with db(on) as s:
        names = [n for n in s.scalars(select(User.name)) if n]
        emails = list(s.scalars(select(User.email)))
        narratives = [t for t in s.scalars(select(Commentary.text)) if t]
        updates = [t for column in (ActionUpdate.narrative, ActionUpdate.next_steps,
                                    ActionUpdate.risks, ActionUpdate.corrective_action)
                   for t in s.scalars(select(column).distinct()) if t and len(t) > 20]
        concerns = [t for t in s.scalars(select(ActionUpdate.concern_reason).distinct())
                    if t and len(t) > 20]
        escalations = [t for column in (Escalation.reason, Escalation.resolution)
                       for t in s.scalars(select(column).distinct()) if t and len(t) > 20]
    assert names and narratives and updates
    for who in (None, MEMBER, ADMIN):  # as a resident, and as staff who are signed in
        html = browser(on, who).get("/public").get_data(as_text=True)
        for secret in names + emails + narratives + updates + concerns + escalations:
            assert secret not in html, secret[:60]
        assert "concern" not in html.lower()
        assert "escalat" not in html.lower()


def test_a_withdrawn_story_disappears_from_the_page(on: Flask) -> None:
    with db(on) as s:
        s.execute(update(Story).where(Story.title == APPROVED_TITLE).values(status=WITHDRAWN))
        s.commit()
    assert APPROVED_TITLE not in browser(on).get("/public").get_data(as_text=True)


def test_the_public_chart_is_svg_and_only_for_public_kpis(on: Flask) -> None:
    resident = browser(on)
    chart = resident.get("/public/kpis/neighbourhood-crime/chart.svg")
    assert chart.status_code == 200
    assert chart.mimetype == "image/svg+xml"
    assert chart.get_data().lstrip().startswith(b"<?xml") or b"<svg" in chart.get_data()
    assert "public" in chart.headers["Cache-Control"]
    assert resident.get("/public/kpis/da-reports/chart.svg").status_code == 404
    assert resident.get("/public/kpis/no-such-kpi/chart.svg").status_code == 404


def test_the_footer_links_to_the_page_when_it_is_on(on: Flask) -> None:
    html = browser(on, MEMBER).get("/").get_data(as_text=True)
    assert 'href="/public"' in html


def test_the_number_of_queries_is_pinned_and_does_not_grow_with_public_kpis(on: Flask) -> None:
    resident = browser(on)
    resident.get("/public")  # warm the plan cache
    few, response = counted_get(on, resident, "/public")
    assert response.status_code == 200
    assert few <= 10, few
    with db(on) as s:
        s.execute(update(KPI).values(is_public=True))
        s.commit()
    resident.get("/public")
    many, response = counted_get(on, resident, "/public")
    assert "Domestic abuse incidents" in visible(response.get_data(as_text=True))
    assert many == few


# -- stories: submitting, approving, withdrawing ---------------------------------------------


def submit(client, title: str, body: str, commitment: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/stories/new", data={
        "csrf_token": token_for(client, "/stories/new"), "title": title, "body": body,
        "commitment": commitment})


def test_a_member_submits_a_story_and_it_waits_for_the_team(on: Flask) -> None:
    member = browser(on, MEMBER)
    form = member.get("/stories/new")
    assert form.status_code == 200
    assert "Submit a good-news story" in visible(form.get_data(as_text=True))
    done = submit(member, "Graffiti cleared in the park", "Volunteers cleared the underpass.",
                  "4.a")
    assert done.status_code == 302
    page = member.get(done.headers["Location"]).get_data(as_text=True)
    assert any("Your story is submitted" in b for b in banners(page))
    with db(on) as s:
        story = s.scalars(select(Story).where(Story.title == "Graffiti cleared in the park")).one()
        assert story.status == SUBMITTED and story.commitment_ref == "4.a"
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "story.submitted",
                                                  AuditEvent.object_ref == str(story.id))).first()
    assert "Graffiti cleared" not in browser(on).get("/public").get_data(as_text=True)


def test_a_story_without_a_title_or_too_long_is_refused_with_an_error_summary(on: Flask) -> None:
    member = browser(on, LEAD)
    refused = submit(member, "", "x" * 2001)
    assert refused.status_code == 400
    errors = error_summary(refused.get_data(as_text=True))
    assert "Enter a title for the story" in errors
    assert "The story must be 2,000 characters or fewer" in errors
    unknown = submit(member, "A title", "A body", "99.z")
    assert unknown.status_code == 400
    assert any("no commitment 99.z" in e for e in error_summary(unknown.get_data(as_text=True)))


def test_anonymous_people_and_the_board_cannot_submit(on: Flask) -> None:
    anonymous = on.test_client()
    assert anonymous.get("/stories/new").status_code == 302  # to sign in
    assert anonymous.post("/stories/new", data={"title": "t", "body": "b"}).status_code in (
        302, 400)
    board = browser(on, BOARD)
    assert board.get("/stories/new").status_code == 403
    with db(on) as s:
        assert s.scalars(select(Story).where(Story.title == "t")).first() is None


def test_an_admin_approves_then_withdraws_and_the_page_follows(on: Flask) -> None:
    admin = browser(on, ADMIN)
    listing = admin.get("/stories")
    assert listing.status_code == 200
    assert WAITING_TITLE in visible(listing.get_data(as_text=True))
    with db(on) as s:
        waiting = s.scalars(select(Story).where(Story.title == WAITING_TITLE)).one().id
    url = f"/stories/{waiting}/decide"
    done = admin.post(url, data={"csrf_token": token_for(admin, "/stories"),
                                 "decision": "approve"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/stories")
    assert WAITING_TITLE in browser(on).get("/public").get_data(as_text=True)
    admin.post(url, data={"csrf_token": token_for(admin, "/stories"), "decision": "withdraw"})
    assert WAITING_TITLE not in browser(on).get("/public").get_data(as_text=True)
    with db(on) as s:
        story = s.get(Story, waiting)
        assert story is not None and story.status == WITHDRAWN and story.decided_by is not None
        actions = set(s.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "story", AuditEvent.object_ref == str(waiting))))
    assert {"story.approved", "story.withdrawn"} <= actions


def test_a_member_cannot_see_the_list_or_approve(on: Flask) -> None:
    with db(on) as s:
        waiting = s.scalars(select(Story).where(Story.title == WAITING_TITLE)).one().id
    member = browser(on, MEMBER)
    assert member.get("/stories").status_code == 403
    refused = member.post(f"/stories/{waiting}/decide",
                          data={"csrf_token": token_for(member, "/stories/new"),
                                "decision": "approve"})
    assert refused.status_code == 403
    with db(on) as s:
        assert s.get(Story, waiting).status == SUBMITTED  # type: ignore[union-attr]


def test_a_decision_without_the_csrf_token_is_refused(on: Flask) -> None:
    with db(on) as s:
        waiting = s.scalars(select(Story).where(Story.title == WAITING_TITLE)).one().id
    admin = browser(on, ADMIN)
    assert admin.post(f"/stories/{waiting}/decide", data={"decision": "approve"}
                      ).status_code == 400
    with db(on) as s:
        assert s.get(Story, waiting).status == SUBMITTED  # type: ignore[union-attr]
    assert APPROVED  # the demo's other story stays approved
