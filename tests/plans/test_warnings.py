"""Legal but suspicious: the plan loads, and the warning is kept on it and printed."""

from __future__ import annotations

import pytest
from plantest import BASE, NAME, accepted, delete, insert_after, line_of, replace

import plans

F = NAME


def warnings_of(text: str) -> list[str]:
    plan = accepted(text)
    _, problems = plans.check_plan(text, NAME)
    # the warnings on the plan are the problems check_plan returns, printed, in line order
    assert list(plan.warnings) == [str(p) for p in problems]
    assert all(not p.is_error for p in problems)
    return list(plan.warnings)


def test_the_base_plan_has_no_warnings() -> None:
    assert accepted(BASE).warnings == ()


def test_a_skipped_commitment_letter() -> None:
    # a, b, d: rename b to d (and its action's ref), then add a plain b before it
    text, _ = replace("      - id: b", "      - id: d")
    text, _ = replace("      commitment: 1.b.i", "      commitment: 1.d.i", text)
    text, b = insert_after("        prevention: primary", "      - {id: b, text: Second.}", text)
    plan_warnings = warnings_of(text)
    assert f"{F}:{b + 1}: warning: priority 1: commitment ids go from b to d; is c missing or " \
           "out of order?" in plan_warnings
    plan = accepted(text)
    assert [c.ref for c in plan.commitments()] == ["1.a", "1.b", "1.d"]


def test_numbered_commitments_out_of_order() -> None:
    text = (replace("      - id: a", "      - id: 1")[0]
            .replace("      - id: b\n", "      - id: 3\n")
            .replace("commitment: 1.a", "commitment: 1.1")
            .replace("commitment: 1.b.i", "commitment: 1.3.i")
            .replace("commitments: [1.a]", "commitments: [1.1]"))
    assert warnings_of(text) == [
        f"{F}:{line_of(BASE, '      - id: b')}: warning: priority 1: commitment ids go from 1 "
        "to 3; is 2 missing or out of order?"]


def test_a_theme_no_one_uses() -> None:
    text, n = insert_after("    name: Online harm", "  - id: unused\n    name: Nobody uses this")
    assert warnings_of(text) == [
        f"{F}:{n}: warning: theme unused: no commitment, action or KPI uses this theme"]


def test_a_commitment_with_no_action() -> None:
    text, n = insert_after("          - {id: ii, text: Disrupting it, themes: [online]}",
                           "      - {id: c, text: Nobody delivers this.}")
    assert warnings_of(text) == [
        f"{F}:{n}: warning: commitment 1.c: no action in the delivery plans delivers it"]


def test_a_rag_rule_after_the_catch_all() -> None:
    text, n = insert_after("    - {name: As assessed, then: self}",
                           "    - {name: Too late, if: no_update, then: amber}")
    assert warnings_of(text) == [
        f"{F}:{n}: warning: rules rag rule 'Too late': can never apply, because rule "
        "'As assessed' above it has no 'if' and always applies"]
    # the rule is kept, in its place, so the app can show the plan as written
    assert [r.name for r in accepted(text).rules.rag][-2:] == ["As assessed", "Too late"]


def test_no_catch_all_rag_rule() -> None:
    text, _ = delete("    - {name: As assessed, then: self}")
    assert warnings_of(text) == [
        f"{F}:{line_of(BASE, '  rag:') + 1}: warning: rules rag: no rule without 'if' at the "
        "end, so an action that no rule matches is shown grey (no status)"]


def test_a_kpi_with_no_target() -> None:
    text, _ = delete("      2025/26: 360")
    text, _ = delete("      2024/25: 380", text)
    text, _ = delete("    targets:", text)
    plan_warnings = warnings_of(text)
    assert plan_warnings == [
        f"{F}:{line_of(BASE, '  - id: asb')}: warning: KPI asb: has no target, so its status "
        "will always be grey (no target)"]
    kpi = accepted(text).kpis[0]
    assert dict(kpi.targets) == {} and kpi.target is None
    assert kpi.target_for("2024/25") is None


