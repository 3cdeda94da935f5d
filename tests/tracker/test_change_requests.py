"""Change requests: an owner asks for a revised due date or KPI target with a reason; whoever
the plan's rules name approves or declines it; the plan's own date or target stays shown.

The scene is a Kingston action past its due date in the plan (so Red, "Past its due date",
in 2026/27 Q2), owned by a member, in a group whose lead is someone else. Its owner asks
for a later date; the lead approves it; the action is no longer past its due date, while
the page and the packs still show the plan's date.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from plans.periods import long_date
from tests.conftest import KINGSTON, count
from tests.tracker.helpers import (
    QUARTER,
    banners,
    browser,
    db,
    error_summary,
    field_error,
    forms,
    pin_today,
    status_of,
    status_rows,
    table,
    token_for,
    visible,
)
from tracker.models import (
    KPI,
    Action,
    AuditEvent,
    ChangeRequest,
    Group,
    KPIValue,
    Milestone,
    OutboxMessage,
    User,
)
from tracker.services import changes as service
from tracker.services import revisions
from tracker.services.plan_load import current_plan

PAST_DUE = "Past its due date"
REVISED = date(2027, 3, 31)
REASON = "The contract with the new provider starts in January, three months late."


def waiting_on_a_lock(engine: Engine, seconds: float = 20) -> None:
    """Return once another PostgreSQL session waits on a lock (the row this one holds)."""
    deadline = time.monotonic() + seconds
    with engine.connect() as watcher:
        while watcher.scalar(sql("SELECT count(*) FROM pg_locks WHERE NOT granted")) == 0:
            assert time.monotonic() < deadline, "no other session came to wait on the row"
            time.sleep(0.02)
            watcher.rollback()  # a fresh snapshot of pg_locks each time


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)  # 25 November 2026: 2026/27 Q2 is the open quarter


@dataclass
class Scene:
    action: str        # past its due date in the plan, owned by a member
    baseline: date     # its due date in the plan
    owner: str
    lead: str          # the lead of its group (not its owner)
    other_lead: str    # the lead of another group, nothing to do with this action
    other_member: str  # a member who owns none of this action
    other_action: str  # an action of the other lead's group, owned by someone else
    board: str
    admin: str


def scene(app: Flask) -> Scene:
    with db(app) as s:
        users = {u.id: u for u in s.scalars(select(User))}
        groups = {g.id: g for g in s.scalars(select(Group))}
        actions = list(s.scalars(select(Action).where(Action.retired_at.is_(None))
                                 .order_by(Action.position)))
        chosen = next(
            a for a in actions if a.due < date(2026, 7, 1) and a.group_id is not None
            and users[a.owner_id].role == "member"
            and groups[a.group_id].lead_id not in (None, a.owner_id)
            and users[groups[a.group_id].lead_id].role == "lead")  # type: ignore[index]
        lead_id = groups[chosen.group_id].lead_id  # type: ignore[index]
        other = next(g for g in groups.values() if g.id != chosen.group_id
                     and g.lead_id not in (None, lead_id, chosen.owner_id)
                     and users[g.lead_id].role == "lead"
                     and any(a.group_id == g.id and a.owner_id != g.lead_id for a in actions))
        other_action = next(a for a in actions if a.group_id == other.id
                            and a.owner_id not in (other.lead_id, chosen.owner_id))
        member = next(u for u in users.values() if u.role == "member"
                      and u.id != chosen.owner_id
                      and not any(a.owner_id == u.id and a.group_id == chosen.group_id
                                  for a in actions))
        return Scene(
            action=chosen.ref, baseline=chosen.due, owner=users[chosen.owner_id].email,
            lead=users[lead_id].email,  # type: ignore[index]
            other_lead=users[other.lead_id].email,  # type: ignore[index]
            other_member=member.email, other_action=other_action.ref,
            board=next(u.email for u in users.values() if u.role == "board"),
            admin=next(u.email for u in users.values() if u.role == "admin"))


def ask_url(ref: str) -> str:
    return f"/actions/{ref}/changes/new"


def ask(client: FlaskClient, ref: str, when: date | None = REVISED, reason: str = REASON,
        item: str = "due", day: tuple[str, str, str] | None = None) -> TestResponse:
    data: dict[str, object] = {"csrf_token": token_for(client, "/"), "item": item,
                               "reason": reason}
    if day is not None:
        data["new_date"] = list(day)
    elif when is not None:
        data["new_date"] = [str(when.day), str(when.month), str(when.year)]
    return client.post(ask_url(ref), data=data)


def decide(client: FlaskClient, change_id: int, decision: str, comment: str = ""
           ) -> TestResponse:
    return client.post(f"/changes/{change_id}", data={
        "csrf_token": token_for(client, "/"), "decision": decision, "comment": comment})


def requests_of(app: Flask, ref: str) -> list[ChangeRequest]:
    with db(app) as s:
        return list(s.scalars(select(ChangeRequest).join(Action, Action.id
                                                          == ChangeRequest.action_id)
                              .where(Action.ref == ref).order_by(ChangeRequest.id)))


def only_request(app: Flask, ref: str) -> ChangeRequest:
    (found,) = requests_of(app, ref)
    return found


def audit_rows(app: Flask, kind: str) -> list[tuple[str, str, str]]:
    with db(app) as s:
        return [(e.actor_label, e.object_ref, e.summary) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == kind).order_by(AuditEvent.id))]


def name_of(app: Flask, email: str) -> str:
    with db(app) as s:
        return s.scalars(select(User.name).where(User.email == email)).one()


def changes_section(html: str) -> str:
    """The action (or KPI) page's change requests section, as a reader sees it."""
    part = html.split('id="changes"', 1)[1]
    for end in ("<table", '<h2 class="govuk-heading-m" id="enter"'):
        part = part.split(end, 1)[0]
    return visible(f"<main><h2 {part}</main>")


