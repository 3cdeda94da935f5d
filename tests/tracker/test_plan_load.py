"""Loading plans into the database: by stable refs, retiring never deleting, all or nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import KINGSTON, count, db_fingerprint, without_action
from tracker.db import get_engine
from tracker.models import (
    KPI,
    Action,
    ActionUpdate,
    AuditEvent,
    Commitment,
    KPIValue,
    Milestone,
    PlanLoad,
    Priority,
    Theme,
    User,
)
from tracker.services.plan_sync import rule_changes

KINGSTON_TEXT = KINGSTON.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "plans.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(flask_app: Flask, path: Path) -> tuple[int, str, str]:
    result = flask_app.test_cli_runner().invoke(args=["plan", "load", str(path)])
    return result.exit_code, result.stdout, result.stderr


def test_kingston_loads_whole(kingston_app: Flask) -> None:
    assert count(kingston_app, Priority) == 4
    assert count(kingston_app, Commitment, Commitment.parent_id.is_(None)) == 45
    assert count(kingston_app, Commitment, Commitment.parent_id.is_not(None)) == 3
    assert count(kingston_app, Theme) == 6
    assert count(kingston_app, Action) == 95
    assert count(kingston_app, KPI) >= 12
    assert count(kingston_app, PlanLoad) == 1
    with Session(get_engine(kingston_app)) as s:
        part = s.scalars(select(Commitment).where(Commitment.ref == "2.c.ii")).one()
        assert part.parent is not None and part.parent.ref == "2.c"
        assert part.priority.ref == "2"
        assert part.text.startswith("Advancing our understanding of local predictors")
        themes = s.scalars(select(Commitment).where(Commitment.ref == "2.b")).one().themes
        assert "substance-misuse" in {t.ref for t in themes}
        owner = s.scalars(select(Action).where(Action.ref == "SKP-001")).one().owner
        assert owner.email.endswith("@example.org")
        assert s.scalars(select(User).where(User.role == "admin")).first() is not None


def test_reloading_the_same_file_changes_nothing(kingston_app: Flask) -> None:
    before = db_fingerprint(kingston_app)
    runner = kingston_app.test_cli_runner()
    diff = runner.invoke(args=["plan", "diff", str(KINGSTON)])
    assert diff.exit_code == 0
    assert "No changes: the database already matches the file" in diff.stdout
    code, out, _ = load(kingston_app, KINGSTON)
    assert code == 0
    assert "No changes" in out
    after = db_fingerprint(kingston_app)
    assert len(after.pop("plan_loads")) == len(before.pop("plan_loads")) + 1
    events = after.pop("audit_events")
    assert len(events) == len(before.pop("audit_events")) + 1
    assert events[-1][4] == "plan.loaded"
    # the statuses were worked out again with the plan's rules, and none changed
    runs = after.pop("status_runs")
    assert len(runs) == len(before.pop("status_runs")) + 1 and runs[-1][-1] == 0
    # its transactions wrote (the load, the run): the board's pages are drawn again
    assert after.pop("data_versions")[0][1] > before.pop("data_versions")[0][1]
    assert after == before


def test_annual_review_reload_keeps_history(kingston_app: Flask, tmp_path: Path) -> None:
    """Change a commitment's wording and remove an action: updates and values stay."""
    with Session(get_engine(kingston_app)) as s:
        action = s.scalars(select(Action).where(Action.ref == "SKP-001")).one()
        commitment = s.scalars(select(Commitment).where(Commitment.ref == "1.a")).one()
        kpi = s.scalars(select(KPI).order_by(KPI.position)).first()
        assert kpi is not None
        s.add_all([
            ActionUpdate(action=action, quarter="2024/25 Q1", rag="green", percent_complete=20,
                         narrative="Campaign launched in April."),
            ActionUpdate(action=action, quarter="2024/25 Q2", rag="amber", percent_complete=40,
                         narrative="Second wave delayed."),
            KPIValue(kpi=kpi, period="2024/25 Q1", value=123, source="entered"),
        ])
        s.commit()
        commitment_id, action_id, kpi_id = commitment.id, action.id, kpi.id
        old_text = commitment.text

    new_text = old_text + " This wording was revised at the annual review."
    edited = KINGSTON_TEXT.replace(old_text, new_text, 1)
    edited = without_action(edited, "SKP-001")
    path = write(tmp_path, edited)

    diff = kingston_app.test_cli_runner().invoke(args=["plan", "diff", str(path)])
    assert diff.exit_code == 0, diff.output
    assert "Would change (1):" in diff.stdout
    assert "commitment 1.a: text:" in diff.stdout
    assert "Would retire" in diff.stdout
    assert "action SKP-001:" in diff.stdout

    code, out, err = load(kingston_app, path)
    assert code == 0, err
    with Session(get_engine(kingston_app)) as s:
        commitment = s.get(Commitment, commitment_id)
        action = s.get(Action, action_id)
        assert commitment is not None and action is not None
        assert commitment.text == new_text
        assert action.is_retired and action.ref == "SKP-001"
        assert [u.narrative for u in action.updates] == [
            "Campaign launched in April.", "Second wave delayed."]
        assert all(m.is_retired for m in action.milestones)
        assert s.scalars(select(KPIValue).where(KPIValue.value == 123)).one().kpi_id == kpi_id

    # the commitment page shows the new wording; the action page still shows its updates
    client = kingston_app.test_client()
    page = client.get("/commitments/1.a").get_data(as_text=True)
    assert "revised at the annual review" in page
    action_page = client.get("/actions/SKP-001").get_data(as_text=True)
    assert "Retired" in action_page and "Second wave delayed." in action_page

    # putting the action back restores it, with its history
    code, out, _ = load(kingston_app, KINGSTON)
    assert code == 0
    assert "action SKP-001" in out
    with Session(get_engine(kingston_app)) as s:
        action = s.get(Action, action_id)
        assert action is not None and not action.is_retired
        assert len(action.updates) == 2
        assert count(kingston_app, Milestone, Milestone.retired_at.is_not(None)) == 0


