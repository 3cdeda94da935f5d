"""Loading plans into the database: by stable refs, retiring never deleting, all or nothing."""

from __future__ import annotations

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
    Commitment,
    KPIValue,
    Milestone,
    PlanLoad,
    Priority,
    Theme,
    User,
)

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