def load_plan(app: Flask, folder: Path, text: str) -> None:
    plan_file = folder / "plans-changed.yaml"
    plan_file.write_text(text, encoding="utf-8")
    loaded = app.test_cli_runner().invoke(args=["plan", "load", str(plan_file)])
    assert loaded.exit_code == 0, loaded.output


def with_rule(text: str, line: str) -> str:
    """The plan with ``line`` added to its rules, after the approval rule."""
    assert text.count("  approval: group_lead\n") == 1
    return text.replace("  approval: group_lead\n", f"  approval: group_lead\n{line}\n")


# -- asking, approving, and what the rules then say ---------------------------------------


def test_an_owner_asks_and_the_group_lead_approves_so_it_is_no_longer_past_due(
        kingston_app: Flask) -> None:
    people = scene(kingston_app)
    assert status_of(kingston_app, people.action)[:2] == ("red", PAST_DUE)
    owner = browser(kingston_app, people.owner)
    page = owner.get(f"/actions/{people.action}").get_data(as_text=True)
    section = changes_section(page)
    assert f"Due date {people.baseline.day} {people.baseline:%B %Y}, as in the plan" in section
    assert "The lead of the action's group decides requests to change a due date" in section
    assert ask_url(people.action) in page

    asked = ask(owner, people.action)

    assert asked.status_code == 302
    assert asked.headers["Location"].startswith(f"/actions/{people.action}#change-")
    page = owner.get(f"/actions/{people.action}").get_data(as_text=True)
    assert ("success: Your request for a revised due date has been sent to the group lead."
            in banners(page))
    section = changes_section(page)
    baseline = f"{people.baseline.day} {people.baseline:%B %Y}"
    assert f"Due date: {baseline} to 31 March 2027 Waiting for a decision" in section
    assert REASON in section
    assert "Approve or decline this request" not in section  # the owner does not decide
    # nothing changes until it is decided
    assert status_of(kingston_app, people.action)[:2] == ("red", PAST_DUE)
    change = only_request(kingston_app, people.action)
    with db(kingston_app) as s:
        emails = {m.to_address: m for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "change_request"))}
    assert list(emails) == [people.lead]
    assert f"/changes/{change.id}" in emails[people.lead].text_body
    assert REASON in emails[people.lead].text_body

    lead = browser(kingston_app, people.lead)
    listed = lead.get("/changes").get_data(as_text=True)
    mine = table(listed, "For you to decide")
    assert [row[0].split(":")[0] for row in mine[1:]] == [people.action]
    detail = lead.get(f"/changes/{change.id}").get_data(as_text=True)
    assert "Your decision" in visible(detail)

    approved = decide(lead, change.id, "approve", "Agreed at the group meeting.")

    assert approved.status_code == 302
    colour, rule, reason = status_of(kingston_app, people.action)
    assert (colour, rule) == ("grey", "No update")
    assert PAST_DUE not in reason
    page = owner.get(f"/actions/{people.action}").get_data(as_text=True)
    assert PAST_DUE not in status_rows(page)[QUARTER]
    section = changes_section(page)
    lead_name = name_of(kingston_app, people.lead)
    decided_at = only_request(kingston_app, people.action).decided_at
    assert decided_at is not None
    agreed_on = long_date(decided_at.date())
    assert (f"Due date 31 March 2027, revised from the plan's {baseline} Agreed {agreed_on}"
            in section)
    assert f"by {lead_name} (group lead). Why: {REASON}" in section
    assert f"Due date: {baseline} to 31 March 2027 Approved" in section
    assert "Agreed at the group meeting." in section
    # the plan's date is untouched
    with db(kingston_app) as s:
        assert s.scalars(select(Action.due).where(Action.ref == people.action)).one() == \
            people.baseline
    # the audit trail, in the same transactions
    assert audit_rows(kingston_app, "change.requested") == [
        (people.owner, people.action,
         f"Due date: {baseline} to 31 March 2027 asked for: {REASON}")]
    assert audit_rows(kingston_app, "change.approved") == [
        (people.lead, people.action,
         f"Due date: {baseline} to 31 March 2027 approved by {lead_name} (group lead): "
         "Agreed at the group meeting.")]
    changed = [row for row in audit_rows(kingston_app, "status.changed")
               if row[1] == people.action and row[2].startswith(QUARTER)]
    assert changed == [(people.lead, people.action, f"{QUARTER}: red to grey (No update)")]
    with db(kingston_app) as s:
        told = list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "change_decision")))
    assert [(m.to_address, m.subject) for m in told] == [
        (people.owner, f"Change request for {people.action} approved")]


