"""The synthetic plan of bench/scale.py: valid, deterministic, loadable and filled with history."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.scale import TODAY, load, plan_period, plan_text, populate
from plans import Plan, check_plan
from tracker.db import get_engine
from tracker.models import (
    KPI,
    Action,
    ActionStatus,
    ActionUpdate,
    KPIValue,
    Milestone,
    RollupStatus,
    User,
)
from tracker.services.calendar import plan_quarters
from tracker.services.statuses import action_start

PARTIAL_YEAR = "which is not the first day of a financial year"


def _checked(text: str) -> Plan:
    plan, problems = check_plan(text, "scale.yaml")
    assert plan is not None, "\n".join(str(p) for p in problems)
    return plan


def test_the_plan_is_valid_and_the_same_for_the_same_seed(tmp_path: Path, app: Flask) -> None:
    text = plan_text(40, 6)
    assert plan_text(40, 6) == text
    assert plan_text(40, 6, seed=2) != text
    plan = _checked(text)
    # the only warning: 20 quarters up to 2026/27 Q2 start in October, mid financial year
    assert [w for w in plan.warnings if PARTIAL_YEAR not in w] == []
    assert len(plan.actions()) == 40 and len(plan.kpis) == 6
    assert 4 <= len(plan.priorities) <= 8 and len(plan.themes) == 6
    assert any(c.parts for c in plan.commitments())
    people = {p.email for p in plan.people}
    assert {a.owner for a in plan.actions().values()} <= people
    assert {p.role for p in plan.people} == {"admin", "board", "lead", "member"}
    # every plan year has a delivery plan, and some actions continue from one to the next
    assert set(plan.delivery) == {y.label for y in plan.partnership.years}
    assert any(len(years) > 1 for years in plan.action_years().values())

    path = tmp_path / "scale.yaml"
    path.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["plan", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "the plan is valid" in result.output


def test_the_open_quarter_is_the_last_of_the_quarters_asked_for() -> None:
    plan = _checked(plan_text(40, 6))
    quarters = plan_quarters(plan, TODAY)
    assert len(quarters) == 20
    assert quarters[-1].label == "2026/27 Q2"
    assert plan.partnership.plan.starts.isoformat() == "2021-10-01"
    assert plan.partnership.plan.ends.isoformat() == "2027-03-31"
    starts, ends = plan_period(8)
    assert len(plan_quarters(_checked(plan_text(20, 2, quarters=8)), TODAY)) == 8
    assert (starts.isoformat(), ends.isoformat()) == ("2024-10-01", "2030-03-31")


def test_most_kpis_are_quarterly_and_a_few_annual() -> None:
    plan = _checked(plan_text(40, 14))
    assert [k.frequency for k in plan.kpis].count("annual") == 2
    assert all(k.commitments and k.targets and k.baseline for k in plan.kpis)


def test_populate_writes_the_history_and_computes_statuses(app: Flask) -> None:
    loaded = load(app, plan_text(40, 6))
    assert loaded["plan_items_added"] > 40
    with Session(get_engine(app)) as s:
        assert s.scalar(select(func.count()).select_from(ActionStatus)) == 0  # not yet
    figures = populate(app)
    assert figures["open_quarter"] == "2026/27 Q2" and figures["quarters"] == 20

    with app.app_context(), Session(get_engine(app)) as s:
        from tracker.services.plan_load import current_plan

        plan = current_plan(s)
        assert plan is not None
        quarters = plan_quarters(plan, TODAY)
        calendar = plan.partnership.calendar
        labels = [q.label for q in quarters]
        updates = list(s.scalars(select(ActionUpdate)))
        assert len(updates) == figures["update_rows"] == figures["rows_action_updates"]
        assert all(u.review == "not_needed" for u in updates)  # they all count
        by_action: dict[int, set[str]] = defaultdict(set)
        for u in updates:
            by_action[u.action_id].add(u.quarter)
            assert u.created_at.date() <= TODAY
            if u.rag in ("amber", "red"):
                assert u.corrective_action
            if u.is_concern:
                assert u.concern_reason
        for action in s.scalars(select(Action)):
            first = max(quarters[0], calendar.quarter_of(action_start(plan, action)))
            expected = {q.label for q in quarters if q >= first}
            # an update in started quarters only; a few missing; none after completion
            assert by_action[action.id] <= expected
        assert labels[-1] in {u.quarter for u in updates}
        assert {u.rag for u in updates} >= {"green", "amber", "red", "blue"}
        assert any(u.is_concern for u in updates)
        assert any(u.version == 2 for u in updates)
        assert figures["open_quarter_missing"] > 0 and figures["updates_missing"] > 0

        # statuses: every action in every quarter, and the roll-ups of the open quarter
        assert s.scalar(select(func.count()).select_from(ActionStatus)) == 40 * 20
        open_statuses = list(s.scalars(select(ActionStatus)
                                       .where(ActionStatus.quarter == labels[-1])))
        assert len(open_statuses) == 40
        assert {st.colour for st in open_statuses} & {"red", "amber", "green", "blue"}
        assert s.scalar(select(func.count()).select_from(RollupStatus)
                        .where(RollupStatus.quarter == labels[-1],
                               RollupStatus.item_type == "priority")) == 4

        # a value for every KPI in every finished period
        finished = [q for q in quarters if q.end < TODAY]
        years = [y for y in plan.partnership.years if y.end < TODAY]
        expected_values = sum(len(years) if k.frequency == "annual" else len(finished)
                              for k in s.scalars(select(KPI)))
        assert s.scalar(select(func.count()).select_from(KPIValue)) == expected_values
        ticked = s.scalar(select(func.count()).select_from(Milestone)
                          .where(Milestone.completed_at.is_not(None))) or 0
        assert figures["milestones_completed"] == ticked > 0
        # owners are accounts the loader made from the plan's people
        owners = set(s.scalars(select(Action.owner_id)))
        assert s.scalar(select(func.count()).select_from(User)
                        .where(User.id.in_(owners), User.is_from_plan)) == len(owners)


def test_ten_times_bigger_loads_too(app: Flask) -> None:
    load(app, plan_text(400, 60))
    figures = populate(app)
    assert figures["rows_actions"] == 400
    assert figures["rows_action_statuses"] == 400 * 20
    assert figures["rows_action_updates"] > 400 * 4
    assert figures["rows_kpi_values"] > 60 * 15
