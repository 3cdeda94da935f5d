"""The real plan: plans.yaml, the Safer Kingston Partnership Plan 2024-2029, loads whole."""

from __future__ import annotations

from datetime import date

import pytest
from plantest import KINGSTON

import plans
from plans import Plan
from plans.rules import DEFAULT_RULES


@pytest.fixture(scope="module")
def kingston() -> Plan:
    return plans.load_plan(KINGSTON, "plans.yaml")


def test_loads_with_no_errors() -> None:
    plan, problems = plans.check_plan(KINGSTON.read_bytes(), "plans.yaml")
    assert [str(p) for p in problems if p.is_error] == []
    assert plan is not None
    assert plan.source == "plans.yaml"


def test_partnership_and_plan_period(kingston: Plan) -> None:
    partnership = kingston.partnership
    assert partnership.id == "skp"
    assert partnership.name == "Safer Kingston Partnership"
    assert partnership.plan.title == "Safer Kingston Partnership Plan 2024-2029"
    assert partnership.plan.starts == date(2024, 4, 1)
    assert partnership.plan.ends == date(2029, 3, 31)
    assert partnership.year_starts == (4, 1)
    assert [y.label for y in partnership.years] == [
        "2024/25", "2025/26", "2026/27", "2027/28", "2028/29"]


def test_priorities_commitments_and_parts(kingston: Plan) -> None:
    assert [p.id for p in kingston.priorities] == ["1", "2", "3", "4"]
    commitments = list(kingston.commitments())
    assert len(commitments) == 45
    assert len({c.ref for c in commitments}) == 45
    assert [p.ref for p in kingston.parts()] == ["2.c.i", "2.c.ii", "2.c.iii"]
    first = commitments[0]
    assert first.ref == "1.a"
    assert first.text.startswith("Raise awareness about the different types of crime")
    assert first.themes == ("vulnerability", "cyber")
    assert first.prevention == "primary"


def test_themes_aims_principles_prevention(kingston: Plan) -> None:
    assert [t.id for t in kingston.themes] == [
        "vulnerability", "reoffending", "substance-misuse", "mental-health", "housing", "cyber"]
    assert len(kingston.aims) == 13
    assert len(kingston.principles) == 5
    assert [p.id for p in kingston.principles][0] == "collaboration"
    assert [p.id for p in kingston.prevention_levels] == ["primary", "secondary", "tertiary"]


def test_duties_with_the_strategic_assessment_dated(kingston: Plan) -> None:
    assert len(kingston.duties) == 7
    duties = {d.id: d for d in kingston.duties}
    assessment = duties["strategic-assessment"]
    assert assessment.every == "year"
    assert assessment.due == (1, 31)
    assert duties["strategic-group"].due is None


def test_every_commitment_has_an_action(kingston: Plan) -> None:
    targeted = {a.commitment for actions in kingston.delivery.values() for a in actions}
    missing = [c.ref for c in kingston.commitments()
               if c.ref not in targeted and not any(p.ref in targeted for p in c.parts)]
    assert missing == []
    # and every action targets a commitment or part that exists
    refs = {c.ref for c in kingston.commitments()} | {p.ref for p in kingston.parts()}
    assert targeted <= refs


def test_actions_default_to_their_priority_group(kingston: Plan) -> None:
    groups = {g.id for g in kingston.groups}
    for actions in kingston.delivery.values():
        for action in actions:
            assert action.group in groups, action
    assert sorted(kingston.delivery) == ["2024/25", "2025/26", "2026/27"]
    assert kingston.action_years()["SKP-014"] == ("2024/25", "2025/26", "2026/27")


def test_kpis(kingston: Plan) -> None:
    assert len(kingston.kpis) >= 12
    kpis = {k.id: k for k in kingston.kpis}
    assert kpis["da-reports"].better == "higher"
    assert kpis["hate-crime-reports"].better == "higher"
    assert kpis["neighbourhood-crime"].better == "lower"
    assert kpis["da-reports"].target_for("2024/25") == 630
    assert kpis["da-reports"].baseline is not None
    assert kpis["da-reports"].baseline.period == "2023/24"


def test_exactly_one_board(kingston: Plan) -> None:
    boards = [g for g in kingston.groups if g.kind == "board"]
    assert [g.id for g in boards] == ["skp-board"]
    assert boards[0].reports_to is None


def test_rules_are_the_defaults_plus_a_kpi_rule_and_approval_by_the_group_lead(kingston: Plan
                                                                               ) -> None:
    """Every rule is written out; the partnership adds one RAG rule that uses KPIs, and has
    the lead of an action's group approve its owner's update (``approval: group_lead``)."""
    import dataclasses

    from plans.rules import AllOf, KpiIs, RagRule, SelfIs

    kpi_rule = RagRule("Rated Green but a linked KPI is Red",
                       AllOf((SelfIs("green"), KpiIs("red"))), "amber")
    defaults = DEFAULT_RULES.rag
    assert DEFAULT_RULES.approval == "none"
    assert kingston.rules == dataclasses.replace(
        DEFAULT_RULES, rag=(*defaults[:3], kpi_rule, defaults[3]), approval="group_lead")


def test_summary(kingston: Plan) -> None:
    summary = kingston.summary()
    assert summary["partnership"] == "Safer Kingston Partnership"
    assert summary["priorities"] == 4
    assert summary["commitments"] == 45
    assert summary["parts"] == 3
    assert summary["themes"] == 6
    assert summary["groups"] == len(kingston.groups)
    assert summary["kpis"] == len(kingston.kpis)
    actions = summary["actions"]
    assert isinstance(actions, dict)
    assert set(actions) == {"2024/25", "2025/26", "2026/27"}
    assert all(count > 0 for count in actions.values())


def test_the_contracts_own_example_error() -> None:
    """Point SKP-014 at commitment 5.a: the message has the shape the contract promises."""
    lines = KINGSTON.read_text(encoding="utf-8").splitlines()
    start = lines.index("    - id: SKP-014")
    assert lines[start + 1].startswith("      commitment: ")
    lines[start + 1] = "      commitment: 5.a"
    plan, problems = plans.check_plan("\n".join(lines) + "\n", "plans.yaml")
    assert plan is None
    errors = [str(p) for p in problems if p.is_error]
    assert len(errors) == 1
    assert errors[0].startswith(
        f"plans.yaml:{start + 2}: delivery 2024/25 action SKP-014: commitment 5.a does not exist")
