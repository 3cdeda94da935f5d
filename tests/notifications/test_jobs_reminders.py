"""Update reminders: the Kingston ladder (-7 owner, +1 owner, +7 owner with the group lead
copied) for 2026/27 Q2, whose updates are due on 15 October 2026.

The Kingston plan is loaded without any history, so every started, unfinished action's
update is missing until a test adds one.
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import reminders
from tracker.db import get_engine
from tracker.models import Action, ActionUpdate, OutboxMessage, QuarterLock

Q2 = "2026/27 Q2"
BEFORE = date(2026, 10, 7)     # the day before the first step
STEP_MINUS_7 = date(2026, 10, 8)
STEP_PLUS_1 = date(2026, 10, 16)
STEP_PLUS_7 = date(2026, 10, 22)


def outbox(app: Flask) -> list[OutboxMessage]:
    with Session(get_engine(app), expire_on_commit=False) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.key)))


def by_step(app: Flask, step: str) -> dict[str, OutboxMessage]:
    return {m.to_address: m for m in outbox(app) if m.key.startswith(f"reminders|{Q2}|{step}|")}


def expected_owners(app: Flask, today: date) -> dict[str, set[str]]:
    """Who owns which missing update, computed independently of the job's own listing."""
    with app.app_context():
        from tracker.db import get_session
        from tracker.services.plan_load import current_plan

        session = get_session()
        plan = current_plan(session)
        assert plan is not None
        period, _ = reminders.open_period(session, plan, today)
        assert period is not None
        owners: dict[str, set[str]] = {}
        for action in reminders.missing_updates(session, plan, period.quarter):
            owners.setdefault(action.owner.email, set()).add(action.ref)
        return owners


def refs_in(message: OutboxMessage) -> set[str]:
    return {word.rstrip(":") for word in message.text_body.split() if word.startswith("SKP-")}


def add_update(app: Flask, ref: str, review: str = "not_needed", quarter: str = Q2) -> None:
    with Session(get_engine(app)) as session:
        action = session.scalars(select(Action).where(Action.ref == ref)).one()
        session.add(ActionUpdate(action_id=action.id, quarter=quarter, version=1, rag="green",
                                 percent_complete=50, narrative="On track.",
                                 author_id=action.owner_id, review=review))
        session.commit()


def test_nothing_before_the_first_step(kingston_app: Flask) -> None:
    result = reminders.run(kingston_app, BEFORE)
    assert result.queued == 0
    assert outbox(kingston_app) == []
    assert "first is on 8 October 2026" in "\n".join(result.lines)


def test_on_the_step_day_one_email_per_owner_listing_exactly_their_missing_actions(
        kingston_app: Flask) -> None:
    owners = expected_owners(kingston_app, STEP_MINUS_7)
    assert len(owners) > 10
    result = reminders.run(kingston_app, STEP_MINUS_7)
    sent = by_step(kingston_app, "-7")
    assert set(sent) == set(owners)
    assert result.queued == len(owners)
    for email, message in sent.items():
        assert refs_in(message) == owners[email], email
        assert message.cc == []  # the -7 step is to the owner only
        assert message.kind == "reminder"
        assert "is due" in message.subject and "15 October 2026" in message.subject
        for ref in owners[email]:  # an absolute link to each update form
            assert f"http://127.0.0.1:5000/actions/{ref}/update/2026-27-Q2" in message.text_body
            assert f'href="http://127.0.0.1:5000/actions/{ref}/update/2026-27-Q2"' \
                in message.html_body


def test_the_plus_seven_step_copies_the_group_lead(kingston_app: Flask) -> None:
    reminders.run(kingston_app, STEP_PLUS_7)
    sent = by_step(kingston_app, "+7")
    assert sent
    with Session(get_engine(kingston_app)) as session:
        for email, message in sent.items():
            leads = set()
            for ref in refs_in(message):
                action = session.scalars(select(Action).where(Action.ref == ref)).one()
                assert action.owner.email == email
                if action.group and action.group.lead and action.group.lead.email != email:
                    leads.add(action.group.lead.email)
            assert set(message.cc) == leads, email
            assert message.subject.startswith("Overdue")
    assert any(m.cc for m in sent.values())


def test_submitted_and_pending_updates_are_not_chased_but_returned_ones_are(
        kingston_app: Flask) -> None:
    owners = expected_owners(kingston_app, STEP_PLUS_1)
    chased = sorted(ref for refs in owners.values() for ref in refs)
    submitted, pending, returned = chased[0], chased[1], chased[2]
    add_update(kingston_app, submitted)
    add_update(kingston_app, pending, review="pending")
    add_update(kingston_app, returned, review="returned")
    reminders.run(kingston_app, STEP_PLUS_1)
    listed = set().union(*(refs_in(m) for m in by_step(kingston_app, "+1").values()))
    assert submitted not in listed
    assert pending not in listed
    assert returned in listed
    assert listed == set(chased) - {submitted, pending}


def test_a_locked_quarter_sends_nothing(kingston_app: Flask) -> None:
    with Session(get_engine(kingston_app)) as session:
        session.add(QuarterLock(quarter=Q2, note="board met"))
        session.commit()
    result = reminders.run(kingston_app, STEP_PLUS_7)
    assert result.queued == 0 and outbox(kingston_app) == []
    assert "locked" in "\n".join(result.lines)


def test_a_closed_quarter_is_never_chased(kingston_app: Flask) -> None:
    # 20 January 2027: Q2 is long closed; the open quarter is Q3 (due 15 January 2027)
    reminders.run(kingston_app, date(2027, 1, 20))
    keys = [m.key for m in outbox(kingston_app)]
    assert keys and all(k.startswith("reminders|2026/27 Q3|+1|") for k in keys)


def test_running_twice_queues_once(kingston_app: Flask) -> None:
    first = reminders.run(kingston_app, STEP_PLUS_1)
    before = [(m.key, m.id) for m in outbox(kingston_app)]
    second = reminders.run(kingston_app, STEP_PLUS_1)
    assert first.queued > 0
    assert second.queued == 0 and second.skipped == first.queued
    assert [(m.key, m.id) for m in outbox(kingston_app)] == before
    # and the days between steps add nothing either
    assert reminders.run(kingston_app, date(2026, 10, 20)).queued == 0


def test_catching_up_after_three_days_down_sends_only_the_latest_step(
        kingston_app: Flask) -> None:
    reminders.run(kingston_app, STEP_MINUS_7)
    # down from 15 to 24 October: both +1 (16th) and +7 (22nd) passed; only +7 goes
    reminders.run(kingston_app, date(2026, 10, 24))
    steps = {m.key.split("|")[2] for m in outbox(kingston_app)}
    assert steps == {"-7", "+7"}
    owners = expected_owners(kingston_app, STEP_PLUS_7)
    assert set(by_step(kingston_app, "+7")) == set(owners)


def test_the_ladder_day_by_day(kingston_app: Flask) -> None:
    """Run every day of the quarter's reporting season: each step once, on its day."""
    sent_on: dict[str, date] = {}
    day = date(2026, 9, 16)
    while day <= date(2026, 12, 16):
        reminders.run(kingston_app, day)
        for message in outbox(kingston_app):
            sent_on.setdefault(message.key.split("|")[2], day)
        day = date.fromordinal(day.toordinal() + 1)
    assert sent_on == {"-7": STEP_MINUS_7, "+1": STEP_PLUS_1, "+7": STEP_PLUS_7}