def test_a_refused_file_writes_nothing(kingston_app: Flask, tmp_path: Path) -> None:
    before = db_fingerprint(kingston_app)
    broken = KINGSTON_TEXT.replace("commitment: 1.a", "commitment: 5.a", 1)
    broken = broken.replace("Safer Kingston Partnership Plan 2024-2029", "Changed title", 1)
    code, out, err = load(kingston_app, write(tmp_path, broken))
    assert code == 1
    assert "The plan file was refused: 1 error. Nothing was changed." in err
    assert "commitment 5.a does not exist" in err
    assert db_fingerprint(kingston_app) == before


def test_another_partnerships_plan_is_refused(kingston_app: Flask, tmp_path: Path) -> None:
    before = db_fingerprint(kingston_app)
    other = KINGSTON_TEXT.replace("id: skp\n", "id: other-csp\n", 1)
    code, _, err = load(kingston_app, write(tmp_path, other))
    assert code == 1
    assert "holds the plan of partnership 'skp'" in err
    assert "Nothing was changed" in err
    assert db_fingerprint(kingston_app) == before


def test_load_into_empty_database_reports_what_it_added(app: Flask) -> None:
    code, out, _ = load(app, KINGSTON)
    assert code == 0
    assert out.startswith(f"Loaded {KINGSTON}: Safer Kingston Partnership.")
    assert "48 × commitment" in out and "95 × action" in out
    assert "0 changed, 0 retired" in out


def test_kpi_values_in_the_file_never_overwrite_entered_values(app: Flask, tmp_path: Path
                                                               ) -> None:
    plan = (ROOT_SHAPES / "minimal-with-values.yaml").read_text(encoding="utf-8")
    assert load(app, write(tmp_path, plan))[0] == 0
    with Session(get_engine(app)) as s:
        kpi = s.scalars(select(KPI)).one()
        assert [(v.period, v.value, v.source) for v in kpi.values] == [
            ("2024/25 Q1", 10.0, "plan"), ("2024/25 Q2", 12.0, "plan")]
        s.add(KPIValue(kpi=kpi, period="2024/25 Q2", value=15, source="entered"))
        s.commit()
    changed = plan.replace('"2024/25 Q1": 10', '"2024/25 Q1": 11').replace(
        '"2024/25 Q2": 12', '"2024/25 Q2": 13')
    code, out, _ = load(app, write(tmp_path, changed))
    assert code == 0
    assert "KPI value asb 2024/25 Q1: value: 10 -> 11" in out
    assert "2024/25 Q2" not in out
    with Session(get_engine(app)) as s:
        latest = {}
        for v in s.scalars(select(KPIValue).order_by(KPIValue.id)):
            latest[v.period] = v.value
        assert latest == {"2024/25 Q1": 11.0, "2024/25 Q2": 15.0}


RULES = """rules:
  calendar:
    update_due_days: 15
    window_opens_days: 14
  reminders:
    - {at: -7, to: owner}
    - {at: 1, to: owner}
    - {at: 7, to: [owner, group_lead]}
  rag:
    - {name: Complete, if: complete, then: blue}
    - {name: Past its due date, if: past_due, then: red}
    - {name: No update, if: no_update, then: amber}
    - {name: As assessed by the lead, then: self}
  rollup: worst
  approval: none
  escalate:
    - {name: Red two quarters running, if: {rag: red, quarters: 2}, to: board}
    - {name: Flagged as an area of concern, if: concern, to: board}
    - {name: No update two quarters running, if: {no_update: 2}, to: group_lead}
    - {name: KPI off target, if: {kpi: red}, to: group_lead}
"""
"""The rules the tests below load first (Kingston's own may change), and then edit."""


