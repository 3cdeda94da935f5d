"""Properties that hold for every date, quarter and misplaced key, checked with hypothesis."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plantest import BASE, NAME

import plans
from plans.periods import Calendar, Quarter

FAST = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

calendars = st.builds(Calendar, month=st.integers(1, 12), day=st.just(1))
days = st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31))


@st.composite
def quarters(draw: st.DrawFn) -> tuple[Calendar, Quarter]:
    calendar = draw(calendars)
    return calendar, calendar.quarter_of(draw(days))


@FAST
@given(quarters())
def test_next_then_previous_is_the_same_quarter(cq: tuple[Calendar, Quarter]) -> None:
    _, quarter = cq
    assert quarter.next().previous() == quarter
    assert quarter.previous().next() == quarter
    assert quarter.next() > quarter > quarter.previous()


@FAST
@given(quarters())
def test_quarters_tile_time(cq: tuple[Calendar, Quarter]) -> None:
    _, quarter = cq
    assert quarter.start <= quarter.end
    assert (quarter.next().start - quarter.end).days == 1
    assert 89 <= (quarter.end - quarter.start).days + 1 <= 92
    assert quarter.start.day == 1


@FAST
@given(calendars, days)
def test_quarter_of_contains_the_day(calendar: Calendar, day: date) -> None:
    quarter = calendar.quarter_of(day)
    assert quarter.start <= day <= quarter.end
    assert 1 <= quarter.number <= 4
    assert quarter.year == calendar.year_of(day)
    assert quarter.year.start <= day <= quarter.year.end
    assert quarter in quarter.year.quarters()


@FAST
@given(quarters())
def test_labels_and_slugs_parse_back(cq: tuple[Calendar, Quarter]) -> None:
    calendar, quarter = cq
    assert calendar.parse_quarter(quarter.label) == quarter
    assert calendar.parse_quarter(quarter.slug) == quarter
    assert calendar.parse_year(quarter.year.label) == quarter.year
    assert calendar.parse_year(quarter.year.slug) == quarter.year


# -- an unknown key anywhere in a valid plan is refused, by name, on its line -------------------

# every key the format knows, so a generated key is never a legal one
KNOWN_KEYS = {
    "format", "partnership", "authorities", "groups", "people", "themes", "aims", "principles",
    "prevention_levels", "duties", "priorities", "kpis", "delivery", "rules", "id", "name",
    "area", "vision", "plan", "year_starts", "title", "starts", "ends", "responsible", "kind",
    "reports_to", "lead", "members", "email", "role", "summary", "points", "text", "every",
    "due", "short_title", "group", "commitments", "prevention", "parts",
    "commitment", "owner", "milestones", "unit", "better", "frequency", "source", "baseline",
    "period", "value", "targets", "target", "tolerance", "values", "calendar",
    "update_due_days", "window_opens_days", "reminders", "at", "to", "rag", "rollup",
    "approval", "escalate", "if", "then", "self", "no_update", "kpi", "behind_schedule", "all",
    "any", "quarters", "public",
}
BLOCK_KEY = re.compile(r"^( *)(- )?([a-z_]+):")
LINES = BASE.splitlines()
# places where a key may go: (line index, column of '{' or None for a block mapping line)
PLACES = [(i, None) for i, line in enumerate(LINES) if BLOCK_KEY.match(line)] + [
    (i, col) for i, line in enumerate(LINES) for col, char in enumerate(line) if char == "{"]

unknown_keys = st.from_regex(r"[a-z][a-z_]{2,14}", fullmatch=True).filter(
    lambda k: k not in KNOWN_KEYS)


def with_key(place: tuple[int, int | None], key: str) -> tuple[str, int]:
    """BASE with ``key: 1`` added to the mapping at ``place``; the line it is on."""
    index, column = place
    lines = list(LINES)
    if column is not None:                       # a flow mapping: {key: 1, ...}
        line = lines[index]
        lines[index] = f"{line[:column + 1]}{key}: 1, {line[column + 1:]}"
        return "\n".join(lines) + "\n", index + 1
    match = BLOCK_KEY.match(lines[index])
    assert match is not None
    indent, dash = match.group(1), match.group(2)
    if dash:                                     # "- id: x" becomes "- key: 1" + "  id: x"
        rest = lines[index][len(indent) + 2:]
        lines[index:index + 1] = [f"{indent}- {key}: 1", f"{indent}  {rest}"]
    else:                                        # a new line before the key, in its mapping
        lines.insert(index, f"{indent}{key}: 1")
    return "\n".join(lines) + "\n", index + 1


def test_there_are_many_places() -> None:
    assert len(PLACES) > 100


@FAST
@given(st.sampled_from(PLACES), unknown_keys)
def test_an_unknown_key_anywhere_is_refused_by_name(place: tuple[int, int | None],
                                                     key: str) -> None:
    text, line = with_key(place, key)
    plan, problems = plans.check_plan(text, NAME)
    assert plan is None
    named = [p for p in problems if p.is_error and f"unknown key '{key}'" in p.message]
    assert [p.line for p in named] == [line], [str(p) for p in problems]


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_give_a_plan_or_problems_never_a_crash(data: bytes) -> None:
    plan, problems = plans.check_plan(data, NAME)
    assert plan is None
    assert problems and all(p.is_error or p.severity == "warning" for p in problems)
    assert all(p.file == NAME and p.line >= 0 for p in problems)


@FAST
@given(st.sampled_from(range(len(LINES))), st.sampled_from(["", "x", ":", "- ", "  ", "{", "]",
                                                            "&a", "*a", "'", '"', "\t"]))
def test_a_mangled_line_never_crashes(index: int, junk: str) -> None:
    lines = list(LINES)
    lines[index] = lines[index] + junk
    plan, problems = plans.check_plan("\n".join(lines) + "\n", NAME)
    assert plan is not None or any(p.is_error for p in problems)
    assert all(1 <= p.line <= len(lines) + 1 for p in problems), [str(p) for p in problems]