def test_asking_needs_a_real_future_date_and_a_reason(kingston_app: Flask) -> None:
    people = scene(kingston_app)
    owner = browser(kingston_app, people.owner)
    form = owner.get(ask_url(people.action))
    assert form.status_code == 200
    assert "Ask for a revised due date" in visible(form.get_data(as_text=True))

    empty = ask(owner, people.action, when=None, reason="  ")
    html = empty.get_data(as_text=True)
    assert empty.status_code == 400
    assert error_summary(html) == ["Enter the revised due date", "Enter why the change is needed"]
    assert field_error(html, "new_date") == "Enter the revised due date"
    assert field_error(html, "reason") == "Enter why the change is needed"
    assert "<title>Error:" in html

    cases = [
        (("31", "", "2027"), "The revised due date must include a month"),
        (("31", "2", "2027"), "The revised due date must be a real date"),
        (("1", "4", "27"), "The revised due date's year must include 4 numbers, like 2027"),
        (("1", "6", "2026"), "The revised due date must be today or in the future"),
        (("1", "4", "2030"), "The revised due date must be on or before the day the plan "
                             "ends, 31 March 2029"),
        ((str(people.baseline.day), str(people.baseline.month), str(people.baseline.year)),
         f"The revised due date is the due date now ({people.baseline.day} "
         f"{people.baseline:%B %Y}): enter a different date"),
    ]
    for day, message in cases:
        refused = ask(owner, people.action, day=day)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400, day
        assert field_error(html, "new_date") == message, day
        assert error_summary(html) == [message]
        # what was typed comes back
        assert REASON in html
        assert f'name="new_date" type="text" value="{day[0]}"' in html \
            or f'value="{day[0]}"' in html
    assert count(kingston_app, ChangeRequest) == 0
    assert audit_rows(kingston_app, "change.requested") == []


