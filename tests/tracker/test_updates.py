"""The quarterly update as an owner meets it: My actions, the form, versions, approval, locks.

Each test drives the app through its pages as a browser would (signed in with a real
password, CSRF tokens scraped from the forms) and checks what the person sees, then the
database where it matters. Today is pinned to 25 November 2026: the open quarter is
2026/27 Q2, whose updates were due on 15 October 2026.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from bs4 import Tag
from flask import Flask
from sqlalchemy import select
from sqlalchemy import update as sql_update

from tests.conftest import KINGSTON, count
from tests.tracker.helpers import (
    QUARTER,
    SLUG,
    approve,
    banners,
    browser,
    cast,
    db,
    error_summary,
    field_error,
    forms,
    pin_today,
    sign_in,
    status_of,
    status_rows,
    submit_update,
    text_of,
    token_for,
    typed,
    update_form,
    update_url,
    visible,
)
from tests.tracker.helpers import page as parsed
from tracker import create_app
from tracker.db import get_engine
from tracker.models import (
    Action,
    ActionUpdate,
    AuditEvent,
    Group,
    Milestone,
    QuarterLock,
    User,
    UserSession,
)
from tracker.models.base import utcnow
from tracker.services.plan_load import current_plan


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


def audit_counts(app: Flask) -> Counter[str]:
    with db(app) as s:
        return Counter(s.scalars(select(AuditEvent.action)))


def versions(app: Flask, ref: str) -> list[ActionUpdate]:
    with db(app) as s:
        return list(s.scalars(select(ActionUpdate).join(Action)
                              .where(Action.ref == ref).order_by(ActionUpdate.version)))


# -- My actions -----------------------------------------------------------------------------


def test_my_actions_lists_the_owners_actions_for_the_open_quarter(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    with db(kingston_app) as s:
        owner = s.scalars(select(User).where(User.email == people.owner)).one()
        owned = [a.ref for a in s.scalars(select(Action).where(Action.owner_id == owner.id))]
    client = browser(kingston_app, people.owner)

    response = client.get("/my-actions")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = visible(html)
    assert ("Updates for 2026/27 Q2 (1 July 2026 to 30 September 2026) are due by "
            "15 October 2026, and are now late.") in text
    assert "Actions you own" in text
    assert "Actions in the groups you lead" not in text
    for ref in owned:
        assert f'href="/actions/{ref}"' in html
    assert f'href="{update_url(people.action)}"' in html
    row = _row(html, people.action)
    assert "Late" in row and "Update" in row and "Due 31 March 2027" in row
    assert people.other_action not in text  # someone else's action


def test_before_the_due_date_the_update_is_due_not_late(kingston_app: Flask,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch, date(2026, 10, 1))
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    text = visible(client.get("/my-actions").get_data(as_text=True))

    assert "Updates for 2026/27 Q2" in text and "are due by 15 October 2026." in text
    assert "now late" not in text
    row = _row(client.get("/my-actions").get_data(as_text=True), people.action)
    assert "Due" in row and "Late" not in row


def test_an_owner_who_also_leads_sees_the_groups_actions_too(kingston_app: Flask) -> None:
    with db(kingston_app) as s:
        lead, own, theirs = next(
            (g.lead, a, b) for g in s.scalars(select(Group).order_by(Group.position))
            if g.lead is not None
            for a in s.scalars(select(Action).where(Action.group_id == g.id,
                                                    Action.owner_id == g.lead_id,
                                                    Action.due > date(2026, 9, 30)))
            for b in s.scalars(select(Action).where(Action.group_id == g.id,
                                                    Action.owner_id != g.lead_id,
                                                    Action.due > date(2026, 9, 30)))
        )
        owner_name = theirs.owner.name
    client = browser(kingston_app, lead.email)

    html = client.get("/my-actions").get_data(as_text=True)

    text = visible(html)
    assert "Actions you own" in text and "Actions in the groups you lead" in text
    owned_part, led_part = text.split("Actions in the groups you lead")
    assert own.ref in owned_part.split("Actions you own")[1]
    assert theirs.ref in led_part and f"Owner: {owner_name}" in led_part


def _row(html: str, ref: str) -> str:
    for row in parsed(html).select("tr.govuk-table__row"):
        if row.find("a", href=f"/actions/{ref}") is not None:
            return text_of(row)
    raise AssertionError(f"{ref} is not listed")


# -- the form: errors beside each field -----------------------------------------------------


ERRORS = [
    ("no RAG", {"rag": None}, "rag", "Select how the action is going"),
    ("percent 101", {"percent_complete": "101"}, "percent_complete",
     "Enter a percentage from 0 to 100"),
    ("no percent", {"percent_complete": ""}, "percent_complete",
     "Enter how much of the action is complete, from 0 to 100"),
    ("empty progress", {"narrative": ""}, "narrative", "Describe the progress this quarter"),
    ("blank progress", {"narrative": " \r\n  "}, "narrative",
     "Describe the progress this quarter"),
    ("amber, no corrective action", {"rag": "amber"}, "corrective_action",
     "Enter the corrective action: it is required when the action is Amber"),
    ("red, no corrective action", {"rag": "red"}, "corrective_action",
     "Enter the corrective action: it is required when the action is Red"),
    ("concern without a reason", {"is_concern": "y"}, "concern_reason",
     "Enter why this is an area of concern"),
    ("evidence that is not a link",
     {"evidence": "https://example.org/ok\nshared drive/report.docx"}, "evidence",
     "'shared drive/report.docx' is not a web link: each line must start with https:// or "
     "http://"),
]


@pytest.mark.parametrize(("case", "change", "field", "message"), ERRORS,
                         ids=[e[0] for e in ERRORS])
def test_a_mistake_is_shown_beside_its_field_and_keeps_the_text(
        kingston_app: Flask, case: str, change: dict[str, object], field: str,
        message: str) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    fields = {"next_steps": "Book the venue for the spring event.",
              "risks": "Staff turnover at the partner charity.", **change}
    sent = typed(**fields)

    response = submit_update(client, people.action, **fields)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<title>Error: Update" in html
    assert field_error(html, field) == message
    assert message in error_summary(html)
    assert f'<a href="#{field}">' in html  # the summary links to the field
    shown = update_form(html)
    for name, value in sent.items():
        if name in ("rag", "is_concern"):
            assert shown.get(name) == value  # still ticked
        elif name != "percent_complete" or value:
            assert (shown.get(name) or "").strip() == str(value).strip(), name
    assert shown.get("base_version") == "0"
    assert versions(kingston_app, people.action) == []


@pytest.mark.parametrize("typed_percent", ["40%", "4.5", "forty"])
def test_a_percentage_that_is_not_a_number_gets_a_plain_message(kingston_app: Flask,
                                                                typed_percent: str) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    response = submit_update(client, people.action, percent_complete=typed_percent)

    html = response.get_data(as_text=True)
    if response.status_code == 302:  # read as a number: fine too
        return
    assert response.status_code == 400
    message = field_error(html, "percent_complete") or ""
    assert "from 0 to 100" in message, message
    assert update_form(html).get("percent_complete") == typed_percent


def test_every_mistake_at_once_is_listed_in_the_summary(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    response = submit_update(client, people.action, rag="red", percent_complete="101",
                             narrative="", is_concern="y", evidence="not a link")

    assert response.status_code == 400
    summary = error_summary(response.get_data(as_text=True))
    assert summary == [
        "Enter a percentage from 0 to 100",
        "Describe the progress this quarter",
        "Enter the corrective action: it is required when the action is Red",
        "Enter why this is an area of concern",
        "'not a link' is not a web link: each line must start with https:// or http://",
    ]
    assert versions(kingston_app, people.action) == []


# -- saving, and versions -------------------------------------------------------------------


def test_a_valid_update_is_saved_as_version_1_and_shown_on_the_action(kingston_app: Flask
                                                                      ) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    response = submit_update(client, people.action, rag="amber", percent_complete="35",
                             narrative="Two of four sessions held.",
                             corrective_action="Extra sessions booked for December.",
                             evidence="https://example.org/report\n\nhttp://example.org/minutes")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/actions/{people.action}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # Kingston's group leads approve owners' updates: it is saved, awaiting approval
    assert (f"success: Your update for {QUARTER} has been saved and sent to the group lead "
            "for approval.") in banners(page)
    text = visible(page)
    assert f"{QUARTER}: version 1" in text
    assert "Awaiting approval" in text
    assert "Owner's rating: Amber" in text and "35%" in text
    assert "Two of four sessions held." in text
    assert "Extra sessions booked for December." in text
    assert 'href="https://example.org/report"' in page
    assert 'href="http://example.org/minutes"' in page
    [saved] = versions(kingston_app, people.action)
    assert (saved.version, saved.quarter, saved.rag, saved.percent_complete) == (
        1, QUARTER, "amber", 35)
    assert saved.narrative == "Two of four sessions held."
    assert saved.evidence == ["https://example.org/report", "http://example.org/minutes"]
    assert saved.review == "pending"
    with db(kingston_app) as s:
        assert s.get(User, saved.author_id).email == people.owner  # type: ignore[union-attr]
    html = client.get("/my-actions").get_data(as_text=True)
    row = _row(html, people.action)
    assert "Awaiting approval" in row and "Change" in row and "Late" not in row


def test_changing_an_update_makes_version_2_and_keeps_version_1_readable(kingston_app: Flask
                                                                         ) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    assert submit_update(client, people.action, narrative="First account of the quarter."
                         ).status_code == 302

    form_page = client.get(update_url(people.action)).get_data(as_text=True)
    prefilled = update_form(form_page)
    assert prefilled.get("narrative") == "First account of the quarter."
    assert prefilled.get("base_version") == "1"
    assert "Submitting makes version 2" in visible(form_page)
    response = submit_update(client, people.action, rag="blue", percent_complete="100",
                             narrative="Second account: finished early.")

    assert response.status_code == 302
    page = client.get(f"/actions/{people.action}").get_data(as_text=True)
    text = visible(page)
    assert f"{QUARTER}: version 2" in text
    assert "Second account: finished early." in text
    assert "Earlier versions (1)" in text
    earlier = text.split("Earlier versions (1)")[1]
    assert "Version 1" in earlier and "First account of the quarter." in earlier
    saved = versions(kingston_app, people.action)
    assert [(v.version, v.narrative) for v in saved] == [
        (1, "First account of the quarter."), (2, "Second account: finished early.")]


# -- starting from last quarter's update ----------------------------------------------------


Q1, Q1_SLUG = "2026/27 Q1", "2026-27-Q1"
LAST_QUARTER = {
    "rag": "amber", "percent_complete": "60",
    "narrative": "Four of six workshops held; two moved to the autumn.",
    "next_steps": "Run the last two workshops.", "risks": "The venue closes for repairs.",
    "corrective_action": "A second venue is booked.", "is_concern": "y",
    "concern_reason": "Take-up by schools is low.",
    "evidence": "https://example.org/workshops\nhttps://example.org/feedback",
}
PREFILLED = "Filled in from your 2026/27 Q1 update: change what has moved on."


def _last_quarter(app: Flask, client=None, approved: bool = True,  # type: ignore[no-untyped-def]
                  **changes: object):
    """The owner's update for last quarter, approved by the group's lead (so that it counts)
    unless ``approved`` is false."""
    people = cast(app)
    client = client or browser(app, people.owner)
    assert submit_update(client, people.action, Q1_SLUG, **{**LAST_QUARTER, **changes}
                         ).status_code == 302
    if approved:
        approve(app, people.action, Q1)
    return people, client


def test_a_new_quarter_starts_from_last_quarters_update(kingston_app: Flask) -> None:
    people, client = _last_quarter(kingston_app)

    html = client.get(update_url(people.action)).get_data(as_text=True)

    text = visible(html)
    assert PREFILLED in text
    form = update_form(html)
    for name in ("rag", "percent_complete", "narrative", "next_steps", "risks",
                 "corrective_action", "evidence"):
        assert form.get(name) == LAST_QUARTER[name], name
    # a concern is raised afresh each quarter: its box and reason start empty
    assert form.get("is_concern") is None and form.get("concern_reason") == ""
    assert form.get("base_version") == "0"  # nothing is saved for this quarter yet
    assert "You are changing the update submitted" not in text
    # last quarter's update stays readable above the form, as it was sent
    panel = visible(html.split('id="previous-update">', 1)[1].split("</details>", 1)[0])
    assert panel.startswith("Your 2026/27 Q1 update")
    for shown in ("Amber", "60%", LAST_QUARTER["narrative"], "Take-up by schools is low.",
                  "https://example.org/feedback"):
        assert shown in panel, shown
    assert versions(kingston_app, people.action)[-1].quarter == Q1

    # sent as it is, it is this quarter's version 1; last quarter's stays as it was
    saved = client.post(update_url(people.action), data=form.as_data())

    assert saved.status_code == 302
    q1, q2 = versions(kingston_app, people.action)
    assert (q1.quarter, q1.narrative, q1.is_concern) == (Q1, LAST_QUARTER["narrative"], True)
    assert (q2.quarter, q2.version, q2.narrative, q2.percent_complete, q2.is_concern) == (
        QUARTER, 1, LAST_QUARTER["narrative"], 60, False)


def test_the_quarters_own_latest_version_comes_before_last_quarters(kingston_app: Flask
                                                                    ) -> None:
    people, client = _last_quarter(kingston_app)
    assert submit_update(client, people.action, percent_complete="70",
                         narrative="This quarter's own account.").status_code == 302

    html = client.get(update_url(people.action)).get_data(as_text=True)

    form = update_form(html)
    assert form.get("narrative") == "This quarter's own account."
    assert form.get("base_version") == "1"
    text = visible(html)
    assert "Filled in from" not in text
    assert "Submitting makes version 2" in text
    assert "Your 2026/27 Q1 update" in text  # still there to read


def test_an_update_that_does_not_count_yet_is_not_filled_in(approval_app: Flask) -> None:
    people, owner = _last_quarter(approval_app, approved=False)  # awaiting the lead's approval

    blank = owner.get(update_url(people.action)).get_data(as_text=True)

    assert update_form(blank).get("narrative") == ""
    assert "Filled in from" not in visible(blank) and "Q1 update" not in visible(blank)

    lead = browser(approval_app, people.lead)
    [q1] = versions(approval_app, people.action)
    assert lead.post(f"/actions/{people.action}/updates/{q1.id}/review", data={
        "decision": "approve", "csrf_token": token_for(lead, f"/actions/{people.action}")}
        ).status_code == 302

    assert PREFILLED in visible(owner.get(update_url(people.action)).get_data(as_text=True))
    # the lead, who did not write it, reads whose it is
    for_lead = lead.get(update_url(people.action)).get_data(as_text=True)
    assert "Filled in from the 2026/27 Q1 update: change what has moved on." in visible(
        for_lead)
    assert update_form(for_lead).get("narrative") == LAST_QUARTER["narrative"]


def test_text_held_while_signed_out_comes_back_instead_of_last_quarters(kingston_app: Flask
                                                                        ) -> None:
    people, client = _last_quarter(kingston_app)
    path = update_url(people.action)
    form = update_form(client.get(path).get_data(as_text=True))
    with db(kingston_app) as s:  # signed out elsewhere while typing
        s.execute(sql_update(UserSession).where(UserSession.ended_at.is_(None))
                  .values(ended_at=utcnow(), ended_reason="signed out"))
        s.commit()
    held = client.post(path, data={**form.as_data(), "narrative": "Typed, then signed out."})
    assert held.status_code == 302 and held.headers["Location"].startswith("/sign-in")
    assert sign_in(client, people.owner, next_path=path).status_code == 302

    html = client.get(path).get_data(as_text=True)

    assert update_form(html).get("narrative") == "Typed, then signed out."
    assert "Filled in from" not in visible(html)


# -- a percentage lower than before ---------------------------------------------------------


LOWER = ("40% is less than the 60% in your 2026/27 Q1 update: correct the percentage, or "
         "tick \u201cYes, progress went down\u201d")


def _warning_shown(html: str) -> bool:
    found = parsed(html).find("div", id="percent-lower", class_="app-percent-lower")
    assert isinstance(found, Tag), "no percentage warning on the page"
    return not found.has_attr("hidden")


def test_a_percentage_lower_than_last_quarters_is_confirmed_before_it_is_saved(
        kingston_app: Flask) -> None:
    people, client = _last_quarter(kingston_app)
    page = client.get(update_url(people.action)).get_data(as_text=True)
    assert not _warning_shown(page)  # 60%, as last quarter: nothing to say

    response = submit_update(client, people.action, percent_complete="40",
                             narrative="The provider withdrew; two workshops are lost.")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "percent_complete") == LOWER
    assert error_summary(html) == [LOWER]
    assert _warning_shown(html)
    assert "This is less than the 60% in your 2026/27 Q1 update." in visible(html)
    again = update_form(html)
    assert again.get("percent_complete") == "40"  # nothing typed is lost
    assert again.get("narrative") == "The provider withdrew; two workshops are lost."
    assert again.get("confirm_lower") is None
    assert [v.quarter for v in versions(kingston_app, people.action)] == [Q1]

    confirmed = client.post(update_url(people.action),
                            data={**again.as_data(), "confirm_lower": "y"})

    assert confirmed.status_code == 302
    saved = versions(kingston_app, people.action)[-1]
    assert (saved.quarter, saved.percent_complete) == (QUARTER, 40)


@pytest.mark.parametrize("percent", ["60", "75"])
def test_the_same_or_a_higher_percentage_is_saved_without_asking(kingston_app: Flask,
                                                                 percent: str) -> None:
    people, client = _last_quarter(kingston_app)

    assert submit_update(client, people.action, percent_complete=percent).status_code == 302
    assert versions(kingston_app, people.action)[-1].percent_complete == int(percent)


def test_a_new_version_lower_than_the_latest_one_is_confirmed_too(kingston_app: Flask
                                                                  ) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    assert submit_update(client, people.action, percent_complete="50").status_code == 302

    response = submit_update(client, people.action, percent_complete="30")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "percent_complete") == (
        "30% is less than the 50% in version 1 of this update: correct the percentage, or "
        "tick \u201cYes, progress went down\u201d")
    assert len(versions(kingston_app, people.action)) == 1
    assert submit_update(client, people.action, percent_complete="30", confirm_lower="y"
                         ).status_code == 302
    assert [v.percent_complete for v in versions(kingston_app, people.action)] == [50, 30]


def test_a_first_update_has_nothing_to_be_lower_than(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    html = client.get(update_url(people.action)).get_data(as_text=True)

    assert 'id="percent-lower"' not in html
    assert submit_update(client, people.action, percent_complete="0").status_code == 302


# -- the area of concern, and where the form goes -------------------------------------------


def _concern_reveal(html: str) -> str:
    found = parsed(html).find("div", id="conditional-is_concern",
                              class_="govuk-checkboxes__conditional")
    assert isinstance(found, Tag) and found.find("textarea") is not None, \
        "the reason is not inside the concern box's reveal"
    return str(found)


def test_the_concern_reason_is_revealed_by_ticking_the_box(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    html = client.get(update_url(people.action)).get_data(as_text=True)

    assert 'name="is_concern" type="checkbox" value="y" ' \
        'data-aria-controls="conditional-is_concern"' in html
    reveal = _concern_reveal(html)
    # hidden while unticked (where scripts run: without them GOV.UK shows it anyway)
    assert "govuk-checkboxes__conditional--hidden" in reveal
    assert 'for="concern_reason">' in reveal and 'name="concern_reason"' in reveal

    ticked = submit_update(client, people.action, is_concern="y", concern_reason="")

    assert ticked.status_code == 400
    reveal = _concern_reveal(ticked.get_data(as_text=True))
    assert "govuk-checkboxes__conditional--hidden" not in reveal  # open, with its error
    assert 'id="concern_reason-error"' in reveal

    # a reason typed and then unticked is not sent to the board
    assert submit_update(client, people.action, concern_reason="Typed, then unticked."
                         ).status_code == 302
    [saved] = versions(kingston_app, people.action)
    assert (saved.is_concern, saved.concern_reason) == (False, "")


def test_the_form_posts_to_its_own_address_without_a_fragment(kingston_app: Flask) -> None:
    """After the skip link the address ends #main-content; a form posted there would come
    back scrolled to it, and the browser would take the focus from the error summary."""
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    form = update_form(client.get(update_url(people.action)).get_data(as_text=True))
    again = update_form(submit_update(client, people.action, narrative="").get_data(
        as_text=True))

    assert form.action == again.action == update_url(people.action)


# -- two people editing at once -------------------------------------------------------------


def test_a_stale_edit_is_refused_showing_both_texts_and_overwrites_nothing(
        kingston_app: Flask) -> None:
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    lead = browser(kingston_app, people.lead)
    owner_form = update_form(owner.get(update_url(people.action)).get_data(as_text=True))
    lead_form = update_form(lead.get(update_url(people.action)).get_data(as_text=True))
    assert owner_form.get("base_version") == lead_form.get("base_version") == "0"

    first = owner.post(update_url(people.action), data={
        **typed(narrative="The owner's account: venue booked."),
        "base_version": "0", "csrf_token": owner_form.get("csrf_token")})
    assert first.status_code == 302
    second = lead.post(update_url(people.action), data={
        **typed(narrative="The lead's account: still looking for a venue.",
                risks="No venue yet."),
        "base_version": "0", "csrf_token": lead_form.get("csrf_token")})

    assert second.status_code == 409
    html = second.get_data(as_text=True)
    text = visible(html)
    assert "Your update was not saved" in text
    assert "The owner's account: venue booked." in text
    assert "The lead's account: still looking for a venue." in text
    assert "Nothing has been overwritten" in text
    [saved] = versions(kingston_app, people.action)
    assert saved.narrative == "The owner's account: venue booked."
    again = update_form(html)
    assert again.get("base_version") == "1"
    assert again.get("narrative") == "The lead's account: still looking for a venue."
    assert again.get("risks") == "No venue yet."
    assert again.get("csrf_token")

    third = lead.post(update_url(people.action), data=again.as_data())

    assert third.status_code == 302
    assert [(v.version, v.narrative) for v in versions(kingston_app, people.action)] == [
        (1, "The owner's account: venue booked."),
        (2, "The lead's account: still looking for a venue.")]


def test_a_tampered_version_number_is_refused_as_stale(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    assert submit_update(client, people.action, narrative="Version one.").status_code == 302

    response = submit_update(client, people.action, narrative="Sneaky.", base_version="7x")

    assert response.status_code == 409
    assert [v.narrative for v in versions(kingston_app, people.action)] == ["Version one."]


# -- milestones -----------------------------------------------------------------------------


def test_ticked_milestones_are_completed_and_unticking_reopens_them(kingston_app: Flask
                                                                    ) -> None:
    people = cast(kingston_app)
    with db(kingston_app) as s:
        first, second = s.scalars(select(Milestone).join(Action)
                                  .where(Action.ref == people.action)
                                  .order_by(Milestone.id)).all()[:2]
    client = browser(kingston_app, people.owner)
    before = audit_counts(kingston_app)

    assert submit_update(client, people.action, milestones=[str(first.id)]).status_code == 302

    with db(kingston_app) as s:
        done = s.get(Milestone, first.id)
        assert done is not None and done.completed_at is not None
        assert s.get(User, done.completed_by_id).email == people.owner  # type: ignore[union-attr]
        assert s.get(Milestone, second.id).completed_at is None  # type: ignore[union-attr]
    page = visible(client.get(f"/actions/{people.action}").get_data(as_text=True))
    assert f"{first.title} " in page and "Not yet" in page
    # the Done column shows the day it was completed, instead of "Not yet"
    assert re.search(re.escape(first.title) + r" \d+ \w+ \d{4} \d+ \w+ \d{4} ", page)
    form = update_form(client.get(update_url(people.action)).get_data(as_text=True))
    assert form.getlist("milestones") == [str(first.id)]  # the form shows it ticked
    after_tick = audit_counts(kingston_app)
    assert after_tick["milestone.completed"] - before["milestone.completed"] == 1

    assert submit_update(client, people.action, milestones=[str(second.id)]).status_code == 302

    with db(kingston_app) as s:
        reopened = s.get(Milestone, first.id)
        assert reopened is not None
        assert (reopened.completed_at, reopened.completed_by_id) == (None, None)
        assert s.get(Milestone, second.id).completed_at is not None  # type: ignore[union-attr]
        events = list(s.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("milestone.completed", "milestone.reopened")))
            .order_by(AuditEvent.id)))
    assert [(e.action, e.object_ref) for e in events] == [
        ("milestone.completed", first.ref), ("milestone.reopened", first.ref),
        ("milestone.completed", second.ref)]


def test_a_milestone_of_another_action_cannot_be_ticked(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    with db(kingston_app) as s:
        theirs = s.scalars(select(Milestone).join(Action)
                           .where(Action.ref == people.other_action)).first()
        assert theirs is not None
    client = browser(kingston_app, people.owner)

    response = submit_update(client, people.action, milestones=[str(theirs.id)])

    assert response.status_code in (302, 400)
    with db(kingston_app) as s:
        assert s.get(Milestone, theirs.id).completed_at is None  # type: ignore[union-attr]


# -- approval by the group lead -------------------------------------------------------------


@pytest.fixture(scope="module")
def no_approval_template(empty_db_template: Path, tmp_path_factory: pytest.TempPathFactory
                         ) -> Path:
    """plans.yaml with ``approval: none`` (the default), loaded by ``tracker plan load``."""
    folder = tmp_path_factory.mktemp("no-approval")
    text = KINGSTON.read_text(encoding="utf-8")
    assert text.count("approval: group_lead") == 1
    plan_file = folder / "plans.yaml"
    plan_file.write_text(text.replace("approval: group_lead", "approval: none"),
                         encoding="utf-8")
    path = folder / "no-approval.db"
    shutil.copy(empty_db_template, path)
    app = _app_on(path)
    result = app.test_cli_runner().invoke(args=["plan", "load", str(plan_file)])
    assert result.exit_code == 0, result.output
    get_engine(app).dispose()
    return path


def _app_on(path: Path) -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                       "SECRET_KEY": "test-secret-key-" + "x" * 32})


@pytest.fixture
def no_approval_app(no_approval_template: Path, tmp_path: Path) -> Iterator[Flask]:
    target = tmp_path / "tracker.db"
    shutil.copy(no_approval_template, target)
    application = _app_on(target)
    yield application
    get_engine(application).dispose()


@pytest.fixture
def approval_app(kingston_app: Flask) -> Flask:
    """Kingston, whose plan has the lead of an action's group approve its owner's update
    (``rules.approval: group_lead``)."""
    with db(kingston_app) as s:
        plan = current_plan(s)
        assert plan is not None and plan.rules.approval == "group_lead"
    return kingston_app


RED = {"rag": "red", "percent_complete": "20", "narrative": "Funding fell through.",
       "corrective_action": "Bid to the PCC fund in January."}


def test_an_owners_update_awaits_approval_and_does_not_count(approval_app: Flask) -> None:
    people = cast(approval_app)
    before = status_of(approval_app, people.action)
    assert before[1] == "No update"
    owner = browser(approval_app, people.owner)
    assert "Your group lead approves updates" in visible(
        owner.get(update_url(people.action)).get_data(as_text=True))

    response = submit_update(owner, people.action, **RED)

    assert response.status_code == 302
    page = owner.get(f"/actions/{people.action}").get_data(as_text=True)
    assert (f"success: Your update for {QUARTER} has been saved and sent to the group lead "
            "for approval.") in banners(page)
    assert "Awaiting approval" in visible(page)
    assert "Approve this update?" not in page  # the owner cannot approve it
    assert "Awaiting approval" in _row(owner.get("/my-actions").get_data(as_text=True),
                                       people.action)
    [saved] = versions(approval_app, people.action)
    assert saved.review == "pending"
    assert status_of(approval_app, people.action) == before  # it does not count yet
    assert status_rows(page)[QUARTER] == (f"{QUARTER} No update No update: nothing was "
                                          f"reported for {QUARTER} Rule: No update")


def test_the_lead_approves_and_the_status_follows(approval_app: Flask) -> None:
    people = cast(approval_app)
    owner = browser(approval_app, people.owner)
    assert submit_update(owner, people.action, **RED).status_code == 302
    [pending] = versions(approval_app, people.action)
    lead = browser(approval_app, people.lead)

    mine = visible(lead.get("/my-actions").get_data(as_text=True))
    assert "Awaiting your approval" in mine
    assert f"{people.action}:" in mine.split("Awaiting your approval")[1]
    assert f"({QUARTER}, version 1)" in mine
    page = lead.get(f"/actions/{people.action}").get_data(as_text=True)
    assert "Approve this update?" in page
    before = audit_counts(approval_app)
    response = lead.post(f"/actions/{people.action}/updates/{pending.id}/review",
                         data={"decision": "approve", "comment": "",
                               "csrf_token": token_for(lead, f"/actions/{people.action}")})

    assert response.status_code == 302
    page = lead.get(response.headers["Location"]).get_data(as_text=True)
    assert "success: Update approved." in banners(page)
    assert "Approved" in visible(page)
    assert "Approve this update?" not in page
    [approved] = versions(approval_app, people.action)
    assert approved.review == "approved"
    with db(approval_app) as s:
        assert s.get(User, approved.reviewed_by_id).email == people.lead  # type: ignore[union-attr]
    assert status_of(approval_app, people.action)[:2] == ("red", "As assessed by the lead")
    after = audit_counts(approval_app)
    assert after["update.approved"] - before["update.approved"] == 1
    assert after["status.changed"] - before["status.changed"] == 1
    assert "Awaiting your approval" not in visible(lead.get("/my-actions").get_data(as_text=True))
    assert "Submitted" in _row(owner.get("/my-actions").get_data(as_text=True), people.action)


def test_sending_back_needs_a_comment_and_the_owner_sees_it(approval_app: Flask) -> None:
    people = cast(approval_app)
    owner = browser(approval_app, people.owner)
    assert submit_update(owner, people.action, **RED).status_code == 302
    [pending] = versions(approval_app, people.action)
    lead = browser(approval_app, people.lead)
    url = f"/actions/{people.action}/updates/{pending.id}/review"
    token = token_for(lead, f"/actions/{people.action}")
    before = audit_counts(approval_app)

    refused = lead.post(url, data={"decision": "return", "comment": "  ", "csrf_token": token})

    # the action page again, the error beside the comment box and in a summary at the top
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "<title>Error: Action" in page
    message = ("Enter what needs to change: a comment is required when you send an update "
               "back")
    assert error_summary(page) == [message]
    assert f'<a href="#comment-{pending.id}">{message}</a>' in page
    assert field_error(page, f"comment-{pending.id}") == message
    assert banners(page) == []
    [decision] = [f for f in forms(page) if f.action == url]
    assert decision.get("decision") == "return"  # still chosen
    assert versions(approval_app, people.action)[0].review == "pending"
    assert audit_counts(approval_app) == before

    returned = lead.post(url, data={"decision": "return", "csrf_token": token,
                                    "comment": "Say which fund, and by when."})

    assert returned.status_code == 302
    assert "success: Update sent back to the owner with your comment." in banners(
        lead.get(returned.headers["Location"]).get_data(as_text=True))
    [back] = versions(approval_app, people.action)
    assert (back.review, back.review_comment) == ("returned", "Say which fund, and by when.")
    assert status_of(approval_app, people.action)[1] == "No update"
    assert "Sent back" in _row(owner.get("/my-actions").get_data(as_text=True), people.action)
    page = visible(owner.get(f"/actions/{people.action}").get_data(as_text=True))
    assert "Sent back" in page and "Say which fund, and by when." in page
    after = audit_counts(approval_app)
    assert after - before == Counter({"update.returned": 1})


def test_a_decision_not_chosen_is_asked_for_beside_the_choice_keeping_the_comment(
        approval_app: Flask) -> None:
    people = cast(approval_app)
    owner = browser(approval_app, people.owner)
    assert submit_update(owner, people.action, **RED).status_code == 302
    [pending] = versions(approval_app, people.action)
    lead = browser(approval_app, people.lead)
    url = f"/actions/{people.action}/updates/{pending.id}/review"
    before = audit_counts(approval_app)

    refused = lead.post(url, data={"comment": "Which fund? Say by when, too.",
                                   "csrf_token": token_for(lead, f"/actions/{people.action}")})

    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert error_summary(page) == ["Select approve or send back"]
    assert f'<a href="#decision-{pending.id}">Select approve or send back</a>' in page
    assert field_error(page, f"decision-{pending.id}") == "Select approve or send back"
    [decision] = [f for f in forms(page) if f.action == url]
    assert decision.get("comment") == "Which fund? Say by when, too."
    assert decision.get("decision") is None
    assert versions(approval_app, people.action)[0].review == "pending"
    assert audit_counts(approval_app) == before

    # chosen this time, the comment as it came back: sent back
    decided = lead.post(url, data={**decision.as_data(), "decision": "return"})

    assert decided.status_code == 302
    [back] = versions(approval_app, people.action)
    assert (back.review, back.review_comment) == ("returned", "Which fund? Say by when, too.")


def test_a_leads_own_update_counts_at_once(approval_app: Flask) -> None:
    people = cast(approval_app)
    lead = browser(approval_app, people.lead)

    response = submit_update(lead, people.action, **RED)

    assert response.status_code == 302
    assert f"success: Your update for {QUARTER} has been saved." in banners(
        lead.get(response.headers["Location"]).get_data(as_text=True))
    [saved] = versions(approval_app, people.action)
    assert saved.review == "not_needed"
    assert status_of(approval_app, people.action)[:2] == ("red", "As assessed by the lead")


def test_without_approval_an_owners_update_counts_at_once(no_approval_app: Flask) -> None:
    """Under ``approval: none`` (the default for a plan that does not set it) nobody
    approves: an owner's update counts as soon as it is saved."""
    people = cast(no_approval_app)
    owner = browser(no_approval_app, people.owner)
    assert "Your group lead approves updates" not in visible(
        owner.get(update_url(people.action)).get_data(as_text=True))

    response = submit_update(owner, people.action, **RED)

    assert response.status_code == 302
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert f"success: Your update for {QUARTER} has been saved." in banners(page)
    assert "Awaiting approval" not in visible(page)
    [saved] = versions(no_approval_app, people.action)
    assert saved.review == "not_needed"
    assert status_of(no_approval_app, people.action)[:2] == ("red", "As assessed by the lead")
    assert "Submitted" in _row(owner.get("/my-actions").get_data(as_text=True), people.action)
    with db(no_approval_app) as s:
        submitted = s.scalars(select(AuditEvent)
                              .where(AuditEvent.action == "update.submitted")).one()
        assert submitted.summary == f"{QUARTER} version 1: red, 20%"


