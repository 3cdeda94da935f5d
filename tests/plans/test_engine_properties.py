"""Properties of the rules engine and the roll-ups, for any facts, checked with hypothesis."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plans.engine import (
    ActionFacts,
    UpdateFacts,
    escalations,
    escalations_by_quarter,
    evaluate,
)
from plans.periods import Calendar, Quarter
from plans.rollup import rollup, severity
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
)
from plans.rules import Rollup as RollupMethod

FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

APRIL = Calendar(4, 1)
RATINGS: tuple[Colour, ...] = ("red", "amber", "green", "blue")
colours = st.sampled_from(COLOURS)
ratings = st.sampled_from(RATINGS)
updates = st.builds(UpdateFacts, ratings, st.integers(0, 100), st.booleans())
calendars = st.sampled_from([APRIL, Calendar(1, 1), Calendar(7, 1)])


@st.composite
def windows(draw: st.DrawFn) -> list[Quarter]:
    """1 to 8 consecutive quarters, somewhere in 2023 to 2026."""
    calendar = draw(calendars)
    quarter = calendar.quarter_of(draw(st.dates(date(2023, 1, 1), date(2026, 12, 31))))
    result = [quarter]
    for _ in range(draw(st.integers(0, 7))):
        result.append(result[-1].next())
    return result


@st.composite
def facts_for(draw: st.DrawFn, quarters: list[Quarter], with_updates: bool = True) -> ActionFacts:
    """An action whose start may fall before, inside or after the window."""
    first, last = quarters[0], quarters[-1]
    starts = draw(st.dates(first.start - timedelta(days=400), last.end + timedelta(days=100)))
    due = starts + timedelta(days=draw(st.integers(-30, 1100)))
    chosen: dict[Quarter, UpdateFacts] = {}
    kpis: dict[Quarter, dict[str, Colour]] = {}
    for quarter in quarters:
        if with_updates and draw(st.booleans()):
            chosen[quarter] = draw(updates)
        if draw(st.booleans()):
            kpis[quarter] = draw(st.dictionaries(st.sampled_from(["asb", "da", "nte"]), colours,
                                                 max_size=3))
    return ActionFacts("SKP-001", starts, due, chosen, kpis)


def _compound(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    parts = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(parts.map(AllOf), parts.map(AnyOf))


simple_conditions: st.SearchStrategy[Condition] = st.one_of(
    st.sampled_from([Complete(), PastDue(), NoUpdate(), Concern()]),
    st.builds(RagFor, colours, st.integers(1, 3)),
    st.builds(SelfIs, colours),
    st.builds(NoUpdateFor, st.integers(1, 3)),
    st.builds(KpiIs, colours),
    st.builds(BehindSchedule, st.integers(0, 100).map(float)),
)
conditions = st.recursive(simple_conditions, _compound, max_leaves=6)


@st.composite
def rule_sets(draw: st.DrawFn) -> Rules:
    """DEFAULT_RULES, or any list of RAG and escalation rules a plan could declare."""
    if draw(st.booleans()):
        return DEFAULT_RULES
    count = draw(st.integers(0, 4))
    rag = tuple(RagRule(f"Rule {n}", draw(st.none() | conditions),
                        draw(st.sampled_from([*COLOURS, "self"])))
                for n in range(count))
    escalate = tuple(EscalationRule(f"Escalation {n}", draw(conditions), ("board",))
                     for n in range(draw(st.integers(0, 3))))
    return Rules(rag=rag, escalate=escalate)


@FAST
@given(st.data())
def test_without_updates_an_action_is_never_green_or_complete(data: st.DataObject) -> None:
    quarters = data.draw(windows())
    facts = data.draw(facts_for(quarters, with_updates=False))
    for status in evaluate(DEFAULT_RULES, facts, quarters):
        assert status.colour in ("red", "amber", "grey"), status
        assert not status.has_update


@FAST
@given(st.data())
def test_evaluate_is_deterministic_and_gives_one_status_per_quarter_in_order(
        data: st.DataObject) -> None:
    quarters = data.draw(windows())
    facts = data.draw(facts_for(quarters))
    rules = data.draw(rule_sets())
    statuses = evaluate(rules, facts, quarters)
    assert [s.quarter for s in statuses] == quarters
    assert evaluate(rules, facts, list(quarters)) == statuses
    for status in statuses:
        assert status.colour in COLOURS
        assert status.has_update is (status.quarter in facts.updates)
        assert status.reason == status.rule or status.reason.startswith(f"{status.rule}: ")
    # where the caller starts makes no difference to a quarter's status
    cut = data.draw(st.integers(0, len(quarters) - 1))
    assert evaluate(rules, facts, quarters[cut:]) == statuses[cut:]


@FAST
@given(st.data())
def test_escalations_by_quarter_match_escalations_cut_at_each_quarter(
        data: st.DataObject) -> None:
    quarters = data.draw(windows())
    facts = data.draw(facts_for(quarters))
    rules = data.draw(rule_sets())
    statuses = evaluate(rules, facts, quarters)
    by_quarter = escalations_by_quarter(rules, facts, statuses)
    for n, status in enumerate(statuses):
        assert by_quarter.get(status.quarter, []) == escalations(rules, facts, statuses[: n + 1])


@FAST
@given(st.data())
def test_a_quarter_before_the_start_is_always_grey_not_started(data: st.DataObject) -> None:
    quarters = data.draw(windows())
    facts = data.draw(facts_for(quarters))
    rules = data.draw(rule_sets())
    statuses = evaluate(rules, facts, quarters)
    for n, status in enumerate(statuses):
        if status.quarter.end < facts.starts:
            assert (status.colour, status.rule) == ("grey", "Not started")
            assert escalations(rules, facts, statuses[: n + 1]) == []
        else:
            assert status.rule != "Not started"


@FAST
@given(st.data())
def test_adding_an_update_stops_the_no_update_status(data: st.DataObject) -> None:
    quarters = data.draw(windows())
    facts = data.draw(facts_for(quarters))
    rules = data.draw(st.sampled_from([
        DEFAULT_RULES,
        Rules(rag=(RagRule("As assessed by the lead", None, "self"),)),
    ]))
    before = evaluate(rules, facts, quarters)
    missing = [s for s in before if s.rule == "No update"]
    assume(missing)
    target = data.draw(st.sampled_from(missing))
    assert not target.has_update
    added = replace(facts, updates={**facts.updates, target.quarter: data.draw(updates)})
    after = evaluate(rules, added, quarters)[quarters.index(target.quarter)]
    assert after.has_update
    assert after.rule != "No update"


@FAST
@given(st.sampled_from(["worst", "majority", "share"]),
       st.lists(st.tuples(st.sampled_from(["SKP-001", "SKP-002", "SKP-003"]), colours),
                max_size=12),
       st.integers(0, 12))
def test_adding_a_red_item_never_improves_a_rollup(method: RollupMethod,
                                                   items: list[tuple[str, Colour]],
                                                   at: int) -> None:
    before = rollup(method, items)
    with_red = [*items[:at], ("SKP-999", "red"), *items[at:]]
    after = rollup(method, with_red)
    assert severity(after.colour) <= severity(before.colour)
    assert after.counts["red"] == before.counts["red"] + 1
    if method == "worst":
        assert after.colour == "red"