def test_one_open_request_per_item_and_milestones_have_their_own(kingston_app: Flask) -> None:
    from tests.tracker.helpers import cast

    people = cast(kingston_app)  # an action with milestones, open in 2026/27
    owner = browser(kingston_app, people.owner)
    assert ask(owner, people.action, when=date(2028, 3, 31)).status_code == 302
    first = only_request(kingston_app, people.action)

    again = ask(owner, people.action, when=date(2028, 6, 30))

    html = again.get_data(as_text=True)
    assert again.status_code == 400
    owner_name = name_of(kingston_app, people.owner)
    asked_on = long_date(first.requested_at.date())
    assert field_error(html, "item") == (
        f"{owner_name} already asked on {asked_on} for a change to the due date, which "
        "is waiting for a decision: only one request at a time can be open")
    assert len(requests_of(kingston_app, people.action)) == 1
    with db(kingston_app) as s:
        milestone = s.scalars(select(Milestone).where(
            Milestone.action_id == select(Action.id).where(Action.ref == people.action)
            .scalar_subquery(), Milestone.completed_at.is_(None))
            .order_by(Milestone.position)).first()
        assert milestone is not None
    choices = [f for f in forms(owner.get(ask_url(people.action)).get_data(as_text=True))
               if "reason" in dict(f.fields)]
    assert choices, "no request form"
    page = owner.get(ask_url(people.action)).get_data(as_text=True)
    assert f'value="milestone-{milestone.id}"' in page
    assert milestone.title in visible(page)

    other = ask(owner, people.action, when=date(2027, 1, 31), item=f"milestone-{milestone.id}")

    assert other.status_code == 302
    kinds = [(c.kind, c.milestone_id) for c in requests_of(kingston_app, people.action)]
    assert kinds == [("action_due", None), ("milestone_due", milestone.id)]


def test_declining_needs_a_comment_and_the_owner_may_ask_again(kingston_app: Flask) -> None:
    people = scene(kingston_app)
    owner = browser(kingston_app, people.owner)
    ask(owner, people.action)
    change = only_request(kingston_app, people.action)
    lead = browser(kingston_app, people.lead)

    bare = decide(lead, change.id, "decline", "   ")

    html = bare.get_data(as_text=True)
    assert bare.status_code == 400
    assert field_error(html, "comment") == "Enter why the request is declined"
    assert error_summary(html) == ["Enter why the request is declined"]
    assert only_request(kingston_app, people.action).state == "open"
    nothing = decide(lead, change.id, "", "")
    assert nothing.status_code == 400
    assert field_error(nothing.get_data(as_text=True), "decision") == "Choose approve or decline"

    declined = decide(lead, change.id, "decline", "Bring it to the group with a recovery plan.")

    assert declined.status_code == 302
    assert status_of(kingston_app, people.action)[:2] == ("red", PAST_DUE)
    page = owner.get(f"/actions/{people.action}").get_data(as_text=True)
    section = changes_section(page)
    assert "Declined" in section and "Bring it to the group with a recovery plan." in section
    assert f"Due date {people.baseline.day} {people.baseline:%B %Y}, as in the plan" in section
    lead_name = name_of(kingston_app, people.lead)
    assert audit_rows(kingston_app, "change.declined")[0][2].endswith(
        f"declined by {lead_name} (group lead): Bring it to the group with a recovery plan.")

    assert ask(owner, people.action, when=date(2027, 1, 31)).status_code == 302
    assert [c.state for c in requests_of(kingston_app, people.action)] == ["declined", "open"]


def test_a_decision_is_final_and_a_second_one_is_told_so(kingston_app: Flask) -> None:
    people = scene(kingston_app)
    ask(browser(kingston_app, people.owner), people.action)
    change = only_request(kingston_app, people.action)
    lead = browser(kingston_app, people.lead)
    admin = browser(kingston_app, people.admin)
    admin_form = admin.get(f"/changes/{change.id}").get_data(as_text=True)
    assert "Your decision" in visible(admin_form)  # both could decide it: the lead is first
    assert decide(lead, change.id, "approve").status_code == 302

    late = decide(admin, change.id, "decline", "We would rather keep the date.")

    html = late.get_data(as_text=True)
    assert late.status_code == 409
    lead_name = name_of(kingston_app, people.lead)
    assert error_summary(html) == [f"This request was already approved by {lead_name} "
                                   "(group lead)"]
    assert "Your comment (not saved)" in visible(html)
    assert "We would rather keep the date." in html
    assert only_request(kingston_app, people.action).state == "approved"
    assert len(audit_rows(kingston_app, "change.approved")) == 1
    assert audit_rows(kingston_app, "change.declined") == []