LEE = "  - {email: lead@example.org, name: Lee Lead, role: lead, groups: [board, streets]}"


def test_a_thematic_group_with_no_lead() -> None:
    text, _ = delete("    lead: lead@example.org")
    assert warnings_of(text) == [
        f"{F}:{line_of(BASE, '  - id: streets')}: warning: group streets: has no lead, so "
        "reminders and escalations meant for the group lead will go to nobody",
        # and the person whose role is lead now leads nothing (one line up: a line was deleted)
        f"{F}:{line_of(BASE, LEE) - 1}: warning: person lead@example.org: has role lead but "
        "leads no group",
    ]


def test_a_forum_needs_no_lead() -> None:
    plan = accepted(BASE)
    forum = {g.id: g for g in plan.groups}["forum"]
    assert forum.kind == "forum" and forum.lead is None
    assert plan.warnings == ()


def test_an_action_due_after_the_plan_ends() -> None:
    lines = BASE.splitlines()
    n = lines.index("      due: 2025-03-31", lines.index("    - id: TST-001")) + 1
    lines[n - 1] = "      due: 2027-06-30"
    assert warnings_of("\n".join(lines) + "\n") == [
        f"{F}:{line_of(BASE, '    - id: TST-001')}: warning: delivery 2024/25 action TST-001: "
        "due 2027-06-30, after the plan ends (2027-03-31)"]


def test_a_milestone_after_its_action() -> None:
    text, n = replace("        - {title: Patrol plan agreed, due: 2024-06-30}",
                      "        - {title: Patrol plan agreed, due: 2025-06-30}")
    assert warnings_of(text) == [
        f"{F}:{n}: warning: delivery 2024/25 action TST-001: milestone 'Patrol plan agreed' is "
        "due 2025-06-30, after the action itself (2025-03-31)"]


def test_a_target_outside_the_plan() -> None:
    text, n = replace("      2025/26: 360", "      2027/28: 360")
    assert warnings_of(text) == [
        f"{F}:{n}: warning: KPI asb targets: 2027/28 is outside the plan period"]


def test_a_theme_listed_twice() -> None:
    text, n = replace("        themes: [vulnerability]", "        themes: [vulnerability, "
                      "vulnerability]")
    assert warnings_of(text) == [
        f"{F}:{n}: warning: commitment 1.a themes: 'vulnerability' is listed twice"]
    assert accepted(text).priorities[0].commitments[0].themes == ("vulnerability",)


def test_a_refused_file_reports_its_warnings_too() -> None:
    text, twice = replace("        themes: [vulnerability]",
                          "        themes: [vulnerability, vulnerability]")
    text, bad = replace("    better: lower", "    better: up", text)
    plan, problems = plans.check_plan(text, NAME)
    assert plan is None
    warning = f"{F}:{twice}: warning: commitment 1.a themes: 'vulnerability' is listed twice"
    error = f"{F}:{bad}: KPI asb better: 'up' is not one of: higher, lower"
    assert [str(p) for p in problems] == [warning, error]
    # PlanError keeps the two apart, and prints only the errors
    with pytest.raises(plans.PlanError) as raised:
        plans.parse_plan(text, NAME)
    assert [str(p) for p in raised.value.errors] == [error]
    assert [str(p) for p in raised.value.warnings] == [warning]
    assert str(raised.value) == error


def test_wrong_target_years_do_not_also_say_no_target() -> None:
    text, n = replace("      2024/25: 380", "      2024: 380")
    text, _ = replace("      2025/26: 360", "      2025: 360", text)
    plan, problems = plans.check_plan(text, NAME)
    assert plan is None
    assert [str(p) for p in problems] == [
        f"{F}:{n}: KPI asb targets: '2024' is not a year: write it as 2025/26",
        f"{F}:{n + 1}: KPI asb targets: '2025' is not a year: write it as 2025/26",
    ]