def test_an_update_in_a_group_without_a_lead_counts_at_once(approval_app: Flask) -> None:
    """Under ``approval: group_lead``, an action whose group has nobody to lead it (the plan
    left the lead out) is not stuck: its owner's update counts as soon as it is saved."""
    from tracker.models import Group

    people = cast(approval_app)
    with db(approval_app) as s:
        action = s.scalars(select(Action).where(Action.ref == people.action)).one()
        group = s.get(Group, action.group_id)
        assert group is not None
        group.lead_id = None
        group.members = [m for m in group.members if m.role != "lead"]
        s.commit()
    owner = browser(approval_app, people.owner)
    form = visible(owner.get(update_url(people.action)).get_data(as_text=True))
    assert "Your group lead approves updates" not in form

    response = submit_update(owner, people.action, **RED)

    assert response.status_code == 302
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert f"success: Your update for {QUARTER} has been saved." in banners(page)
    [saved] = versions(approval_app, people.action)
    assert saved.review == "not_needed"
    assert status_of(approval_app, people.action)[:2] == ("red", "As assessed by the lead")


@pytest.mark.parametrize("who", ["board", "other_lead", "owner", "admin"])
def test_only_the_groups_lead_can_approve(approval_app: Flask, who: str) -> None:
    people = cast(approval_app)
    owner = browser(approval_app, people.owner)
    assert submit_update(owner, people.action, **RED).status_code == 302
    [pending] = versions(approval_app, people.action)
    client = owner if who == "owner" else browser(approval_app, getattr(people, who))
    before = audit_counts(approval_app)

    response = client.post(f"/actions/{people.action}/updates/{pending.id}/review",
                           data={"decision": "approve", "csrf_token": token_for(client)})

    assert response.status_code == 403
    assert versions(approval_app, people.action)[0].review == "pending"
    assert status_of(approval_app, people.action)[1] == "No update"
    assert audit_counts(approval_app) == before


