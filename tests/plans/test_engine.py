"""The rules engine: statuses, the rule behind each, escalations, and the words a reader sees."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from datetime import date

import pytest
from plantest import ROOT

from plans.engine import (
    ActionFacts,
    Status,
    UpdateFacts,
    escalations,
    evaluate,
    expected_percent,
)
from plans.periods import Calendar, Quarter
from plans.rules import (
    COLOURS,
    DEFAULT_RULES,
    AllOf,
    AnyOf,
    BehindSchedule,
    Colour,
    Complete,
    Concern,
    Condition,
    EscalationRule,
    KpiIs,
    NoUpdate,
    NoUpdateFor,
    PastDue,
    RagFor,
    RagRule,
    Rules,
    SelfIs,
    as_colour,
)

APRIL = Calendar(4, 1)
JANUARY = Calendar(1, 1)


def q(text: str, calendar: Calendar = APRIL) -> Quarter:
    return calendar.parse_quarter(text)


def span(first: str, last: str, calendar: Calendar = APRIL) -> list[Quarter]:
    """The quarters from ``first`` to ``last``, both included."""
    quarter, end, result = q(first, calendar), q(last, calendar), []
    while quarter <= end:
        result.append(quarter)
        quarter = quarter.next()
    return result


Q1, Q2, Q3, Q4 = (q(f"2024/25 Q{n}") for n in range(1, 5))
N1, N2 = q("2025/26 Q1"), q("2025/26 Q2")


def up(rag: Colour = "green", percent: int = 50, concern: bool = False) -> UpdateFacts:
    return UpdateFacts(rag, percent, concern)


def action(updates: Mapping[Quarter, UpdateFacts] | None = None, *,
           starts: date = date(2024, 4, 1), due: date = date(2025, 3, 31),
           kpis: Mapping[Quarter, Mapping[str, Colour]] | None = None) -> ActionFacts:
    return ActionFacts("SKP-001", starts, due, updates or {}, kpis or {})


def rag_rules(*rules: RagRule) -> Rules:
    return Rules(rag=rules, escalate=())


def status_at(rules: Rules, facts: ActionFacts, quarter: Quarter) -> Status:
    """The status in ``quarter``, evaluated from the action's first quarter as the app does."""
    return evaluate(rules, facts, span("2024/25 Q1", quarter.label))[-1]


# -- every condition, inside a RAG rule ---------------------------------------------------------
# The rule under test makes amber; every other quarter takes the owner's own rating, so the
# statuses of earlier quarters are exactly what the owner said.

def fires_in_rag_rule(condition: Condition, facts: ActionFacts, quarter: Quarter) -> str | None:
    rules = rag_rules(RagRule("Test", condition, "amber"),
                      RagRule("As assessed by the lead", None, "self"))
    status = status_at(rules, facts, quarter)
    if status.rule != "Test":
        return None
    assert status.colour == "amber"
    return status.reason


