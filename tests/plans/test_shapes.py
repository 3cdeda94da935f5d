"""Any partnership's plan loads, not only Kingston's: four differently shaped valid plans."""

from __future__ import annotations

from datetime import date

import pytest
from plantest import DATA

import plans
from plans import Calendar, Plan, Quarter, Year
from plans.rules import (
    DEFAULT_RULES,
    AllOf,
    AnyOf,
    BehindSchedule,
    CalendarRules,
    Complete,
    Concern,
    EscalationRule,
    KpiIs,
    NoUpdate,
    NoUpdateFor,
    PastDue,
    RagFor,
    RagRule,
    Reminder,
    SelfIs,
)


def load(name: str) -> Plan:
    plan, problems = plans.check_plan((DATA / name).read_bytes(), name)
    assert [str(p) for p in problems] == [], "expected no errors and no warnings"
    assert plan is not None
    return plan


# -- (a) numbered commitments and parts -------------------------------------------------------

@pytest.fixture(scope="module")
def numbered() -> Plan:
    return load("numbered.yaml")


def test_numbered_counts_and_refs(numbered: Plan) -> None:
    assert numbered.partnership.name == "Northvale Safer Communities Partnership"
    assert [p.id for p in numbered.priorities] == ["1", "2"]
    assert [c.ref for c in numbered.commitments()] == [
        "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10",
        "2.1", "2.2", "2.3"]
    assert [p.ref for p in numbered.parts()] == ["2.3.1", "2.3.2"]
    assert numbered.summary()["actions"] == {"2025/26": 14, "2026/27": 1}


def test_numbered_refs_are_text_not_numbers(numbered: Plan) -> None:
    """`commitment: 1.10` is commitment 10 of priority 1, not the number 1.1."""
    actions = numbered.actions()
    assert actions["NV-10"].commitment == "1.10"
    assert actions["NV-1"].commitment == "1.1"
    assert actions["NV-13"].commitment == "2.3.1"
    assert numbered.kpis[0].commitments == ("1.1", "1.10")


def test_numbered_groups_and_continued_actions(numbered: Plan) -> None:
    by_year = {year: {a.id: a for a in actions} for year, actions in numbered.delivery.items()}
    assert by_year["2025/26"]["NV-1"].group == "neighbourhoods"       # priority 1's group
    assert by_year["2025/26"]["NV-11"].group == "violence"            # priority 2's group
    assert by_year["2025/26"]["NV-14"].group == "neighbourhoods"      # given explicitly
    assert by_year["2025/26"]["NV-14"].starts == date(2025, 6, 1)
    assert by_year["2026/27"]["NV-14"].group == "violence"            # the default again
    assert numbered.action_years()["NV-14"] == ("2025/26", "2026/27")
    assert numbered.actions()["NV-14"].title == "Pastor scheme year two"


def test_numbered_annual_kpi_and_april_calendar(numbered: Plan) -> None:
    kpi = numbered.kpis[0]
    assert (kpi.frequency, kpi.better, kpi.unit) == ("annual", "lower", "count")
    assert kpi.target == 300
    assert kpi.target_for("2026/27") == 300
    assert kpi.tolerance == 5          # the documented default
    assert dict(kpi.values) == {"2025/26": 310}
    calendar = numbered.partnership.calendar
    assert calendar == Calendar(4, 1)
    assert [y.label for y in numbered.partnership.years] == ["2025/26", "2026/27", "2027/28"]
    q1 = calendar.quarter_of(date(2025, 4, 1))
    assert q1.label == "2025/26 Q1"
    assert (q1.start, q1.end) == (date(2025, 4, 1), date(2025, 6, 30))
    assert numbered.people == ()       # no people: owners are not checked against a list
    assert numbered.rules == DEFAULT_RULES


# -- (b) a calendar-year partnership ---------------------------------------------------------

@pytest.fixture(scope="module")
def calendar_year() -> Plan:
    return load("calendar.yaml")


def test_calendar_year_counts_and_refs(calendar_year: Plan) -> None:
    plan = calendar_year
    assert plan.partnership.name == "Eastmoor Community Safety Partnership"
    assert plan.partnership.year_starts == (1, 1)
    assert [c.ref for c in plan.commitments()] == ["harm.a", "harm.b"]
    assert list(plan.parts()) == []
    assert [p.email for p in plan.people] == [
        "chair@example.org", "harm.lead@example.org", "worker@example.org"]
    assert plan.people[2].role == "member"     # the default role