def test_an_older_version_cannot_be_approved_once_a_newer_one_is_in(approval_app: Flask
                                                                    ) -> None:
    people = cast(approval_app)
    owner = browser(approval_app, people.owner)
    assert submit_update(owner, people.action, **RED).status_code == 302
    assert submit_update(owner, people.action, narrative="Revised: funding found."
                         ).status_code == 302
    first, second = versions(approval_app, people.action)
    lead = browser(approval_app, people.lead)

    response = lead.post(f"/actions/{people.action}/updates/{first.id}/review",
                         data={"decision": "approve", "csrf_token": token_for(lead)})

    assert response.status_code == 302
    assert "newer version" in " ".join(banners(
        lead.get(response.headers["Location"]).get_data(as_text=True)))
    assert [v.review for v in versions(approval_app, people.action)] == ["pending", "pending"]
    assert status_of(approval_app, people.action)[1] == "No update"


# -- locking a quarter ----------------------------------------------------------------------


def _lock(client, change: str = "lock", note: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/quarters/{SLUG}/{change}",
                       data={"note": note, "csrf_token": token_for(client, "/quarters")})


def test_an_admin_locks_the_open_quarter_and_updates_become_read_only(kingston_app: Flask
                                                                      ) -> None:
    people = cast(kingston_app)
    admin = browser(kingston_app, people.admin)
    owner = browser(kingston_app, people.owner)
    page = visible(admin.get("/quarters").get_data(as_text=True))
    assert f"The open quarter is {QUARTER}." in page
    assert f"{QUARTER} Open for updates" in page
    form_page = owner.get(update_url(people.action)).get_data(as_text=True)
    stale_form = update_form(form_page)
    before = audit_counts(kingston_app)

    response = _lock(admin, note="Board met 20 November")

    assert response.status_code == 302 and response.headers["Location"] == "/quarters"
    page = admin.get("/quarters").get_data(as_text=True)
    # the board is told (without a layout of theirs, the whole pack)
    assert (f"success: {QUARTER} is now locked. 15 board members are emailed a link to its "
            "board pack.") in banners(page)
    assert f"{QUARTER} Locked" in visible(page)
    assert count(kingston_app, QuarterLock, QuarterLock.quarter == QUARTER) == 1
    assert audit_counts(kingston_app) - before == Counter({"quarter.locked": 1})

    closed = owner.get(update_url(people.action))
    assert closed.status_code == 409
    assert f"{QUARTER} is locked" in visible(closed.get_data(as_text=True))
    posted = owner.post(update_url(people.action), data={
        **typed(narrative="Typed before the lock."), "base_version": "0",
        "csrf_token": stale_form.get("csrf_token")})
    assert posted.status_code == 409
    assert "is locked" in visible(posted.get_data(as_text=True))
    assert versions(kingston_app, people.action) == []
    mine = owner.get("/my-actions").get_data(as_text=True)
    assert (f"{QUARTER} is locked: the board has met and its updates are read-only."
            in visible(mine))
    assert update_url(people.action) not in mine
    action_page = owner.get(f"/actions/{people.action}").get_data(as_text=True)
    assert f"Update for {QUARTER}" not in visible(action_page)