RAG_CASES: list[tuple[str, Condition, ActionFacts, Quarter, str | None]] = [
    # complete
    ("complete: rated blue", Complete(), action({Q1: up("blue", 90)}), Q1,
     "reported complete in 2024/25 Q1"),
    ("complete: 100% though rated green", Complete(), action({Q1: up("green", 100)}), Q1,
     "reported complete in 2024/25 Q1"),
    ("complete: 99% is not", Complete(), action({Q1: up("green", 99)}), Q1, None),
    ("complete: no update is not", Complete(), action(), Q1, None),
    ("complete: reopened by a later update", Complete(),
     action({Q1: up("blue", 100), Q2: up("amber", 90)}), Q2, None),
    # past_due (due 31 March 2025: the last day of 2024/25 Q4)
    ("past_due: the quarter ends on the due date", PastDue(), action({Q4: up()}), Q4, None),
    ("past_due: the quarter after the due date", PastDue(), action({N1: up()}), N1,
     "due 31 March 2025"),
    ("past_due: due in the middle of the quarter", PastDue(),
     action({Q4: up()}, due=date(2025, 2, 5)), Q4, "due 5 February 2025"),
    ("past_due: not when complete", PastDue(), action({N1: up("blue", 100)}), N1, None),
    ("past_due: not before the due date", PastDue(), action({Q2: up()}), Q2, None),
    # no_update
    ("no_update: nothing reported", NoUpdate(), action({Q1: up()}), Q2,
     "nothing was reported for 2024/25 Q2"),
    ("no_update: reported", NoUpdate(), action({Q2: up()}), Q2, None),
    # concern
    ("concern: flagged", Concern(), action({Q1: up(concern=True)}), Q1,
     "the update for 2024/25 Q1 flags an area of concern"),
    ("concern: not flagged", Concern(), action({Q1: up()}), Q1, None),
    ("concern: last quarter's flag does not count", Concern(),
     action({Q1: up(concern=True), Q2: up()}), Q2, None),
    ("concern: no update", Concern(), action(), Q1, None),
    # {rag: red, quarters: N} inside a RAG rule: only the quarters BEFORE this one count
    ("rag red 1: last quarter was red", RagFor("red", 1),
     action({Q1: up("red"), Q2: up("green")}), Q2, "Red in 2024/25 Q1"),
    ("rag red 1: this quarter's red does not count", RagFor("red", 1),
     action({Q1: up("red")}), Q1, None),
    ("rag red 2: quarters 1 and 2 red, decided in 3", RagFor("red", 2),
     action({Q1: up("red"), Q2: up("red"), Q3: up("green")}), Q3,
     "Red in 2024/25 Q1 and 2024/25 Q2"),
    ("rag red 2: quarters 1 and 2 red, decided in 2", RagFor("red", 2),
     action({Q1: up("red"), Q2: up("red")}), Q2, None),
    ("rag red 2: broken by an amber", RagFor("red", 2),
     action({Q1: up("red"), Q2: up("amber"), Q3: up("red")}), Q3, None),
    ("rag red 3: three quarters listed", RagFor("red", 3),
     action({Q1: up("red"), Q2: up("red"), Q3: up("red"), Q4: up()}), Q4,
     "Red in 2024/25 Q1, 2024/25 Q2 and 2024/25 Q3"),
    ("rag grey 1: the quarter before the start is grey", RagFor("grey", 1),
     action({Q1: up()}), Q1, "Grey in 2023/24 Q4"),
    # {self: COLOUR}
    ("self green: rated green", SelfIs("green"), action({Q1: up("green", 60)}), Q1,
     "rated Green by the owner, 60% complete"),
    ("self green: rated amber", SelfIs("green"), action({Q1: up("amber", 60)}), Q1, None),
    ("self green: no update", SelfIs("green"), action(), Q1, None),
    ("self blue: 100% counts as blue", SelfIs("blue"), action({Q1: up("green", 100)}), Q1,
     "rated Green by the owner, 100% complete"),
    # {no_update: N}: only quarters since the start count
    ("no_update 2: two quarters without", NoUpdateFor(2), action(), Q2,
     "nothing was reported for 2024/25 Q1 and 2024/25 Q2"),
    ("no_update 2: an update last quarter", NoUpdateFor(2), action({Q1: up()}), Q2, None),
    ("no_update 2: an update this quarter", NoUpdateFor(2), action({Q2: up()}), Q2, None),
    ("no_update 2: only one quarter since the start", NoUpdateFor(2),
     action(starts=date(2024, 7, 1)), Q2, None),
    ("no_update 2: two quarters since a later start", NoUpdateFor(2),
     action(starts=date(2024, 7, 1)), Q3,
     "nothing was reported for 2024/25 Q2 and 2024/25 Q3"),
    ("no_update 2: starting on a quarter's last day counts it", NoUpdateFor(2),
     action(starts=date(2024, 6, 30)), Q2,
     "nothing was reported for 2024/25 Q1 and 2024/25 Q2"),
    ("no_update 1: this quarter", NoUpdateFor(1), action(), Q1,
     "nothing was reported for 2024/25 Q1"),
    # {kpi: COLOUR}, per quarter
    ("kpi red: one KPI red", KpiIs("red"), action({Q1: up()}, kpis={Q1: {"asb-reports": "red"}}),
     Q1, "KPI asb-reports is Red in 2024/25 Q1"),
    ("kpi red: two KPIs red", KpiIs("red"),
     action({Q1: up()}, kpis={Q1: {"da-reports": "red", "asb-reports": "red", "x": "green"}}),
     Q1, "KPIs asb-reports and da-reports are Red in 2024/25 Q1"),
    ("kpi red: KPI amber", KpiIs("red"), action({Q1: up()}, kpis={Q1: {"asb-reports": "amber"}}),
     Q1, None),
    ("kpi red: red last quarter only", KpiIs("red"),
     action({Q2: up()}, kpis={Q1: {"asb-reports": "red"}, Q2: {"asb-reports": "green"}}),
     Q2, None),
    ("kpi red: no KPI status this quarter", KpiIs("red"),
     action({Q2: up()}, kpis={Q1: {"asb-reports": "red"}}), Q2, None),
    # {behind_schedule: 80}: 50% is expected by the end of 2024/25 Q2, so the line is 40%
    ("behind 80: 39% of 50% expected", BehindSchedule(80), action({Q2: up("green", 39)}), Q2,
     "39% complete, below 80% of the 50% expected by 30 September 2024"),
    ("behind 80: exactly at the threshold", BehindSchedule(80), action({Q2: up("green", 40)}),
     Q2, None),
    ("behind 80: above the threshold", BehindSchedule(80), action({Q2: up("green", 41)}), Q2,
     None),
    ("behind 80: no update", BehindSchedule(80), action(), Q2, None),
    ("behind 100: nothing expected yet", BehindSchedule(100),
     action({Q1: up("green", 0)}, starts=date(2024, 6, 30)), Q1, None),
    # all / any, nested
    ("all(past_due, any(concern, self red)): both", AllOf((PastDue(), AnyOf((Concern(),
                                                                             SelfIs("red"))))),
     action({N1: up("red", 80)}), N1, "due 31 March 2025; rated Red by the owner, 80% complete"),
    ("all(past_due, any(concern, self red)): any fails", AllOf((PastDue(), AnyOf((
        Concern(), SelfIs("red"))))), action({N1: up("green", 80)}), N1, None),
    ("all(past_due, any(concern, self red)): not past due", AllOf((PastDue(), AnyOf((
        Concern(), SelfIs("red"))))), action({Q4: up("red", 80)}), Q4, None),
    ("any(no_update, all(concern, self amber)): the second", AnyOf((NoUpdate(), AllOf((
        Concern(), SelfIs("amber"))))), action({Q1: up("amber", 50, concern=True)}), Q1,
     "the update for 2024/25 Q1 flags an area of concern; rated Amber by the owner, "
     "50% complete"),
    ("any(no_update, all(concern, self amber)): the first", AnyOf((NoUpdate(), AllOf((
        Concern(), SelfIs("amber"))))), action(), Q1, "nothing was reported for 2024/25 Q1"),
    ("any(no_update, all(concern, self amber)): neither", AnyOf((NoUpdate(), AllOf((
        Concern(), SelfIs("amber"))))), action({Q1: up("amber", 50)}), Q1, None),
]


