"""The escalation digest, the weekly group-lead digest and statutory-duty reminders."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import digests, duties, escalation_digest
from tracker.db import get_engine
from tracker.models import Action, ActionUpdate, Escalation, Group, OutboxMessage, User
from tracker.services.plan_load import current_plan
from tracker.services.statuses import recompute

TODAY = date(2026, 10, 20)


def outbox(app: Flask, prefix: str = "") -> list[OutboxMessage]:
    with Session(get_engine(app), expire_on_commit=False) as session:
        return [m for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if m.key.startswith(prefix)]


def report(app: Flask, ref: str, quarter: str, rag: str, concern: bool = False) -> None:
    with Session(get_engine(app)) as session:
        action = session.scalars(select(Action).where(Action.ref == ref)).one()
        session.add(ActionUpdate(
            action_id=action.id, quarter=quarter, version=1, rag=rag, percent_complete=40,
            narrative="Delayed.", corrective_action="Recovery plan." if rag != "green" else "",
            is_concern=concern, concern_reason="Needs a board decision." if concern else "",
            author_id=action.owner_id))
        session.flush()
        # as recording an update does: the action's statuses, and its escalations, at once
        plan = current_plan(session)
        assert plan is not None
        recompute(session, plan, TODAY, [action.id], actor="test")
        session.commit()


def board_emails(app: Flask) -> set[str]:
    with Session(get_engine(app)) as session:
        board = session.scalars(select(Group).where(Group.kind == "board")).one()
        return {u.email for u in [board.lead, *board.members] if u is not None}


# -- escalations ---------------------------------------------------------------------------


def test_one_escalation_digest_per_recipient_listing_the_new_ones_never_repeated(
        kingston_app: Flask) -> None:
    report(kingston_app, "SKP-001", "2026/27 Q1", "red")
    report(kingston_app, "SKP-001", "2026/27 Q2", "red")
    first = escalation_digest.run(kingston_app, TODAY)
    board = board_emails(kingston_app)
    sent = outbox(kingston_app, "escalations|")
    to_board = [m for m in sent if m.to_address in board]
    # one digest per board member, each naming SKP-001's "Red two quarters running"
    assert sorted(m.to_address for m in to_board) == sorted(board)
    for message in to_board:
        assert "SKP-001" in message.text_body and "Red two quarters running" in message.text_body
    assert len({m.to_address for m in sent}) == len(sent)  # one email per recipient
    with Session(get_engine(kingston_app)) as session:
        assert all(e.notified_at is not None for e in session.scalars(select(Escalation)))
    assert first.queued == len(sent)

    # the same run again: nothing new, nothing sent
    again = escalation_digest.run(kingston_app, TODAY)
    assert again.queued == 0
    assert len(outbox(kingston_app, "escalations|")) == len(sent)

    # a new escalation: the next digest lists only it
    report(kingston_app, "SKP-003", "2026/27 Q2", "amber", concern=True)
    escalation_digest.run(kingston_app, TODAY)
    later = outbox(kingston_app, "escalations|")[len(sent):]
    assert sorted(m.to_address for m in later) == sorted(board)
    for message in later:
        assert "SKP-003" in message.text_body
        assert "Flagged as an area of concern" in message.text_body
        assert "SKP-001" not in message.text_body
        assert message.subject.startswith("1 new escalation:")


def test_group_lead_escalations_go_to_the_lead_of_the_actions_group(
        kingston_app: Flask) -> None:
    # no updates at all: "No update two quarters running" goes to each group's lead
    escalation_digest.run(kingston_app, TODAY)
    with Session(get_engine(kingston_app)) as session:
        rows = list(session.scalars(select(Escalation)
                                    .where(Escalation.rule == "No update two quarters running")))
        assert rows
        leads = {e.action.group.lead.email: set() for e in rows}  # type: ignore[union-attr]
        for e in rows:
            leads[e.action.group.lead.email].add(e.action.ref)  # type: ignore[union-attr]
    sent = {m.to_address: m for m in outbox(kingston_app, "escalations|")}
    for email, refs in leads.items():
        named = {w.rstrip(":") for w in sent[email].text_body.split() if w.startswith("SKP-")}
        assert refs <= named, email


def test_escalation_dry_run_writes_nothing(kingston_app: Flask) -> None:
    from tests.conftest import db_fingerprint

    report(kingston_app, "SKP-001", "2026/27 Q1", "red")
    report(kingston_app, "SKP-001", "2026/27 Q2", "red")
    before = db_fingerprint(kingston_app)
    result = escalation_digest.run(kingston_app, TODAY, dry_run=True)
    assert result.queued > 0
    assert db_fingerprint(kingston_app) == before


# -- the weekly digest ---------------------------------------------------------------------


def test_weekly_digest_once_a_week_per_group_lead(kingston_app: Flask) -> None:
    monday = date(2026, 10, 19)
    report(kingston_app, "SKP-001", "2026/27 Q2", "green")
    result = digests.run(kingston_app, monday)
    sent = outbox(kingston_app, "digests|")
    assert result.queued == len(sent) > 0
    assert all(m.key.startswith("digests|2026-W43|") for m in sent)
    with Session(get_engine(kingston_app)) as session:
        communities = session.scalars(select(Group).where(Group.ref == "communities")).one()
        lead = communities.lead
        assert lead is not None
        refs = set(session.scalars(select(Action.ref).where(
            Action.group_id == communities.id, Action.retired_at.is_(None))))
    digest = next(m for m in sent if m.key == f"digests|2026-W43|communities|{lead.email}")
    for ref in refs:
        assert ref in digest.text_body
    assert "Missing updates" in digest.text_body
    missing_part = digest.text_body.split("Missing updates", 1)[1]
    assert "SKP-001" not in missing_part  # its update is in
    assert "SKP-003" in missing_part
    # later the same week: nothing; the next Monday: a new one
    assert digests.run(kingston_app, date(2026, 10, 22)).queued == 0
    assert digests.run(kingston_app, date(2026, 10, 26)).queued == len(sent)


# -- statutory duties ----------------------------------------------------------------------


def admin_emails(app: Flask) -> set[str]:
    with Session(get_engine(app)) as session:
        return set(session.scalars(select(User.email).where(User.role == "admin")))


def test_duty_reminders_thirty_and_seven_days_before_to_the_admins(kingston_app: Flask
                                                                   ) -> None:
    admins = admin_emails(kingston_app)
    assert admins
    # strategic-assessment is due every 31 January
    assert duties.run(kingston_app, date(2026, 12, 31)).queued == 0
    duties.run(kingston_app, date(2027, 1, 1))
    duties.run(kingston_app, date(2027, 1, 2))  # again: nothing new
    thirty = outbox(kingston_app, "duties|strategic-assessment|2027|30|")
    assert {m.to_address for m in thirty} == admins and len(thirty) == len(admins)
    assert "31 January 2027" in thirty[0].subject
    assert "strategic assessment" in thirty[0].text_body
    duties.run(kingston_app, date(2027, 1, 24))
    seven = outbox(kingston_app, "duties|strategic-assessment|2027|7|")
    assert {m.to_address for m in seven} == admins
    # after the due day: nothing for the duty until the next year's 30-day step
    count = len(outbox(kingston_app, "duties|"))
    duties.run(kingston_app, date(2027, 2, 1))
    assert len(outbox(kingston_app, "duties|strategic-assessment|")) == 2 * len(admins)
    assert len(outbox(kingston_app, "duties|")) >= count


def test_duty_catch_up_sends_only_the_latest_step(kingston_app: Flask) -> None:
    duties.run(kingston_app, date(2027, 1, 26))  # down all month: only the 7-day step
    keys = {m.key.split("|")[3] for m in outbox(kingston_app, "duties|strategic-assessment|")}
    assert keys == {"7"}


def test_next_due_day() -> None:
    assert duties.next_due("01-31", date(2027, 1, 31)) == date(2027, 1, 31)
    assert duties.next_due("01-31", date(2027, 2, 1)) == date(2028, 1, 31)
    assert duties.next_due("02-29", date(2026, 3, 1)) == date(2027, 2, 28)