def test_unlocking_needs_a_reason_and_is_audited(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    admin = browser(kingston_app, people.admin)
    assert _lock(admin).status_code == 302
    before = audit_counts(kingston_app)

    refused = _lock(admin, "unlock", "   ")

    assert refused.status_code == 302
    assert ("error: Nothing was changed: say why the quarter is being unlocked."
            in banners(admin.get("/quarters").get_data(as_text=True)))
    assert count(kingston_app, QuarterLock, QuarterLock.quarter == QUARTER) == 1
    assert audit_counts(kingston_app) == before

    unlocked = _lock(admin, "unlock", "An update was missed: reopened for a week")

    assert unlocked.status_code == 302
    assert f"success: {QUARTER} is now unlocked." in banners(
        admin.get("/quarters").get_data(as_text=True))
    assert count(kingston_app, QuarterLock) == 0
    assert audit_counts(kingston_app) - before == Counter({"quarter.unlocked": 1})
    with db(kingston_app) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "quarter.unlocked")).one()
        assert event.summary == "An update was missed: reopened for a week"
        assert s.get(User, event.actor_id).email == people.admin  # type: ignore[union-attr]
    owner = browser(kingston_app, people.owner)
    assert owner.get(update_url(people.action)).status_code == 200


def test_a_pending_update_cannot_be_approved_once_its_quarter_is_locked(approval_app: Flask
                                                                        ) -> None:
    people = cast(approval_app)
    owner = browser(approval_app, people.owner)
    assert submit_update(owner, people.action, **RED).status_code == 302
    [pending] = versions(approval_app, people.action)
    assert _lock(browser(approval_app, people.admin)).status_code == 302
    lead = browser(approval_app, people.lead)

    response = lead.post(f"/actions/{people.action}/updates/{pending.id}/review",
                         data={"decision": "approve", "csrf_token": token_for(lead)})

    assert response.status_code == 302
    assert versions(approval_app, people.action)[0].review == "pending"
    assert "is locked" in " ".join(banners(
        lead.get(response.headers["Location"]).get_data(as_text=True)))


