"""Commentary above the actions: a group lead's narrative for their priority, and the community
safety team's summary of the quarter, each versioned and audited, shown on the board's
dashboard, its priority page and in the packs.

The scene is the Kingston demo on 25 November 2026 (2026/27 Q2 open): the summary and the
narratives of priorities 1 and 2 are written for the quarter (version 1 each); daniel.price
leads priority 2's thematic group.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.tracker.helpers import (
    banners,
    browser,
    db,
    error_summary,
    field_error,
    token_for,
    visible,
)
from tests.tracker.signing import ADMIN, BOARD, LEAD, MEMBER
from tracker.models import AuditEvent, Commentary, Group, Priority, QuarterLock, User

Q2 = "2026-27-Q2"
NARRATIVE = "/board/commentary/2026-27-Q2/2"
SUMMARY = "/board/commentary/2026-27-Q2/summary"
TEXT = ("Knife crime referrals are up after the summer; the group has agreed a second "
        "outreach team with the youth service and asks the board to note the funding gap.")



def latest(app: Flask, scope: str, quarter: str = "2026/27 Q2") -> Commentary | None:
    with db(app) as s:
        return s.scalars(select(Commentary).where(Commentary.quarter == quarter,
                                                  Commentary.scope == scope)
                         .order_by(Commentary.version.desc())).first()


def write(client, url: str, text: str, base: int | None = None):  # type: ignore[no-untyped-def]
    page = client.get(url).get_data(as_text=True)
    if base is None:
        import re

        found = re.search(r'name="base_version"[^>]*value="(\d+)"', page)
        assert found, "no version in the form"
        base = int(found.group(1))
    return client.post(url, data={"csrf_token": token_for(client, url), "text": text,
                                  "base_version": str(base)})


def test_the_lead_writes_their_priority_s_narrative_and_the_board_reads_it(
        demo_app: Flask) -> None:
    lead = browser(demo_app, LEAD)
    page = lead.get("/board/priorities/2").get_data(as_text=True)
    assert NARRATIVE in page  # the lead is offered the form from the priority's page

    saved = write(lead, NARRATIVE, TEXT)

    assert saved.status_code == 302
    assert saved.headers["Location"].endswith("/board/priorities/2?quarter=2026-27-Q2"
                                              "#commentary")
    row = latest(demo_app, "2")
    assert row is not None and row.version == 2 and row.text == TEXT
    board = browser(demo_app, BOARD)
    dashboard = visible(board.get("/board").get_data(as_text=True))
    assert TEXT in dashboard
    priority = visible(board.get("/board/priorities/2").get_data(as_text=True))
    assert TEXT in priority and "Daniel Price" in priority
    # the board reads it and writes nothing
    assert NARRATIVE not in board.get("/board/priorities/2").get_data(as_text=True)
    # every version is kept, and audited with the old and new text
    versions = visible(lead.get(NARRATIVE).get_data(as_text=True))
    assert "Version 2, Daniel Price" in versions and "Version 1, Daniel Price" in versions
    with db(demo_app) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "commentary.written")
                          .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.object_ref == "2026/27 Q2 2"
    assert event.new == {"text": TEXT} and event.old is not None and event.old["text"]


def test_the_community_safety_team_writes_the_quarter_s_summary(demo_app: Flask) -> None:
    admin = browser(demo_app, ADMIN)
    saved = write(admin, SUMMARY, "A quarter of steady delivery.\n\nTwo areas of concern.")
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#summary")
    page = admin.get(saved.headers["Location"]).get_data(as_text=True)
    assert "success: The quarter's summary for 2026/27 Q2 is saved." in banners(page)
    assert "A quarter of steady delivery." in visible(page)
    row = latest(demo_app, "summary")
    assert row is not None and row.text == "A quarter of steady delivery.\n\nTwo areas of concern."
    # an admin may write any priority's narrative too
    assert write(admin, "/board/commentary/2026-27-Q2/3", "From the team.").status_code == 302


@pytest.mark.parametrize("who", [BOARD, MEMBER, "other lead"])
def test_only_the_lead_or_the_team_may_write_a_narrative(demo_app: Flask, who: str) -> None:
    if who == "other lead":  # the lead of another priority's group
        with db(demo_app) as s:
            priority = s.scalars(select(Priority).where(Priority.ref == "3")).one()
            group = s.get(Group, priority.group_id)
            assert group is not None and group.lead is not None
            who = group.lead.email
            assert who != LEAD
    client = browser(demo_app, who)
    before = latest(demo_app, "2")
    assert client.get(NARRATIVE).status_code == 403
    token = token_for(client, "/account")
    assert client.post(NARRATIVE, data={"csrf_token": token, "text": "Not mine to write.",
                                        "base_version": "1"}).status_code == 403
    assert client.get(SUMMARY).status_code == 403
    after = latest(demo_app, "2")
    assert after is not None and before is not None and after.version == before.version


def test_a_narrative_saved_meanwhile_is_never_overwritten(demo_app: Flask) -> None:
    lead = browser(demo_app, LEAD)
    admin = browser(demo_app, ADMIN)
    write(admin, NARRATIVE, "The team's version, saved first.")  # version 2

    clash = write(lead, NARRATIVE, TEXT, base=1)  # the lead's form was opened at version 1

    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    shown = visible(page)
    assert "Your commentary was not saved" in shown
    assert "Priya Shah saved version 2 while you were writing" in shown
    assert "The team's version, saved first." in shown  # theirs, to read
    assert TEXT in page  # and theirs is still in the form
    row = latest(demo_app, "2")
    assert row is not None and row.version == 2 and row.text == "The team's version, saved first."
    # saving again, from the form as it came back, makes version 3
    again = write(lead, NARRATIVE, TEXT)
    assert again.status_code == 302
    row = latest(demo_app, "2")
    assert row is not None and row.version == 3 and row.text == TEXT


def test_an_empty_or_overlong_narrative_is_refused_beside_the_field(demo_app: Flask) -> None:
    lead = browser(demo_app, LEAD)
    empty = write(lead, NARRATIVE, "   ")
    assert empty.status_code == 400
    page = empty.get_data(as_text=True)
    assert error_summary(page) == ["Enter the commentary"]
    assert field_error(page, "text") == "Enter the commentary"
    long = write(lead, NARRATIVE, "x" * 6001)
    assert long.status_code == 400
    assert field_error(long.get_data(as_text=True), "text") == (
        "The commentary must be 6,000 characters or fewer")
    row = latest(demo_app, "2")
    assert row is not None and row.version == 1


def test_a_locked_quarter_s_commentary_is_read_only(demo_app: Flask) -> None:
    with db(demo_app) as s:
        admin = s.scalars(select(User).where(User.email == ADMIN)).one()
        s.add(QuarterLock(quarter="2026/27 Q1", locked_by_id=admin.id, note="Board met"))
        s.commit()
    lead = browser(demo_app, LEAD)
    url = "/board/commentary/2026-27-Q1/2"
    page = visible(lead.get(url).get_data(as_text=True))
    assert "2026/27 Q1 is locked: the board has met, and its commentary is read-only." in page
    before = latest(demo_app, "2", "2026/27 Q1")
    refused = lead.post(url, data={"csrf_token": token_for(lead, "/account"),
                                   "text": "Too late.", "base_version": "1"})
    assert refused.status_code == 400
    assert "2026/27 Q1 is locked" in visible(refused.get_data(as_text=True))
    after = latest(demo_app, "2", "2026/27 Q1")
    assert before is not None and after is not None and after.version == before.version


def test_a_priority_without_a_narrative_says_so_and_offers_the_lead_the_form(
        demo_app: Flask) -> None:
    with db(demo_app) as s:
        priority = s.scalars(select(Priority).where(Priority.ref == "4")).one()
        group = s.get(Group, priority.group_id)
        assert group is not None and group.lead is not None
        lead_email = group.lead.email
    assert latest(demo_app, "4") is None  # the demo leaves priorities 3 and 4 unwritten
    lead = browser(demo_app, lead_email)
    page = lead.get("/board/priorities/4").get_data(as_text=True)
    assert "/board/commentary/2026-27-Q2/4" in page
    board = visible(browser(demo_app, BOARD).get("/board/priorities/4").get_data(as_text=True))
    assert "has not written a narrative" in board
