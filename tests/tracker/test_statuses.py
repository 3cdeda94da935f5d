"""Statuses the board can trust, as the pages show them.

An action's status for a quarter comes with the rule that set it and a reason; commitments
roll their actions up by the plan's rule (``worst`` for Kingston) and say which action set the
roll-up. Statuses follow each update, follow a plan reload with new rules (each change in
the audit trail), and the pages that show them run a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from tests.conftest import KINGSTON, count
from tests.tracker.helpers import (
    QUARTER,
    approve,
    browser,
    db,
    pin_today,
    status_of,
    status_rows,
    submit_update,
    visible,
)
from tracker.db import get_engine
from tracker.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    AuditEvent,
    Commitment,
    Milestone,
    User,
)

Q2_START, Q2_END = date(2026, 7, 1), date(2026, 9, 30)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


@dataclass
class Scene:
    commitment: str
    actions: list[str]     # the commitment's actions, in the roll-up's order
    action: str            # the one a member updates
    owner: str


def unreported_commitment(app: Flask) -> Scene:
    """A commitment (without parts) of several open actions, none with an update for the open
    quarter (each "No update", a grey status)."""
    with db(app) as s:
        colours = {(row.action_id, row.quarter): row.colour for row in s.scalars(
            select(ActionStatus).where(ActionStatus.quarter == QUARTER))}
        for commitment in s.scalars(select(Commitment).where(Commitment.parent_id.is_(None))
                                    .order_by(Commitment.position)):
            if commitment.parts:
                continue
            actions = list(s.scalars(select(Action).where(
                Action.commitment_id == commitment.id, Action.retired_at.is_(None))
                .order_by(Action.id)))
            members = [a for a in actions if a.owner.role == "member" and a.due > Q2_END]
            if len(actions) >= 2 and members and all(
                    colours.get((a.id, QUARTER)) == "grey" for a in actions):
                return Scene(commitment.ref, [a.ref for a in actions], members[0].ref,
                             members[0].owner.email)
    raise AssertionError("no commitment with several actions without an update")


def rollup_shown(html: str) -> str:
    text = visible(html)
    return text.split(f"Status, {QUARTER} ", 1)[1].split(" Cross-cutting themes", 1)[0]


# -- an update changes the status, and the roll-up follows ------------------------------------


def test_a_red_update_shows_on_the_action_and_rolls_up_to_its_commitment(kingston_app: Flask
                                                                          ) -> None:
    scene = unreported_commitment(kingston_app)
    n = len(scene.actions)
    reader = browser(kingston_app)  # the plan pages are public here
    assert rollup_shown(reader.get(f"/commitments/{scene.commitment}").get_data(as_text=True)
                        ) == f"No update None of {n} actions has a status yet"
    owner = browser(kingston_app, scene.owner)

    assert submit_update(owner, scene.action, rag="red", percent_complete="25",
                         corrective_action="Recovery plan agreed with partners."
                         ).status_code == 302
    approve(kingston_app, scene.action)  # Kingston's group leads approve owners' updates

    rows = status_rows(reader.get(f"/actions/{scene.action}").get_data(as_text=True))
    assert rows[QUARTER] == (f"{QUARTER} Red As assessed by the lead: rated Red by the owner, "
                             "25% complete Rule: As assessed by the lead")
    commitment = reader.get(f"/commitments/{scene.commitment}").get_data(as_text=True)
    assert rollup_shown(commitment) == (f"Red {scene.action} is Red; {n - 1} without a status "
                                        "not counted")

    assert submit_update(owner, scene.action, rag="blue", percent_complete="100",
                         narrative="All done.").status_code == 302
    approve(kingston_app, scene.action)

    rows = status_rows(reader.get(f"/actions/{scene.action}").get_data(as_text=True))
    assert rows[QUARTER] == (f"{QUARTER} Complete Complete: reported complete in {QUARTER} "
                             "Rule: Complete")
    commitment = reader.get(f"/commitments/{scene.commitment}").get_data(as_text=True)
    assert rollup_shown(commitment) == (f"Complete {scene.action} is Complete; {n - 1} without "
                                        "a status not counted")
    assert f"{scene.action}:" in visible(commitment)


def test_a_hundred_percent_counts_as_complete_whatever_the_colour(kingston_app: Flask) -> None:
    scene = unreported_commitment(kingston_app)
    owner = browser(kingston_app, scene.owner)

    assert submit_update(owner, scene.action, rag="green", percent_complete="100"
                         ).status_code == 302
    approve(kingston_app, scene.action)

    assert status_of(kingston_app, scene.action)[:2] == ("blue", "Complete")


def test_an_action_past_its_due_date_is_red_whatever_its_owner_says(kingston_app: Flask
                                                                    ) -> None:
    with db(kingston_app) as s:
        action = next(a for a in s.scalars(select(Action).where(
            Action.retired_at.is_(None), Action.due < Q2_START).order_by(Action.position))
            if a.owner.role == "member")
        ref, due, owner = action.ref, action.due, action.owner.email
    written = f"{due.day} {due:%B %Y}"
    reader = browser(kingston_app)

    rows = status_rows(reader.get(f"/actions/{ref}").get_data(as_text=True))
    assert rows[QUARTER] == (f"{QUARTER} Red Past its due date: due {written} "
                             "Rule: Past its due date")
    assert submit_update(browser(kingston_app, owner), ref, rag="green",
                         percent_complete="90").status_code == 302
    approve(kingston_app, ref)  # it counts: the group's lead has approved it
    rows = status_rows(reader.get(f"/actions/{ref}").get_data(as_text=True))
    assert rows[QUARTER] == (f"{QUARTER} Red Past its due date: due {written} "
                             "Rule: Past its due date")


def test_a_quarter_ending_on_the_due_date_is_not_yet_past_it(kingston_app: Flask) -> None:
    with db(kingston_app) as s:
        refs = [a.ref for a in s.scalars(select(Action).where(
            Action.retired_at.is_(None), Action.due == Q2_END))]
    assert refs, "Kingston has actions due on 30 September 2026"
    for ref in refs:
        assert status_of(kingston_app, ref)[1] != "Past its due date", ref


# -- a plan reload with new rules -------------------------------------------------------------


def test_reloading_the_plan_with_new_rules_recomputes_and_audits_the_statuses(
        kingston_app: Flask, tmp_path: Any) -> None:
    scene = unreported_commitment(kingston_app)
    text = KINGSTON.read_text(encoding="utf-8")
    old_rule = "{name: No update, if: no_update, then: grey}"
    assert text.count(old_rule) == 1
    changed = tmp_path / "plans.yaml"
    changed.write_text(text.replace(old_rule,
                                    "{name: Nothing reported, if: no_update, then: red}"),
                       encoding="utf-8")
    silent = count(kingston_app, ActionStatus, ActionStatus.rule == "No update")
    audited = count(kingston_app, AuditEvent, AuditEvent.action == "status.changed")
    assert silent > 0

    result = kingston_app.test_cli_runner().invoke(args=["plan", "load", str(changed)])

    assert result.exit_code == 0, result.output
    assert count(kingston_app, ActionStatus, ActionStatus.rule == "No update") == 0
    assert count(kingston_app, ActionStatus, ActionStatus.rule == "Nothing reported") == silent
    assert count(kingston_app, AuditEvent, AuditEvent.action == "status.changed") == (
        audited + silent)
    with db(kingston_app) as s:
        event_row = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "status.changed", AuditEvent.object_ref == scene.action,
            AuditEvent.summary.startswith(QUARTER))).one()
        assert event_row.summary == f"{QUARTER}: grey to red (Nothing reported)"
        assert event_row.old == {"quarter": QUARTER, "colour": "grey", "rule": "No update"}
        assert event_row.new == {"quarter": QUARTER, "colour": "red",
                                 "rule": "Nothing reported"}
    reader = browser(kingston_app)
    rows = status_rows(reader.get(f"/actions/{scene.action}").get_data(as_text=True))
    assert rows[QUARTER] == (f"{QUARTER} Red Nothing reported: nothing was reported for "
                             f"{QUARTER} Rule: Nothing reported")
    commitment = reader.get(f"/commitments/{scene.commitment}").get_data(as_text=True)
    assert rollup_shown(commitment) == (f"Red Worst of {len(scene.actions)} actions: "
                                        f"{scene.actions[0]} is Red")


# -- the pages run a fixed number of queries ---------------------------------------------------


@contextmanager
def queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _history(app: Flask, ref: str, versions: int) -> None:
    """Updates for every quarter of the plan so far, ``versions`` of each, by several people,
    some reviewed, with the action's milestones completed."""
    with db(app) as s:
        action = s.scalars(select(Action).where(Action.ref == ref)).one()
        people = list(s.scalars(select(User).order_by(User.id).limit(6)))
        labels = sorted({row.quarter for row in s.scalars(select(ActionStatus).where(
            ActionStatus.action_id == action.id))})
        for q, label in enumerate(labels):
            for v in range(1, versions + 1):
                s.add(ActionUpdate(
                    action_id=action.id, quarter=label, version=v, rag="amber",
                    percent_complete=min(100, 5 * q + v), narrative=f"{label} v{v}",
                    corrective_action="Catching up.", evidence=["https://example.org/e"],
                    author_id=people[(q + v) % len(people)].id,
                    review=("approved", "returned", "pending")[v % 3],
                    reviewed_by_id=people[(q + v + 1) % len(people)].id,
                    reviewed_at=None, review_comment="Checked." if v % 3 else ""))
        for milestone in s.scalars(select(Milestone).where(Milestone.action_id == action.id)):
            milestone.completed_at = datetime.combine(milestone.due, time(12), UTC)
            milestone.completed_by_id = people[0].id
        s.commit()