@pytest.mark.parametrize("who", ["owner", "lead", "board"])
def test_only_admins_reach_the_quarters(kingston_app: Flask, who: str) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, getattr(people, who))

    assert client.get("/quarters").status_code == 403
    response = client.post(f"/quarters/{SLUG}/lock", data={"csrf_token": token_for(client)})
    assert response.status_code == 403
    assert count(kingston_app, QuarterLock) == 0


# -- the audit trail ------------------------------------------------------------------------


def test_each_change_writes_its_audit_events(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    with db(kingston_app) as s:
        milestone = s.scalars(select(Milestone).join(Action)
                              .where(Action.ref == people.action)).first()
        assert milestone is not None
    client = browser(kingston_app, people.owner)
    before = audit_counts(kingston_app)

    assert submit_update(client, people.action, milestones=[str(milestone.id)], **RED
                         ).status_code == 302

    # awaiting the lead's approval, the update does not count yet: the status stays
    # "No update", and no status change is written
    assert audit_counts(kingston_app) - before == Counter(
        {"update.submitted": 1, "milestone.completed": 1})
    assert status_of(kingston_app, people.action)[1] == "No update"
    with db(kingston_app) as s:
        submitted = s.scalars(select(AuditEvent)
                              .where(AuditEvent.action == "update.submitted")).one()
        assert submitted.object_ref == people.action
        assert submitted.summary == f"{QUARTER} version 1: red, 20% (awaiting approval)"
        assert submitted.old is None
        assert submitted.new is not None and submitted.new["narrative"] == RED["narrative"]
        assert s.get(User, submitted.actor_id).email == people.owner  # type: ignore[union-attr]


def test_an_update_and_its_audit_events_are_written_together_or_not_at_all(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the audit event is written leaves neither the update nor the event."""
    import tracker.services.updates as service

    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    before = audit_counts(kingston_app)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the status recompute failed")

    monkeypatch.setattr(service, "recompute", broken)
    with pytest.raises(RuntimeError, match="recompute failed"):
        submit_update(client, people.action, **RED)

    assert versions(kingston_app, people.action) == []
    assert audit_counts(kingston_app) == before