# -- who may ask and who may decide --------------------------------------------------------


def test_who_may_ask_for_a_revised_due_date(kingston_app: Flask) -> None:
    people = scene(kingston_app)
    for email in (people.other_member, people.board, people.other_lead):
        client = browser(kingston_app, email)
        assert client.get(ask_url(people.action)).status_code == 403, email
        assert ask(client, people.action).status_code == 403, email
        assert ask_url(people.action) not in client.get(
            f"/actions/{people.action}").get_data(as_text=True)
    anonymous = browser(kingston_app)
    assert "/sign-in" in anonymous.get(ask_url(people.action)).headers["Location"]
    assert count(kingston_app, ChangeRequest) == 0
    # the lead of the action's group may ask, as its owner may
    lead = browser(kingston_app, people.lead)
    assert lead.get(ask_url(people.action)).status_code == 200
    assert ask(lead, people.action).status_code == 302


def test_who_may_decide_under_the_group_lead_rule(kingston_app: Flask) -> None:
    people = scene(kingston_app)
    ask(browser(kingston_app, people.owner), people.action)
    change = only_request(kingston_app, people.action)
    url = f"/changes/{change.id}"
    for email in (people.board, people.other_lead, people.owner, people.other_member):
        client = browser(kingston_app, email)
        page = client.get(url)
        assert page.status_code == 200, email  # everyone signed in reads it
        assert "Your decision" not in visible(page.get_data(as_text=True)), email
        assert decide(client, change.id, "approve").status_code == 403, email
        assert table(client.get("/changes").get_data(as_text=True),
                     "1 waiting for a decision")
        assert "For you to decide" not in client.get("/changes").get_data(as_text=True)
    assert only_request(kingston_app, people.action).state == "open"
    anonymous = browser(kingston_app)
    assert "/sign-in" in anonymous.get(url).headers["Location"]
    # the lead of the action's group decides, and so may an admin
    admin = browser(kingston_app, people.admin)
    assert "Your decision" in visible(admin.get(url).get_data(as_text=True))
    assert decide(admin, change.id, "approve").status_code == 302
    admin_name = name_of(kingston_app, people.admin)
    assert audit_rows(kingston_app, "change.approved")[0][2].endswith(
        f"approved by {admin_name} (community safety team)")


def test_a_lead_of_another_group_cannot_reach_this_groups_requests_by_the_url(
        kingston_app: Flask) -> None:
    people = scene(kingston_app)
    ask(browser(kingston_app, people.owner), people.action)
    ours = only_request(kingston_app, people.action)
    other_lead = browser(kingston_app, people.other_lead)
    # their own group's request they decide; ours, by its number in the URL, they cannot
    assert ask(browser(kingston_app, people.lead), people.other_action).status_code == 403
    owner_of_other = _owner(kingston_app, people.other_action)
    assert ask(browser(kingston_app, owner_of_other), people.other_action).status_code == 302
    theirs = only_request(kingston_app, people.other_action)
    assert decide(other_lead, ours.id, "approve").status_code == 403
    assert decide(other_lead, theirs.id, "approve").status_code == 302
    assert only_request(kingston_app, people.action).state == "open"
    # an owner cannot ask for another action's milestone through their own action's form
    with db(kingston_app) as s:
        foreign = s.scalars(select(Milestone).join(Action, Action.id == Milestone.action_id)
                            .where(Action.ref != people.action)).first()
        assert foreign is not None
    owner = browser(kingston_app, people.owner)
    tampered = ask(owner, people.action, item=f"milestone-{foreign.id}")
    assert tampered.status_code == 400
    assert field_error(tampered.get_data(as_text=True), "item") == (
        "Choose the action's due date or one of its milestones")
    assert ask(owner, people.action, item="milestone-x").status_code == 400
    with db(kingston_app) as s:
        assert s.scalars(select(ChangeRequest).where(
            ChangeRequest.milestone_id == foreign.id)).first() is None