def with_rules(rules: str, *edits: tuple[str, str]) -> str:
    """Kingston's plan with ``rules`` as its rules section (its last), each ``(old, new)``
    of ``edits`` replaced in them once."""
    for old, new in edits:
        assert rules.count(old) == 1, old
        rules = rules.replace(old, new)
    head = KINGSTON_TEXT[:KINGSTON_TEXT.index("\nrules:\n") + 1]
    assert not re.search(r"^[^\s#]", KINGSTON_TEXT[len(head) + 7:], re.M), "rules come last"
    return head + rules


def test_a_change_to_the_rules_alone_is_listed_and_loaded(kingston_app: Flask,
                                                          tmp_path: Path) -> None:
    code, _, err = load(kingston_app, write(tmp_path, with_rules(RULES), "before.yaml"))
    assert code == 0, err
    path = write(tmp_path, with_rules(
        RULES,
        ("    update_due_days: 15", "    update_due_days: 20"),
        ("    - {at: 7, to: [owner, group_lead]}", "    - {at: 7, to: [owner, board]}"),
        ("{name: No update, if: no_update, then: amber}",
         "{name: No update, if: no_update, then: grey}"),
        ("  rollup: worst", "  rollup: majority"),
        ("    - {name: KPI off target, if: {kpi: red}, to: group_lead}\n",
         "    - {name: Red three quarters running, if: {rag: red, quarters: 3}, to: board}\n"),
    ))
    expected = [
        "  rules calendar: update_due_days 15 -> 20",
        "  rules reminders: the reminder 7 days after the due date to owner, group_lead -> "
        "owner, board",
        "  rules rag: 'No update' then amber -> grey",
        "  rules rollup: worst -> majority",
        "  rules escalate: 'KPI off target' removed",
        "  rules escalate: 'Red three quarters running' added (if the status was red for 3 "
        "quarters running, to board)",
    ]
    runner = kingston_app.test_cli_runner()
    diff = runner.invoke(args=["plan", "diff", str(path)])
    assert diff.exit_code == 0, diff.output
    assert "No changes" not in diff.stdout
    lines = diff.stdout.splitlines()
    start = lines.index("Would change the rules (6):")
    assert lines[start + 1:start + 7] == expected
    assert lines[-1].startswith("0 to add, 0 to change, 0 to retire, 0 to restore, ")
    assert lines[-1].endswith(" unchanged; 6 changes to the rules.")

    code, out, err = load(kingston_app, path)
    assert code == 0, err
    lines = out.splitlines()
    start = lines.index("Changed the rules (6):")
    assert lines[start + 1:start + 7] == expected
    assert "unchanged; 6 changes to the rules." in out
    with Session(get_engine(kingston_app)) as s:
        record = s.scalars(select(PlanLoad).order_by(PlanLoad.id.desc())).first()
        assert record is not None
        assert record.changes["rules"] == [line.strip() for line in expected]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "plan.loaded")
                          .order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.summary.endswith(", 6 changes to the rules")

    # loaded: the rules are the plan's now, and nothing is left to change
    again = runner.invoke(args=["plan", "diff", str(path)])
    assert "No changes: the database already matches the file" in again.stdout
    # and going back lists each the other way round
    back = runner.invoke(args=["plan", "diff", str(tmp_path / "before.yaml")])
    assert "Would change the rules (6):" in back.stdout
    assert "  rules rollup: majority -> worst" in back.stdout
    assert "  rules escalate: 'KPI off target' added (if a linked KPI is red, to group_lead)" \
        in back.stdout