def _count_get(app: Flask, client: Any, path: str) -> int:
    assert client.get(path).status_code == 200  # warm: caches filled once per process
    with queries(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


@pytest.mark.parametrize("who", ["anonymous", "lead"])
def test_the_action_page_runs_the_same_queries_whatever_its_history(
        kingston_app: Flask, who: str) -> None:
    scene = unreported_commitment(kingston_app)
    few, many = scene.actions[0], scene.actions[1]
    with db(kingston_app) as s:
        action = s.scalars(select(Action).where(Action.ref == few)).one()
        lead = action.group.lead.email if action.group and action.group.lead else None
        s.add(ActionUpdate(action_id=action.id, quarter=QUARTER, version=1, rag="green",
                           percent_complete=10, narrative="Only one.",
                           author_id=action.owner_id, review="pending"))
        s.commit()
    _history(kingston_app, many, versions=5)
    assert count(kingston_app, ActionUpdate,
                 ActionUpdate.action_id == select(Action.id).where(Action.ref == many)
                 .scalar_subquery()) >= 40
    client = browser(kingston_app, lead if who == "lead" else None)

    one = _count_get(kingston_app, client, f"/actions/{few}")
    lots = _count_get(kingston_app, client, f"/actions/{many}")

    assert lots == one
    assert one <= 20


def test_the_commitment_page_runs_the_same_queries_whatever_its_history(kingston_app: Flask
                                                                        ) -> None:
    scene = unreported_commitment(kingston_app)
    with db(kingston_app) as s:
        sizes = {c.ref: count(kingston_app, Action, Action.commitment_id == c.id)
                 for c in s.scalars(select(Commitment).where(Commitment.parent_id.is_(None)))}
    smallest = min(sizes, key=lambda ref: (sizes[ref], ref))
    largest = max(sizes, key=lambda ref: (sizes[ref], ref))
    assert sizes[largest] >= 3 * max(sizes[smallest], 1)
    client = browser(kingston_app)

    before = _count_get(kingston_app, client, f"/commitments/{scene.commitment}")
    for ref in scene.actions:
        _history(kingston_app, ref, versions=3)
    after = _count_get(kingston_app, client, f"/commitments/{scene.commitment}")
    small = _count_get(kingston_app, client, f"/commitments/{smallest}")
    large = _count_get(kingston_app, client, f"/commitments/{largest}")

    assert after == before
    assert small == large == before
    assert before <= 20


def test_the_statuses_are_dated_to_the_open_quarter(kingston_app: Flask,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """When the next quarter's window opens, the pages move to it at once, but only read:
    the scheduler's statuses job works the new quarter out, and the pages then show it."""
    from tests.conftest import db_fingerprint

    scene = unreported_commitment(kingston_app)
    next_window = date(2026, 12, 31) - timedelta(days=14)
    pin_today(monkeypatch, next_window)
    reader = browser(kingston_app)
    before = db_fingerprint(kingston_app)

    html = visible(reader.get(f"/commitments/{scene.commitment}").get_data(as_text=True))

    assert "Status, 2026/27 Q3 Not worked out yet" in html
    after = db_fingerprint(kingston_app)
    assert {k: v for k, v in after.items() if k != "user_sessions"} == {
        k: v for k, v in before.items() if k != "user_sessions"}

    ran = kingston_app.test_cli_runner().invoke(
        args=["jobs", "run", "statuses", "--today", next_window.isoformat()])
    assert ran.exit_code == 0, ran.output
    assert "worked out the statuses of" in ran.output and "for 2026/27 Q3" in ran.output
    assert status_of(kingston_app, scene.action, "2026/27 Q3")[1] == "No update"
    html = visible(reader.get(f"/commitments/{scene.commitment}").get_data(as_text=True))
    assert "Status, 2026/27 Q3 Not worked out yet" not in html
    assert "Status, 2026/27 Q3" in html