def _owner(app: Flask, ref: str) -> str:
    with db(app) as s:
        return s.scalars(select(User.email).join(Action, Action.owner_id == User.id)
                         .where(Action.ref == ref)).one()


def test_under_the_board_rule_admins_record_the_boards_decision(kingston_app: Flask,
                                                               tmp_path: Path) -> None:
    load_plan(kingston_app, tmp_path,
              with_rule(KINGSTON.read_text(encoding="utf-8"), "  change_approval: board"))
    with db(kingston_app) as s:
        plan = current_plan(s)
        assert plan is not None and plan.rules.change_approval == "board"
    people = scene(kingston_app)
    owner = browser(kingston_app, people.owner)
    assert ("The board decides requests to change a due date; the community safety team "
            "records its decision here.") in changes_section(
        owner.get(f"/actions/{people.action}").get_data(as_text=True))
    assert ask(owner, people.action).status_code == 302
    change = only_request(kingston_app, people.action)
    with db(kingston_app) as s:
        admins = set(s.scalars(select(User.email).where(User.role == "admin",
                                                        User.is_active.is_(True))))
        told = set(s.scalars(select(OutboxMessage.to_address).where(
            OutboxMessage.kind == "change_request")))
    assert told == admins  # the group lead does not decide, so is not asked to
    for email in (people.lead, people.board):
        client = browser(kingston_app, email)
        assert "Your decision" not in visible(client.get(
            f"/changes/{change.id}").get_data(as_text=True)), email
        assert decide(client, change.id, "approve").status_code == 403, email
    admin = browser(kingston_app, people.admin)
    page = visible(admin.get(f"/changes/{change.id}").get_data(as_text=True))
    assert "The plan's rules give this decision to the board: record what the board decided." \
        in page

    assert decide(admin, change.id, "approve", "Agreed by the board on 30 November.") \
        .status_code == 302

    admin_name = name_of(kingston_app, people.admin)
    section = changes_section(owner.get(f"/actions/{people.action}").get_data(as_text=True))
    assert f"by the board (recorded by {admin_name})" in section
    assert status_of(kingston_app, people.action)[1] != PAST_DUE


# -- the baseline stays ---------------------------------------------------------------------


def _approved(app: Flask, people: Scene, when: date = REVISED) -> ChangeRequest:
    assert ask(browser(app, people.owner), people.action, when=when).status_code == 302
    change = requests_of(app, people.action)[-1]
    assert decide(browser(app, people.lead), change.id, "approve").status_code == 302
    return change


def test_a_plan_reload_keeps_the_revision_and_a_new_plan_date_replaces_it(
        kingston_app: Flask, tmp_path: Path) -> None:
    people = scene(kingston_app)
    _approved(kingston_app, people)
    text = KINGSTON.read_text(encoding="utf-8")

    load_plan(kingston_app, tmp_path, with_rule(text, "  change_approval: group_lead"))

    with db(kingston_app) as s:
        assert s.scalars(select(Action.due).where(Action.ref == people.action)).one() == \
            people.baseline
        assert revisions.revised_due_dates(s)[s.scalars(select(Action.id).where(
            Action.ref == people.action)).one()] == REVISED
    assert status_of(kingston_app, people.action)[1] != PAST_DUE
    reader = browser(kingston_app)
    section = changes_section(reader.get(f"/actions/{people.action}").get_data(as_text=True))
    baseline = f"{people.baseline.day} {people.baseline:%B %Y}"
    assert f"Due date 31 March 2027, revised from the plan's {baseline}" in section

    # the annual review gives the action a new date in the plan: the plan's date counts
    line = f"      due: {people.baseline.isoformat()}"
    block = text.split(f"- id: {people.action}\n")
    assert len(block) >= 2 and line in block[-1].split("- id:")[0]
    block[-1] = block[-1].replace(line, "      due: 2026-08-31", 1)
    load_plan(kingston_app, tmp_path, f"- id: {people.action}\n".join(block))

    assert status_of(kingston_app, people.action)[:2] == ("red", PAST_DUE)
    section = changes_section(reader.get(f"/actions/{people.action}").get_data(as_text=True))
    assert "Due date 31 August 2026, as in the plan" in section
    assert "Approved, since replaced" in section