@pytest.mark.parametrize(("condition", "facts", "quarter", "detail"),
                         [case[1:] for case in RAG_CASES], ids=[case[0] for case in RAG_CASES])
def test_condition_in_a_rag_rule(condition: Condition, facts: ActionFacts, quarter: Quarter,
                                 detail: str | None) -> None:
    reason = fires_in_rag_rule(condition, facts, quarter)
    assert reason == (None if detail is None else f"Test: {detail}")


# -- conditions inside an escalation rule -------------------------------------------------------

def fires_in_escalation(condition: Condition, facts: ActionFacts, quarter: Quarter,
                        rag: tuple[RagRule, ...] = DEFAULT_RULES.rag) -> str | None:
    rules = Rules(rag=rag, escalate=(EscalationRule("Test", condition, ("board",)),))
    statuses = evaluate(rules, facts, span("2024/25 Q1", quarter.label))
    found = escalations(rules, facts, statuses)
    assert len(found) <= 1
    return found[0][1] if found else None


ESCALATION_CASES: list[tuple[str, Condition, ActionFacts, Quarter, str | None]] = [
    ("rag red 2: quarters 1 and 2 red, decided in 2", RagFor("red", 2),
     action({Q1: up("red"), Q2: up("red")}), Q2, "Red in 2024/25 Q1 and 2024/25 Q2"),
    ("rag red 2: red then green", RagFor("red", 2), action({Q1: up("red"), Q2: up("green")}),
     Q2, None),
    ("rag red 2: green then red", RagFor("red", 2), action({Q1: up("green"), Q2: up("red")}),
     Q2, None),
    ("rag red 2: the derived status, not the owner's rating", RagFor("red", 2),
     action({Q1: up("green"), Q2: up("green")}, starts=date(2023, 4, 1),
            due=date(2024, 3, 31)), Q2, "Red in 2024/25 Q1 and 2024/25 Q2"),
    ("rag red 1: this quarter counts", RagFor("red", 1), action({Q1: up("red")}), Q1,
     "Red in 2024/25 Q1"),
    ("no_update 2: counting only since the start", NoUpdateFor(2),
     action(starts=date(2024, 7, 1)), Q2, None),
    ("kpi red: this quarter", KpiIs("red"), action({Q1: up()}, kpis={Q1: {"asb-reports": "red"}}),
     Q1, "KPI asb-reports is Red in 2024/25 Q1"),
    ("complete: in the quarter it is reported", Complete(), action({Q1: up("blue", 100)}), Q1,
     "reported complete in 2024/25 Q1"),
]