def test_calendar_year_labels(calendar_year: Plan) -> None:
    plan = calendar_year
    assert sorted(plan.delivery) == ["2025", "2026"]
    assert [y.label for y in plan.partnership.years] == ["2025", "2026", "2027"]
    kpi = plan.kpis[0]
    assert dict(kpi.targets) == {"2025": 500, "2026": 520, "2027": 540}
    assert kpi.target_for("2026") == 520
    assert kpi.frequency == "quarterly"
    # "2025 Q1" and "2025-Q2" are both read, and stored by their labels
    assert dict(kpi.values) == {"2025 Q1": 480, "2025 Q2": 495}


def test_calendar_year_quarters(calendar_year: Plan) -> None:
    calendar = calendar_year.partnership.calendar
    q1 = calendar.parse_quarter("2025 Q1")
    assert q1.label == "2025 Q1"
    assert q1.slug == "2025-Q1"
    assert (q1.start, q1.end) == (date(2025, 1, 1), date(2025, 3, 31))
    year = calendar.parse_year("2025")
    assert (year.start, year.end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert calendar.quarter_of(date(2025, 12, 31)).label == "2025 Q4"


def test_calendar_year_actions(calendar_year: Plan) -> None:
    plan = calendar_year
    first = {a.id: a for a in plan.delivery["2025"]}
    assert first["EM-2"].owner == "worker@example.org"    # written Worker@Example.org
    assert first["EM-2"].starts == date(2025, 3, 1)
    assert first["EM-1"].group == "harm"
    assert plan.action_years() == {"EM-1": ("2025",), "EM-2": ("2025", "2026")}
    assert plan.actions()["EM-2"].due == date(2026, 12, 31)
    duty = plan.duties[0]
    assert (duty.every, duty.due) == ("year", (10, 31))    # `due` alone makes it yearly


# -- (c) the least a plan may say ------------------------------------------------------------

@pytest.fixture(scope="module")
def minimal() -> Plan:
    return load("minimal.yaml")


def test_minimal_defaults(minimal: Plan) -> None:
    plan = minimal
    assert plan.partnership.name == "Westbridge Community Safety Partnership"
    assert plan.partnership.area is None and plan.partnership.vision is None
    assert plan.partnership.year_starts == (4, 1)
    assert plan.partnership.calendar == Calendar()
    assert plan.rules == DEFAULT_RULES
    assert dict(plan.delivery) == {}
    assert plan.actions() == {}
    assert (plan.kpis, plan.people, plan.aims, plan.principles) == ((), (), (), ())
    assert (plan.prevention_levels, plan.duties) == ((), ())
    assert plan.warnings == ()
    assert plan.summary() == {
        "partnership": "Westbridge Community Safety Partnership",
        "priorities": 1, "commitments": 1, "parts": 0, "themes": 1, "groups": 1,
        "authorities": 1, "people": 0, "actions": {}, "kpis": 0,
    }


def test_minimal_details(minimal: Plan) -> None:
    plan = minimal
    assert plan.authorities[0].responsible is False     # `responsible` defaults to false
    assert plan.priorities[0].group is None
    assert plan.priorities[0].short_title is None
    assert plan.groups[0].members == ()
    assert [y.label for y in plan.partnership.years] == ["2026/27", "2027/28", "2028/29"]
    assert plan.partnership.calendar.quarter_of(date(2026, 4, 1)).label == "2026/27 Q1"


def test_default_rules_are_the_documented_ones() -> None:
    rules = DEFAULT_RULES
    assert rules.calendar == CalendarRules(update_due_days=15, window_opens_days=14)
    assert rules.reminders == (Reminder(-7, ("owner",)), Reminder(1, ("owner",)),
                               Reminder(7, ("owner", "group_lead")))
    assert rules.rag == (
        RagRule("Complete", Complete(), "blue"),
        RagRule("Past its due date", PastDue(), "red"),
        RagRule("No update", NoUpdate(), "grey"),
        RagRule("As assessed by the lead", None, "self"),
    )
    assert (rules.rollup, rules.approval) == ("worst", "none")
    assert rules.escalate == (
        EscalationRule("Red two quarters running", RagFor("red", 2), ("board",)),
        EscalationRule("Flagged as an area of concern", Concern(), ("board",)),
        EscalationRule("No update two quarters running", NoUpdateFor(2), ("group_lead",)),
        EscalationRule("KPI off target", KpiIs("red"), ("group_lead",)),
    )


# -- (d) roman numerals, anchors, integer ids, a monthly KPI, custom rules ----------------------

@pytest.fixture(scope="module")
def roman() -> Plan:
    return load("roman.yaml")


def test_roman_counts_and_refs(roman: Plan) -> None:
    plan = roman
    assert plan.partnership.name == "Southholme Safety Partnership"
    assert [p.id for p in plan.priorities] == ["i", "ii", "iii"]
    assert [c.ref for c in plan.commitments()] == [
        "i.i", "i.ii", "i.iii", "ii.i", "ii.ii", "iii.i"]
    assert [p.ref for p in plan.parts()] == ["i.iii.a", "i.iii.b"]
    assert [a.id for a in plan.authorities] == ["1", "2", "health"]    # `id: 1` means "1"


def test_roman_anchors_and_merge_keys(roman: Plan) -> None:
    groups = {g.id: g for g in roman.groups}
    # `<<: *thematic` copies kind and reports_to from the places group
    assert (groups["people"].kind, groups["people"].reports_to) == ("thematic", "exec")
    assert groups["people"].lead == "people.lead@example.org"
    assert groups["people"].name == "Safer People Group"      # its own keys win
    assert groups["carers"].members == ("ann@example.org", "bob@example.org")   # *team
    actions = roman.actions()
    assert set(actions) == {"1", "2", "3", "4", "5", "6"}
    two = actions["2"]
    assert (two.commitment, two.title, two.owner, two.lead) == (
        "ii.ii", "Online safety in schools", "ann@example.org", "2")
    assert two.kpis == ("scams",)
    assert two.due == date(2026, 3, 31)
    three = actions["3"]
    assert (three.commitment, three.lead, three.kpis) == ("i.iii.a", "1", ())
    assert [(m.title, m.due, m.id, m.key) for m in three.milestones] == [
        ("Audit done", date(2025, 9, 30), None, "Audit done"),
        ("Lights fitted", date(2026, 3, 1), "fitted", "fitted"),
    ]


def test_roman_default_groups(roman: Plan) -> None:
    actions = roman.actions()
    assert actions["1"].group == "people"     # priority ii
    assert actions["3"].group == "places"     # a part of priority i
    assert actions["6"].group is None         # priority iii names no group


def test_roman_monthly_kpi(roman: Plan) -> None:
    kpi = roman.kpis[0]
    assert kpi.frequency == "monthly"
    assert dict(kpi.values) == {"2025-04": 35, "2025-05": 41}
    assert kpi.tolerance == 0
    assert kpi.target_for("2027/28") == 40
    assert kpi.baseline is not None
    assert (kpi.baseline.period, kpi.baseline.value) == ("2024/25", 30)


def test_roman_rules_use_every_condition(roman: Plan) -> None:
    rules = roman.rules
    assert rules.calendar == CalendarRules(update_due_days=20, window_opens_days=7)
    assert rules.reminders == (
        Reminder(-3, ("owner",)),
        Reminder(5, ("owner", "group_lead", "board", "safety.manager@example.org")),
    )
    assert rules.rag == (
        RagRule("Done", Complete(), "blue"),
        RagRule("Overdue", PastDue(), "red"),
        RagRule("Silent", NoUpdate(), "grey"),
        RagRule("Worrying", AllOf((Concern(), SelfIs("amber"))), "red"),
        RagRule("Slipping", AnyOf((BehindSchedule(50), KpiIs("red"), RagFor("amber", 1))),
                "amber"),
        RagRule("As the lead says", None, "self"),
    )
    assert rules.rollup == "share"
    assert rules.approval == "group_lead"
    assert rules.escalate == (
        EscalationRule("Red two quarters", RagFor("red", 2), ("board",)),
        EscalationRule("Concern raised", Concern(), ("board", "group_lead")),
        EscalationRule("No update twice", NoUpdateFor(2), ("group_lead",)),
        EscalationRule("KPI red", KpiIs("red"), ("group_lead",)),
        EscalationRule("Far behind", BehindSchedule(25.5), ("owner",)),
    )


def test_roman_april_calendar(roman: Plan) -> None:
    calendar = roman.partnership.calendar
    quarter = calendar.parse_quarter("2025-26-Q1")
    assert quarter == Quarter(Year(date(2025, 4, 1)), 1)
    assert quarter.label == "2025/26 Q1"
    assert (quarter.start, quarter.end) == (date(2025, 4, 1), date(2025, 6, 30))
    last = calendar.parse_quarter("2029/30 Q4")
    assert (last.start, last.end) == (date(2030, 1, 1), date(2030, 3, 31))
    assert [y.label for y in roman.partnership.years] == [
        "2025/26", "2026/27", "2027/28", "2028/29", "2029/30"]


# -- the same plan, whatever the file is called and however it arrives ------------------------

def test_str_bytes_and_path_give_the_same_plan() -> None:
    text = (DATA / "calendar.yaml").read_text(encoding="utf-8")
    from_str = plans.parse_plan(text, "x.yaml")
    from_bytes = plans.parse_plan(text.encode("utf-8"), "x.yaml")
    from_path = plans.load_plan(DATA / "calendar.yaml", "x.yaml")
    assert from_str == from_bytes == from_path
    with_bom = plans.parse_plan(b"\xef\xbb\xbf" + text.encode("utf-8"), "x.yaml")
    assert with_bom == from_str