@pytest.mark.parametrize(("old", "new", "says"), [
    ("  rollup: worst", "  rollup: share", "rules rollup: worst -> share"),
    ("  approval: none", "  approval: group_lead", "rules approval: none -> group_lead"),
    ("    window_opens_days: 14", "    window_opens_days: 7",
     "rules calendar: window_opens_days 14 -> 7"),
    ("    - {at: -7, to: owner}\n", "    - {at: -3, to: owner}\n",
     "rules reminders: the reminder 7 days before the due date (to owner) removed"),
    ("    - {name: Flagged as an area of concern, if: concern, to: board}",
     "    - {name: Flagged as an area of concern, if: concern, to: group_lead}",
     "rules escalate: 'Flagged as an area of concern' to board -> group_lead"),
    ("    - {name: Past its due date, if: past_due, then: red}",
     "    - {name: Past its due date, if: {all: [past_due, {self: red}]}, then: red}",
     "rules rag: 'Past its due date' if the action is past its due date -> if the action is "
     "past its due date and the owner rated it red"),
])
def test_plan_diff_never_says_no_changes_when_a_rule_changed(
        kingston_app: Flask, tmp_path: Path, old: str, new: str, says: str) -> None:
    code, _, err = load(kingston_app, write(tmp_path, with_rules(RULES), "before.yaml"))
    assert code == 0, err
    path = write(tmp_path, with_rules(RULES, (old, new)))
    diff = kingston_app.test_cli_runner().invoke(args=["plan", "diff", str(path)])
    assert diff.exit_code == 0, diff.output
    assert "No changes" not in diff.stdout
    assert f"  {says}" in diff.stdout.splitlines()


def test_rule_changes_name_what_moved() -> None:
    from plans.rules import (
        DEFAULT_RULES,
        Concern,
        EscalationRule,
        NoUpdate,
        RagRule,
        Reminder,
    )

    rules = DEFAULT_RULES
    assert rule_changes(rules, rules) == []
    # the RAG rules' order matters (the first that matches wins); the escalations' does not
    swapped = replace(rules, rag=(rules.rag[1], rules.rag[0], *rules.rag[2:]),
                      escalate=tuple(reversed(rules.escalate)))
    assert [c.describe() for c in rule_changes(rules, swapped)] == [
        "rules rag: order (the first that matches wins) 'Complete', 'Past its due date', "
        "'No update', 'As assessed by the lead' -> 'Past its due date', 'Complete', "
        "'No update', 'As assessed by the lead'"]
    # a rule renamed is one removed and one added
    renamed = replace(rules, rag=(*rules.rag[:2], RagRule("Not reported", NoUpdate(), "grey"),
                                  rules.rag[3]))
    assert [c.text for c in rule_changes(rules, renamed)] == [
        "'No update' removed",
        "'Not reported' added (if no update was given for the quarter, then grey)"]
    # the catch-all rule has no condition
    assert [c.text for c in rule_changes(rules, replace(rules, rag=rules.rag[:3]))] == [
        "'As assessed by the lead' removed"]
    # two reminders on one day are told apart by their recipients
    twice = replace(rules, reminders=(Reminder(1, ("owner",)), Reminder(1, ("board",))))
    assert [c.text for c in rule_changes(rules, twice)] == [
        "the reminder 7 days before the due date (to owner) removed",
        "the reminder 7 days after the due date (to owner, group_lead) removed",
        "a reminder 1 day after the due date (to board) added"]
    on_the_day = replace(rules, reminders=(Reminder(0, ("owner",)),))
    assert "a reminder on the due date (to owner) added" in [
        c.text for c in rule_changes(rules, on_the_day)]
    extra = replace(rules, escalate=(*rules.escalate,
                                     EscalationRule("Any concern", Concern(), ("group_lead",))))
    assert [c.describe() for c in rule_changes(rules, extra)] == [
        "rules escalate: 'Any concern' added (if the update flags an area of concern, "
        "to group_lead)"]
    assert [c.describe() for c in rule_changes(rules, replace(rules, change_approval="board"))
            ] == ["rules change_approval: group_lead -> board"]


ROOT_SHAPES = Path(__file__).resolve().parent / "data"


SHAPES = Path(__file__).resolve().parent.parent / "plans" / "data"


@pytest.mark.parametrize("name", ["numbered.yaml", "calendar.yaml", "minimal.yaml",
                                  "roman.yaml"])
def test_other_partnerships_plans_load_and_show(app: Flask, name: str) -> None:
    """Differently shaped plans load into an empty database, reload cleanly and show."""
    from plans import load_plan

    path = SHAPES / name
    plan = load_plan(path)
    code, out, err = load(app, path)
    assert code == 0, err
    assert f"Loaded {path}: {plan.partnership.name}." in out
    again = app.test_cli_runner().invoke(args=["plan", "diff", str(path)])
    assert "No changes" in again.stdout
    client = app.test_client()
    overview = client.get("/").get_data(as_text=True)
    for commitment in plan.commitments():
        assert f'href="/commitments/{commitment.ref}"' in overview
        assert client.get(f"/commitments/{commitment.ref}").status_code == 200
        for part in commitment.parts:
            assert client.get(f"/commitments/{part.ref}").status_code == 200
    for action in plan.actions().values():
        assert client.get(f"/actions/{action.id}").status_code == 200
    assert client.get("/themes").status_code == 200
    assert client.get("/who").status_code == 200