@pytest.mark.parametrize(("condition", "facts", "quarter", "detail"),
                         [case[1:] for case in ESCALATION_CASES],
                         ids=[case[0] for case in ESCALATION_CASES])
def test_condition_in_an_escalation_rule(condition: Condition, facts: ActionFacts,
                                         quarter: Quarter, detail: str | None) -> None:
    reason = fires_in_escalation(condition, facts, quarter)
    assert reason == (None if detail is None else f"Test: {detail}")


def test_rag_for_two_quarters_differs_between_rag_and_escalation_rules() -> None:
    facts = action({Q1: up("red"), Q2: up("red")})
    assert fires_in_rag_rule(RagFor("red", 2), facts, Q2) is None
    assert fires_in_escalation(RagFor("red", 2), facts, Q2) == "Test: Red in 2024/25 Q1 and " \
        "2024/25 Q2"
    assert fires_in_rag_rule(RagFor("red", 2), action({Q1: up("red"), Q2: up("red"),
                                                       Q3: up()}), Q3) is not None


def test_rag_for_reads_the_rule_made_colours_of_earlier_quarters() -> None:
    # the rule fires in Q3 (amber), which makes Q3 amber for Q4's look-back
    rules = rag_rules(RagRule("Red twice", RagFor("red", 2), "amber"),
                      RagRule("Own", None, "self"))
    facts = action({Q1: up("red"), Q2: up("red"), Q3: up("red"), Q4: up("red")})
    got = [(s.colour, s.rule) for s in evaluate(rules, facts, [Q1, Q2, Q3, Q4])]
    assert got == [("red", "Own"), ("red", "Own"), ("amber", "Red twice"), ("red", "Own")]


# -- the engine's own statuses: not started, carried completion, no rule, then: self ---------