def test_the_pack_service_gives_the_baseline_and_the_revision_with_its_approval(
        kingston_app: Flask) -> None:
    people = scene(kingston_app)
    _approved(kingston_app, people)
    ask(browser(kingston_app, people.owner), people.action, when=date(2027, 6, 30))
    with db(kingston_app) as s:
        plan = current_plan(s)
        assert plan is not None
        quarter = plan.partnership.calendar.parse_quarter("2026/27 Q3")
        lines = {line.ref: line for line in service.due_dates_for_quarter(s, quarter)}
        earlier = {line.ref: line for line in service.due_dates_for_quarter(
            s, plan.partnership.calendar.parse_quarter(QUARTER))}
    line = lines[people.action]
    assert (line.baseline, line.revised, line.due) == (people.baseline, REVISED, REVISED)
    assert line.agreement is not None
    assert (line.agreement.decided_as, line.agreement.reason) == ("group_lead", REASON)
    assert line.agreement.words == f"{name_of(kingston_app, people.lead)} (group lead)"
    assert line.agreed_in_quarter  # agreed on 1 December 2026 (the clock of the database)
    assert line.waiting == date(2027, 6, 30)
    assert not earlier[people.action].agreed_in_quarter
    untouched = next(v for k, v in lines.items() if k != people.action)
    assert (untouched.revised, untouched.agreement, untouched.due) == (
        None, None, untouched.baseline)


# -- KPI targets ----------------------------------------------------------------------------