def test_a_quarter_ending_before_the_start_is_not_started_whatever_the_facts() -> None:
    facts = action({Q1: up("red", 10, concern=True)}, starts=date(2024, 7, 1),
                   kpis={Q1: {"asb-reports": "red"}})
    status = evaluate(DEFAULT_RULES, facts, [Q1])[0]
    assert (status.colour, status.rule, status.has_update) == ("grey", "Not started", True)
    assert status.label == "Not started: Starts 1 July 2024"
    assert escalations(DEFAULT_RULES, facts, [status]) == []


def test_completion_in_q1_carries_to_later_quarters_without_an_update() -> None:
    facts = action({Q1: up("blue", 100)})
    statuses = evaluate(DEFAULT_RULES, facts, [Q1, Q2, Q3])
    assert [(s.colour, s.rule, s.has_update) for s in statuses] == [
        ("blue", "Complete", True), ("blue", "Complete", False), ("blue", "Complete", False)]
    assert statuses[2].label == "Complete: Reported complete in 2024/25 Q1"
    # nothing is escalated for a finished action, not even two quarters without an update
    assert escalations(DEFAULT_RULES, facts, statuses) == []


def test_completion_carries_even_when_the_rules_have_no_complete_rule() -> None:
    rules = rag_rules(RagRule("No update", NoUpdate(), "red"), RagRule("Own", None, "self"))
    statuses = evaluate(rules, action({Q1: up("green", 100)}), [Q1, Q2])
    assert [(s.colour, s.rule) for s in statuses] == [("blue", "Own"), ("blue", "Complete")]


def test_a_later_update_reopens_a_completed_action() -> None:
    facts = action({Q1: up("blue", 100), Q3: up("amber", 80)})
    statuses = evaluate(DEFAULT_RULES, facts, [Q1, Q2, Q3, Q4])
    assert [s.label for s in statuses] == [
        "Complete: Reported complete in 2024/25 Q1",
        "Complete: Reported complete in 2024/25 Q1",
        "Amber: As assessed by the lead, rated Amber by the owner, 80% complete",
        "No update: Nothing was reported for 2024/25 Q4",
    ]


@pytest.mark.parametrize(("update", "colour", "label"), [
    (up("green", 60), "green", "Green: As assessed by the lead, rated Green by the owner, "
     "60% complete"),
    (up("red", 10), "red", "Red: As assessed by the lead, rated Red by the owner, 10% complete"),
    (up("green", 100), "blue", "Complete: As assessed by the lead, rated Green by the owner, "
     "100% complete"),
    (None, "grey", "No update: Nothing was reported for 2024/25 Q1"),
])
def test_then_self_with_and_without_an_update(update: UpdateFacts | None, colour: Colour,
                                              label: str) -> None:
    rules = rag_rules(RagRule("As assessed by the lead", None, "self"))
    status = evaluate(rules, action({Q1: update} if update else {}), [Q1])[0]
    assert status.colour == colour
    assert status.label == label
    assert status.rule == ("As assessed by the lead" if update else "No update")
    assert status.has_update is (update is not None)


def test_then_self_after_a_condition_gives_both_facts() -> None:
    rules = rag_rules(RagRule("Concern, as rated", Concern(), "self"))
    status = evaluate(rules, action({Q1: up("amber", 30, concern=True)}), [Q1])[0]
    assert status.reason == ("Concern, as rated: the update for 2024/25 Q1 flags an area of "
                             "concern; rated Amber by the owner, 30% complete")


@pytest.mark.parametrize(("rules", "reason"), [
    (rag_rules(RagRule("Concern", Concern(), "red")),
     "No rule matched: the plan's one RAG rule does not apply in 2024/25 Q1"),
    (rag_rules(RagRule("Concern", Concern(), "red"), RagRule("Late", PastDue(), "red")),
     "No rule matched: none of the plan's 2 RAG rules applies in 2024/25 Q1"),
    (rag_rules(), "No rule matched: the plan has no RAG rules"),
])
def test_no_rule_matched_is_grey(rules: Rules, reason: str) -> None:
    status = evaluate(rules, action({Q1: up()}), [Q1])[0]
    assert (status.colour, status.rule, status.reason) == ("grey", "No rule matched", reason)
    rule, detail = reason.split(": ", 1)
    assert status.label == f"{rule}: {detail[:1].upper()}{detail[1:]}"


@pytest.mark.parametrize(("first", "second", "colour", "rule"), [
    ("Concern is red", "Concern is amber", "red", "Concern is red"),
    ("Concern is amber", "Concern is red", "amber", "Concern is amber"),
])
def test_the_first_matching_rule_wins(first: str, second: str, colour: Colour,
                                      rule: str) -> None:
    colours: dict[str, Colour] = {"Concern is red": "red", "Concern is amber": "amber"}
    rules = rag_rules(RagRule(first, Concern(), colours[first]),
                      RagRule(second, Concern(), colours[second]))
    status = evaluate(rules, action({Q1: up("green", concern=True)}), [Q1])[0]
    assert (status.colour, status.rule) == (colour, rule)


def test_default_rules_past_due_wins_over_no_update() -> None:
    status = evaluate(DEFAULT_RULES, action(), span("2024/25 Q1", "2025/26 Q1"))[-1]
    assert status.label == "Red: Past its due date, due 31 March 2025"


@pytest.mark.parametrize(("kpis", "label"), [
    ({"asb-reports": "green"}, "Green: KPI on target, KPI asb-reports is Green in 2024/25 Q1"),
    ({"asb-reports": "amber"}, "Amber: As assessed by the lead, rated Amber by the owner, "
     "40% complete"),
    ({}, "Amber: As assessed by the lead, rated Amber by the owner, 40% complete"),
])
def test_a_custom_kpi_rule_makes_green(kpis: dict[str, Colour], label: str) -> None:
    rules = rag_rules(RagRule("KPI on target", KpiIs("green"), "green"),
                      RagRule("As assessed by the lead", None, "self"))
    facts = action({Q1: up("amber", 40)}, kpis={Q1: kpis})
    assert evaluate(rules, facts, [Q1])[0].label == label


def test_a_rule_without_condition_and_a_fixed_colour() -> None:
    status = evaluate(rag_rules(RagRule("Everything is fine", None, "green")), action(), [Q1])[0]
    assert (status.reason, status.label) == ("Everything is fine", "Green: Everything is fine")


# -- the default rules over a realistic history -------------------------------------------------

HISTORY = action({
    Q1: up("green", 20),
    Q3: up("amber", 50, concern=True),
    Q4: up("red", 70),
    N1: up("red", 80),
    N2: up("blue", 100),
}, kpis={Q3: {"asb-reports": "red"}, N1: {"asb-reports": "amber"}})


def test_default_rules_over_six_quarters() -> None:
    statuses = evaluate(DEFAULT_RULES, HISTORY, span("2024/25 Q1", "2025/26 Q2"))
    assert [s.quarter.label for s in statuses] == [
        "2024/25 Q1", "2024/25 Q2", "2024/25 Q3", "2024/25 Q4", "2025/26 Q1", "2025/26 Q2"]
    assert [s.label for s in statuses] == [
        "Green: As assessed by the lead, rated Green by the owner, 20% complete",
        "No update: Nothing was reported for 2024/25 Q2",
        "Amber: As assessed by the lead, rated Amber by the owner, 50% complete",
        "Red: As assessed by the lead, rated Red by the owner, 70% complete",
        "Red: Past its due date, due 31 March 2025",
        "Complete: Reported complete in 2025/26 Q2",
    ]
    assert [s.rule for s in statuses] == [
        "As assessed by the lead", "No update", "As assessed by the lead",
        "As assessed by the lead", "Past its due date", "Complete"]
    assert [s.has_update for s in statuses] == [True, False, True, True, True, True]