def test_a_kpi_owner_asks_for_a_revised_target_and_the_measures_use_it(
        kingston_app: Flask) -> None:
    with db(kingston_app) as s:
        kpi = s.scalars(select(KPI).where(KPI.ref == "asb-incidents")).one()
        owner = s.get(User, kpi.owner_id)
        assert owner is not None
        year_target = kpi.targets["2026/27"]
        groups = service.kpi_group_ids(s, kpi.id)
        lead = s.scalars(select(User).join(Group, Group.lead_id == User.id).where(
            Group.id.in_(groups), User.id != owner.id, User.role == "lead")).first()
        outsider = s.scalars(select(User).join(Group, Group.lead_id == User.id).where(
            Group.id.not_in(groups), User.role == "lead", User.id != owner.id)).first()
        assert lead is not None and outsider is not None
    url = "/kpis/asb-incidents/changes/new"
    client = browser(kingston_app, owner.email)
    page = client.get("/kpis/asb-incidents").get_data(as_text=True)
    assert url in page
    assert browser(kingston_app, lead.email).get(url).status_code == 403  # not the owner
    form = client.get(url).get_data(as_text=True)
    assert "The target for 2026/27" in visible(form)
    assert "The target for 2024/25" not in visible(form)  # a year that has ended
    token = token_for(client, "/")
    bad = client.post(url, data={"csrf_token": token, "period": "2026/27",
                                 "value": "lots", "reason": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert field_error(html, "reason") == "Enter why the change is needed"
    past = client.post(url, data={"csrf_token": token, "period": "2024/25", "value": "900",
                                  "reason": REASON})
    assert field_error(past.get_data(as_text=True), "period") == "Choose which target to change"
    new_target = year_target + 80  # asb-incidents: lower is better, 5% tolerance
    with db(kingston_app) as s:
        s.add(KPIValue(kpi_id=kpi.id, period=QUARTER, value=year_target + 70,
                       recorded_by_id=owner.id))
        s.commit()
    before = table(client.get("/kpis/asb-incidents").get_data(as_text=True), "The numbers")
    q2 = next(row for row in before if row[0].startswith(QUARTER))
    assert (q2[2], q2[3]) == (f"{year_target:,g}", "Red")

    asked = client.post(url, data={"csrf_token": token, "period": "2026/27",
                                   "value": f"{new_target:g}", "reason": REASON})

    assert asked.status_code == 302
    again = client.post(url, data={"csrf_token": token, "period": "2027/28", "value": "1000",
                                   "reason": REASON})
    assert again.status_code == 400
    assert "only one request at a time can be open" in (
        field_error(again.get_data(as_text=True), "period") or "")
    with db(kingston_app) as s:
        change = s.scalars(select(ChangeRequest).where(
            ChangeRequest.kpi_id == kpi.id)).one()
    assert decide(browser(kingston_app, outsider.email), change.id, "approve").status_code \
        == 403
    assert decide(browser(kingston_app, lead.email), change.id, "approve").status_code == 302

    page = client.get("/kpis/asb-incidents").get_data(as_text=True)
    section = changes_section(page)
    assert (f"Target for 2026/27 {new_target:,g}, revised from the plan's {year_target:,g}"
            in section)
    with db(kingston_app) as s:
        kpi = s.scalars(select(KPI).where(KPI.ref == "asb-incidents")).one()
        assert kpi.targets["2026/27"] == year_target  # the plan's stays
        from tracker.services.kpi_values import definition

        plan = current_plan(s)
        assert plan is not None
        defn = definition(kpi, plan.partnership.calendar)
        assert defn.target_for(date(2026, 7, 1)) == new_target
        assert defn.target_for(date(2025, 7, 1)) == kpi.targets["2025/26"]
    numbers = table(page, "The numbers")
    q2 = next(row for row in numbers if row[0].startswith(QUARTER))
    assert (q2[2], q2[3]) == (f"{new_target:,g}", "Green")
    assert audit_rows(kingston_app, "change.approved")[0][1] == "asb-incidents"


# -- two decisions at the same moment -------------------------------------------------------


def test_two_decisions_at_the_same_moment_one_wins_on_postgres(postgres_url: str,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """On PostgreSQL two transactions both read the request as open: the held row makes the
    second wait for the first, read its decision, and be refused."""

    from tracker import create_app, migrate
    from tracker.db import begin_write, get_engine

    app = create_app({"TESTING": True, "DATABASE_URL": postgres_url})
    engine = get_engine(app)
    try:
        migrate.upgrade(engine)
        loaded = app.test_cli_runner().invoke(args=["plan", "load", str(KINGSTON)])
        assert loaded.exit_code == 0, loaded.output
        people = scene(app)
        with Session(engine) as s:
            plan = current_plan(s)
            assert plan is not None
            owner = s.scalars(select(User).where(User.email == people.owner)).one()
            owner.session_token = "signed in"  # as the session loader marks the account
            action = s.scalars(select(Action).where(Action.ref == people.action)).one()
            change = service.ask_due_date(s, plan, owner, action, None, REVISED, REASON,
                                          date(2026, 11, 25))
            s.commit()
            change_id = change.id
        both_read = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def decide_as(email: str, approve: bool) -> None:
            with Session(engine, expire_on_commit=False) as s:
                begin_write(s)
                plan = current_plan(s)
                assert plan is not None
                user = s.scalars(select(User).where(User.email == email)).one()
                user.session_token = "signed in"
                row = s.get(ChangeRequest, change_id)
                assert row is not None and row.state == "open"
                both_read.wait(timeout=10)
                try:
                    service.decide(s, plan, user, row, approve,
                                   "" if approve else "Not yet.", date(2026, 11, 25))
                    waiting_on_a_lock(engine)  # the other now waits on the held row
                    s.commit()
                    outcomes[email] = "decided"
                except service.AlreadyDecided as refused:
                    s.rollback()
                    outcomes[email] = str(refused)

        threads = [threading.Thread(target=decide_as, args=(people.lead, True)),
                   threading.Thread(target=decide_as, args=(people.admin, False))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(outcomes) == 2
        assert sum(1 for v in outcomes.values() if v == "decided") == 1
        loser = next(v for v in outcomes.values() if v != "decided")
        assert loser.startswith("This request was already ")
        with Session(engine) as s:
            row = s.get(ChangeRequest, change_id)
            assert row is not None and row.state in ("approved", "declined")
            decided = s.scalars(select(AuditEvent).where(
                AuditEvent.action.in_(("change.approved", "change.declined")))).all()
            assert len(decided) == 1
    finally:
        engine.dispose()