@pytest.mark.parametrize(("last", "raised"), [
    ("2024/25 Q1", []),
    ("2024/25 Q2", []),
    ("2024/25 Q3", ["Flagged as an area of concern: the update for 2024/25 Q3 flags an area of "
                    "concern", "KPI off target: KPI asb-reports is Red in 2024/25 Q3"]),
    ("2024/25 Q4", []),
    ("2025/26 Q1", ["Red two quarters running: Red in 2024/25 Q4 and 2025/26 Q1"]),
    ("2025/26 Q2", []),
])
def test_default_escalations_over_six_quarters(last: str, raised: list[str]) -> None:
    statuses = evaluate(DEFAULT_RULES, HISTORY, span("2024/25 Q1", last))
    assert [reason for _, reason in escalations(DEFAULT_RULES, HISTORY, statuses)] == raised


ESCALATE = {rule.name: rule for rule in DEFAULT_RULES.escalate}

DEFAULT_ESCALATION_CASES: list[tuple[str, ActionFacts, Quarter, str | None]] = [
    ("Red two quarters running", action({Q1: up("red"), Q2: up("red")}), Q2,
     "Red two quarters running: Red in 2024/25 Q1 and 2024/25 Q2"),
    ("Red two quarters running", action({Q1: up("amber"), Q2: up("red")}), Q2, None),
    ("Red two quarters running", action({Q1: up("red")}), Q1, None),
    ("Flagged as an area of concern", action({Q2: up("green", concern=True)}), Q2,
     "Flagged as an area of concern: the update for 2024/25 Q2 flags an area of concern"),
    ("Flagged as an area of concern", action({Q1: up(concern=True), Q2: up()}), Q2, None),
    ("No update two quarters running", action(), Q2,
     "No update two quarters running: nothing was reported for 2024/25 Q1 and 2024/25 Q2"),
    ("No update two quarters running", action({Q2: up()}), Q3, None),
    ("No update two quarters running", action(starts=date(2024, 10, 1)), Q3, None),
    ("KPI off target", action({Q1: up()}, kpis={Q1: {"asb-reports": "red"}}), Q1,
     "KPI off target: KPI asb-reports is Red in 2024/25 Q1"),
    ("KPI off target", action({Q1: up()}, kpis={Q1: {"asb-reports": "amber"}}), Q1, None),
]


@pytest.mark.parametrize(("name", "facts", "quarter", "reason"), DEFAULT_ESCALATION_CASES,
                         ids=[f"{c[0]}: {'raised' if c[3] else 'not raised'} {i}"
                              for i, c in enumerate(DEFAULT_ESCALATION_CASES)])
def test_default_escalations(name: str, facts: ActionFacts, quarter: Quarter,
                             reason: str | None) -> None:
    statuses = evaluate(DEFAULT_RULES, facts, span("2024/25 Q1", quarter.label))
    found = {rule.name: text for rule, text in escalations(DEFAULT_RULES, facts, statuses)}
    assert found.get(name) == reason
    if reason is not None:
        rule = next(r for r, _ in escalations(DEFAULT_RULES, facts, statuses) if r.name == name)
        assert rule is ESCALATE[name]


def test_escalations_of_no_statuses_is_empty() -> None:
    assert escalations(DEFAULT_RULES, action(), []) == []


def test_escalations_look_back_before_the_statuses_given() -> None:
    facts = action({Q1: up("red"), Q2: up("red")})
    only_q2 = evaluate(DEFAULT_RULES, facts, [Q2])
    assert [r for _, r in escalations(DEFAULT_RULES, facts, only_q2)] == [
        "Red two quarters running: Red in 2024/25 Q1 and 2024/25 Q2"]


# -- one January calendar -----------------------------------------------------------------------

def test_a_january_calendar() -> None:
    quarters = span("2025 Q1", "2025 Q3", JANUARY)
    facts = ActionFacts("CSP-7", date(2025, 1, 1), date(2025, 3, 31),
                        {quarters[0]: up("green", 90)})
    statuses = evaluate(DEFAULT_RULES, facts, quarters)
    assert [s.label for s in statuses] == [
        "Green: As assessed by the lead, rated Green by the owner, 90% complete",
        "Red: Past its due date, due 31 March 2025",
        "Red: Past its due date, due 31 March 2025",
    ]
    assert [r for _, r in escalations(DEFAULT_RULES, facts, statuses)] == [
        "Red two quarters running: Red in 2025 Q2 and 2025 Q3",
        "No update two quarters running: nothing was reported for 2025 Q2 and 2025 Q3",
    ]


# -- evaluate's contract ------------------------------------------------------------------------

def test_a_status_does_not_depend_on_where_the_caller_starts() -> None:
    rules = rag_rules(RagRule("Red twice", RagFor("red", 2), "amber"), RagRule("Own", None, "self"))
    facts = action({Q1: up("red"), Q2: up("red"), Q3: up("green")})
    assert evaluate(rules, facts, [Q3]) == evaluate(rules, facts, [Q1, Q2, Q3])[2:]
    assert evaluate(rules, facts, [Q3])[0].label == "Amber: Red twice, Red in 2024/25 Q1 and " \
        "2024/25 Q2"


def test_evaluate_refuses_quarters_that_are_not_consecutive() -> None:
    with pytest.raises(ValueError, match="2024/25 Q3 does not follow 2024/25 Q1"):
        evaluate(DEFAULT_RULES, action(), [Q1, Q3])
    with pytest.raises(ValueError, match="2024/25 Q1 does not follow 2024/25 Q2"):
        evaluate(DEFAULT_RULES, action(), [Q2, Q1])


def test_evaluate_of_no_quarters_is_empty() -> None:
    assert evaluate(DEFAULT_RULES, action(), []) == []


@pytest.mark.parametrize(("starts", "due", "quarter", "expected"), [
    (date(2024, 4, 1), date(2025, 3, 31), "2024/25 Q2", 50.0),
    (date(2024, 4, 1), date(2025, 3, 31), "2024/25 Q4", 100.0),
    (date(2024, 4, 1), date(2025, 3, 31), "2025/26 Q3", 100.0),
    (date(2024, 7, 1), date(2025, 3, 31), "2024/25 Q1", 0.0),
    (date(2024, 6, 30), date(2025, 3, 31), "2024/25 Q1", 0.0),
    (date(2024, 4, 1), date(2024, 4, 1), "2024/25 Q1", 100.0),
    (date(2024, 9, 30), date(2024, 9, 30), "2024/25 Q1", 0.0),
])
def test_expected_percent(starts: date, due: date, quarter: str, expected: float) -> None:
    facts = ActionFacts("SKP-001", starts, due, {})
    assert expected_percent(facts, q(quarter)) == pytest.approx(expected)


@pytest.mark.parametrize(("colour", "rule", "reason", "label"), [
    ("red", "Past its due date", "Past its due date: due 31 March 2025",
     "Red: Past its due date, due 31 March 2025"),
    ("blue", "Complete", "Complete: reported complete in 2025/26 Q1",
     "Complete: Reported complete in 2025/26 Q1"),
    ("grey", "Not started", "Not started: starts 1 July 2025",
     "Not started: Starts 1 July 2025"),
    ("amber", "Amber", "Amber", "Amber"),
    ("green", "Fine", "Fine", "Green: Fine"),
])
def test_status_labels(colour: Colour, rule: str, reason: str, label: str) -> None:
    assert Status(Q1, colour, rule, reason, True).label == label


def test_the_engine_stays_pure() -> None:
    code = ("import sys, plans.engine, plans.rollup\n"
            "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    loaded = set(result.stdout.split())
    assert sorted(loaded & {"flask", "sqlalchemy", "pandas", "matplotlib", "tracker"}) == []


def test_a_colour_read_back_from_storage_is_checked() -> None:
    assert [as_colour(colour) for colour in COLOURS] == list(COLOURS)
    with pytest.raises(ValueError, match="Not a status colour: 'purple'"):
        as_colour("purple")
