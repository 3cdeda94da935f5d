"""Broken plans are refused whole, each problem on the right line, in words a user can act on.

Every case is the valid base plan (data/base.yaml) with one small change, so the line of
each problem is known: the helpers return the number of the line they changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from plantest import BASE, DATA, NAME, delete, errors_of, insert_after, line_of, refused, replace

import plans

F = NAME  # every problem line starts with the file name


@dataclass(frozen=True)
class Case:
    name: str
    text: str | bytes
    expected: tuple[str, ...]
    exact: bool = True   # the errors are exactly these; else each of these is among them


CASES: list[Case] = []


def case(name: str, text: str | bytes, *expected: str, exact: bool = True) -> None:
    CASES.append(Case(name, text, expected, exact))


def test_the_base_plan_is_valid() -> None:
    plan, problems = plans.check_plan(BASE, NAME)
    assert plan is not None
    assert problems == []


# -- the file itself ---------------------------------------------------------------------------

text, n = replace("  name: Testford Community Safety Partnership", "  name: [unclosed")
case("yaml syntax error", text,
     f"{F}:{n + 1}: this is not valid YAML: while parsing a flow sequence: did not find expected "
     "',' or ']'; check the indentation and quoting on this line and the one before it")

text, n = replace("    name: Testford Police", "\tname: Testford Police")
case("a tab in the indentation", text,
     f"{F}:{n}: this is not valid YAML: while scanning a plain scalar: found a tab character that "
     "violates indentation; check the indentation and quoting on this line and the one before it")

text, n = replace("        text: Reduce antisocial behaviour in town centres.",
                  "        text: Reduce antisocial behaviour: in town centres.")
case("an unquoted colon in text", text,
     f"{F}:{n}: this is not valid YAML: mapping values are not allowed in this context; check the "
     "indentation and quoting on this line and the one before it")

case("empty file", "", f"{F}:1: the file is empty; a plan starts with 'format: 1'")
case("only comments", "# a plan will go here\n\n",
     f"{F}:1: the file is empty; a plan starts with 'format: 1'")
case("top level is a list", "- format: 1\n- partnership: x\n",
     f"{F}:1: the plan must be a mapping of keys starting with 'format: 1', found a list")
case("top level is text", "Safer Testford\n",
     f"{F}:1: the plan must be a mapping of keys starting with 'format: 1', found "
     "'Safer Testford'")

latin1 = BASE.encode("utf-8").replace(b"Testford Police", b"Testford Caf\xe9 Police")
case("not UTF-8", latin1,
     f"{F}:{line_of(BASE, '    name: Testford Police')}: the file is not UTF-8 text; save it as "
     "UTF-8 (in most editors: Save as, Encoding: UTF-8)")

# -- format and the top level ------------------------------------------------------------------

text, n = delete("format: 1")
case("format missing", text, f"{F}:{n}: plan: missing required key 'format'")

text, n = replace("format: 1", "format: 2")
case("format 2", text,
     f"{F}:{n}: format: '2' is not supported; this tracker reads plan format 1 "
     "(write 'format: 1')")

text, n = replace("format: 1", 'format: "1"')
case("format as text", text,
     f"{F}:{n}: format: '1' is not supported; this tracker reads plan format 1 "
     "(write 'format: 1')")

text, n = replace("priorities:", "prioritys:")
case("top-level key typo", text,
     f"{F}:{n}: plan: unknown key 'prioritys'; did you mean 'priorities'?", exact=False)

text, n = replace("aims:", "goals:")
case("unknown top-level key", text,
     f"{F}:{n}: plan: unknown key 'goals'; allowed keys: aims, authorities, delivery, duties, "
     "format, groups, kpis, partnership, people, prevention_levels, principles, priorities, "
     "rules, themes")

text, n = replace("    name: Testford Police", "    name: Testford Police\n    name: Police")
case("duplicate key", text,
     f"{F}:{n + 1}: authority on line {n - 1}: key 'name' is given twice (also on line {n}); "
     "keep one")

# -- partnership -------------------------------------------------------------------------------

text, n = delete("  name: Testford Community Safety Partnership")
case("partnership name missing", text,
     # the error points at the partnership mapping, which starts on the line of its id
     f"{F}:{line_of(BASE, '  id: testford')}: partnership: missing required key 'name'")

text, n = replace("  name: Testford Community Safety Partnership", "  name:")
case("partnership name empty", text,
     f"{F}:{n}: partnership name: is empty; write the text after the colon")

text, n = replace("    ends: 2027-03-31", "    ends: 2023-03-31")
case("plan ends before it starts", text,
     f"{F}:{n}: partnership plan ends: 2023-03-31 is not after the start, 2024-04-01")

text, n = replace('  year_starts: "04-01"', '  year_starts: "13-01"')
case("year_starts month 13", text,
     f"{F}:{n}: partnership year_starts: '13-01' is not a day of the year; write it as MM-DD, "
     'e.g. "04-01" for 1 April (in quotes)')

text, n = replace('  year_starts: "04-01"', '  year_starts: "04-15"')
case("year_starts mid-month", text,
     f"{F}:{n}: partnership year_starts: a financial year must start on the first day of a "
     'month, e.g. "04-01" or "01-01"')

# -- ids ---------------------------------------------------------------------------------------

text, n = replace("      - id: a", "      - id: a.1")
case("an id with a dot", text,
     f"{F}:{n}: priority 1 commitment: id 'a.1' may only contain letters, digits and '-' "
     "(no dots, spaces or other signs)", exact=False)

text, n = replace("  - id: police", "  - id: the police")
case("an id with a space", text,
     f"{F}:{n}: authority: id 'the police' may only contain letters, digits and '-' "
     "(no dots, spaces or other signs)",
     # and so the actions it leads point at nothing
     f"{F}:{line_of(BASE, '      lead: police')}: delivery 2024/25 action TST-001 lead: "
     "authority police does not exist; known: charity, council")

text, n = replace("      - id: b", "      - id: a")
case("duplicate commitment id", text,
     f"{F}:{n}: commitment 1.a: commitment '1.a' is defined twice "
     f"(also on line {line_of(BASE, '      - id: a')}); ids must be unique", exact=False)

text, n = replace("  - id: charity", "  - id: police")
case("duplicate authority id", text,
     f"{F}:{n}: authority police: authority 'police' is defined twice "
     f"(also on line {line_of(BASE, '  - id: police')}); ids must be unique")

# -- groups ------------------------------------------------------------------------------------

text, n = replace("    reports_to: board", "    reports_to: bored")
case("reports_to a group that does not exist", text,
     f"{F}:{n}: group streets reports_to: group bored does not exist; did you mean 'board'?")

text, n = replace("    kind: thematic", "    kind: board")
case("two boards", text,
     f"{F}:{line_of(BASE, '  - id: streets')}: group streets: only one group may have kind: "
     f"board (group board on line {line_of(BASE, '  - id: board')} already does)")

text, n = replace("    kind: board", "    kind: thematic")
case("no board", text,
     f"{F}:{line_of(BASE, '  - id: board')}: groups: one group must have kind: board "
     "(the partnership board)")

text, n = replace("    kind: thematic", "    kind: thematc")
case("group kind typo", text,
     f"{F}:{n}: group streets kind: 'thematc' is not one of: board, thematic, forum; "
     "did you mean 'thematic'?")

# -- references from commitments and actions ---------------------------------------------------

text, n = replace("        themes: [vulnerability]", "        themes: [vulnerabilty]")
case("unknown theme on a commitment", text,
     f"{F}:{n}: commitment 1.a themes: theme vulnerabilty does not exist; "
     "did you mean 'vulnerability'?")

text, n = replace("        prevention: primary", "        prevention: secondary")
case("unknown prevention level", text,
     f"{F}:{n}: commitment 1.a prevention: prevention level secondary does not exist; "
     "known: primary, tertiary")

text, n = replace("      commitment: 1.a", "      commitment: 5.a")
case("action for a commitment that does not exist", text,
     # the contract's own example: 'delivery 2024/25 action SKP-014: commitment 5.a does not exist'
     f"{F}:{n}: delivery 2024/25 action TST-001: commitment 5.a does not exist; "
     "did you mean '1.a'?")

text, n = replace("      commitment: 1.b.i", "      commitment: 1.b.iv")
case("action for a part that does not exist", text,
     f"{F}:{n}: delivery 2024/25 action TST-002: commitment 1.b.iv does not exist; "
     "did you mean '1.b.i'?")

text, n = replace("      lead: police", "      lead: fire")
case("unknown lead agency", text,
     f"{F}:{n}: delivery 2024/25 action TST-001 lead: authority fire does not exist; "
     "known: charity, council, police")

text, n = replace("      kpis: [asb]", "      kpis: [abs]")
case("unknown KPI on an action", text,
     f"{F}:{n}: delivery 2024/25 action TST-001 kpis: KPI abs does not exist; "
     "did you mean 'asb'?")

# -- dates and years ---------------------------------------------------------------------------

text, n = replace("      starts: 2024-04-01", "      starts: 2025-02-30")
case("an impossible date", text,
     f"{F}:{n}: delivery 2024/25 action TST-001 starts: '2025-02-30' is not a date; "
     "write dates as YYYY-MM-DD, e.g. 2025-03-31")

text, n = replace("      starts: 2024-04-01", "      starts: 31/03/2025")
case("a date in the wrong format", text,
     f"{F}:{n}: delivery 2024/25 action TST-001 starts: '31/03/2025' is not a date; "
     "write dates as YYYY-MM-DD, e.g. 2025-03-31")

text, n = replace("      starts: 2024-04-01", "      starts: 2025-04-01")
case("due before it starts", text,
     f"{F}:{n + 1}: delivery 2024/25 action TST-001: due 2025-03-31 is before it starts, "
     "2025-04-01")

text, n = replace("  2024/25:", "  2024-26:")
case("delivery year written wrongly", text,
     f"{F}:{n}: delivery: '2024-26' is not a year: the second part must be the year after "
     "2024, as in 2024/25")

text, n = replace("  2024/25:", "  2024:")
case("delivery year as a calendar year in an April plan", text,
     f"{F}:{n}: delivery: '2024' is not a year: write it as 2025/26")

text, n = replace("  2024/25:", "  2030/31:")
case("delivery year outside the plan", text,
     f"{F}:{n}: delivery 2030/31: the year is outside the plan period (2024/25 to 2026/27)")

text, n = replace("    - id: TST-002", "    - id: TST-001")
case("duplicate action id in a year", text,
     f"{F}:{n}: delivery 2024/25 action TST-001: the id is used twice in 2024/25 (also on line "
     f"{line_of(BASE, '    - id: TST-001')}); action ids must be unique within a year")

text, n = replace("        - {title: Patrol plan agreed, due: 2024-06-30}",
                  "        - {title: Patrol plan agreed, due: 2024-06-30}\n"
                  "        - {title: Patrol plan agreed, due: 2024-07-31}")
case("duplicate milestone", text,
     f"{F}:{n}: delivery 2024/25 action TST-001: milestone 'Patrol plan agreed' is given twice; "
     "give each milestone a different title (or id)", exact=False)

# -- KPIs --------------------------------------------------------------------------------------

text, n = replace("    better: lower", '    better: "up"')
case("KPI better up", text, f"{F}:{n}: KPI asb better: 'up' is not one of: higher, lower")

text, n = replace("      2025/26: 360", "      next year: 360")
case("KPI target year not a year", text,
     f"{F}:{n}: KPI asb targets: 'next year' is not a year: write it as 2025/26")

text, n = replace("      2025/26: 360", "      2025: 360")
case("KPI target year as a calendar year in an April plan", text,
     f"{F}:{n}: KPI asb targets: '2025' is not a year: write it as 2025/26")

text, n = replace("    tolerance: 5", "    tolerance: -5")
case("KPI tolerance negative", text, f"{F}:{n}: KPI asb tolerance: must be at least 0, found -5")

text, n = replace("    tolerance: 5", "    tolerance: 150")
case("KPI tolerance over 100", text,
     f"{F}:{n}: KPI asb tolerance: is a percentage between 0 and 100, found 150")

text, n = replace("    tolerance: 5", "    tolerance: 5\n    target: 300")
case("KPI with targets and target", text,
     f"{F}:{n + 1}: KPI asb: give either targets (one per year) or target (one for the whole "
     "plan), not both")

text, n = replace("    frequency: quarterly", "    frequency: weekly")
case("KPI frequency", text,
     f"{F}:{n}: KPI asb frequency: 'weekly' is not one of: monthly, quarterly, annual")

# -- rules -------------------------------------------------------------------------------------

RAG_LINE = "    - {name: Past its due date, if: past_due, then: red}"
ESCALATE_LINE = "    - {name: Red twice, if: {rag: red, quarters: 2}, to: board}"

text, n = replace(RAG_LINE, "    - {name: Past its due date, if: past_du, then: red}")
case("rules condition typo", text,
     f"{F}:{n}: rules rag rule 'Past its due date': unknown condition 'past_du'; did you mean "
     "'past_due'? Conditions are: complete, past_due, no_update, concern, {rag: ...}, "
     "{self: ...}, {no_update: ...}, {kpi: ...}, {behind_schedule: ...}, {all: ...}, {any: ...}")

text, n = replace(RAG_LINE, "    - {name: Past its due date, if: past_due, then: purple}")
case("rag colour purple", text,
     f"{F}:{n}: rules rag rule 'Past its due date' then: 'purple' is not one of: red, amber, "
     "green, blue, grey, self")

text, n = replace("  rollup: worst", "  rollup: wrost")
case("rollup typo", text,
     f"{F}:{n}: rules rollup: 'wrost' is not one of: worst, majority, share; "
     "did you mean 'worst'?")

text, n = replace("  rollup: worst", "  rollup: worst\n  approval: lead")
case("approval", text, f"{F}:{n + 1}: rules approval: 'lead' is not one of: none, group_lead")

text, n = replace("    - {at: -7, to: owner}", "    - {at: -7, to: ownr}")
case("reminder to a recipient that is not one", text,
     f"{F}:{n}: rules reminder on line {n} to: 'ownr' is not a recipient; use owner, "
     "group_lead, board or an email address; did you mean 'owner'?")

text, n = replace(RAG_LINE, "    - {name: Complete, if: past_due, then: red}")
case("duplicate rag rule names", text,
     f"{F}:{n}: rules rag rule 'Complete': the name is used by the rule on line {n - 1} too; "
     "every rule needs its own name, since statuses record it")

text, n = replace(ESCALATE_LINE, "    - {name: Red twice, if: {rag: red, kpi: red}, to: board}")
case("a condition with two kinds", text,
     f"{F}:{n}: rules escalate rule 'Red twice': a condition mapping needs exactly one of rag, "
     "self, no_update, kpi, behind_schedule, all, any, found rag, kpi")

text, n = replace(ESCALATE_LINE, "    - {name: Red twice, if: {self: red, quarters: 2}, "
                                 "to: board}")
case("quarters without rag", text,
     f"{F}:{n}: rules escalate rule 'Red twice': 'quarters' goes only with 'rag'")

text, n = replace(ESCALATE_LINE, "    - {name: Behind, if: {behind_schedule: 150}, to: board}")
case("behind_schedule over 100", text,
     f"{F}:{n}: rules escalate rule 'Behind' behind_schedule: is a percentage up to 100, "
     "found 150")

# -- people ------------------------------------------------------------------------------------

text, n = replace("      owner: lead@example.org", "      owner: laed@example.org")
case("owner not in people", text,
     f"{F}:{n}: delivery 2024/25 action TST-002 owner: laed@example.org is not in people; "
     "add them to the people list or correct the address; did you mean 'lead@example.org'?")

text, n = replace("      owner: lead@example.org", "      owner: lead.example.org")
case("owner not an email address", text,
     f"{F}:{n}: delivery 2024/25 action TST-002 owner: 'lead.example.org' is not an email "
     "address")

text, n = replace("  - {email: admin@example.org, name: Ada Admin, role: admin}",
                  "  - {email: admin@example.org, name: Ada Admin, role: administrator}")
case("role typo", text,
     f"{F}:{n}: person admin@example.org role: 'administrator' is not one of: admin, board, "
     "lead, member")

CHAIR = "  - {email: chair@example.org, name: Chris Chair, role: board, groups: [board]}"
text, n = replace("  - {email: admin@example.org, name: Ada Admin, role: admin}",
                  "  - {email: Chair@Example.org, name: Ada Admin, role: admin}")
case("the same person twice, in other letters", text,
     f"{F}:{n}: person chair@example.org: person 'chair@example.org' is defined twice "
     f"(also on line {line_of(BASE, CHAIR)}); "
     "ids must be unique")


# -- the other shapes: periods are written the partnership's way ---------------------------------

CALENDAR = (DATA / "calendar.yaml").read_text(encoding="utf-8")
ROMAN = (DATA / "roman.yaml").read_text(encoding="utf-8")

text, n = replace("  2026:", "  2026/27:", CALENDAR)
case("an April-style year in a calendar-year plan", text,
     f"{F}:{n}: delivery: '2026/27' is not a year: write it as 2025")

text, n = replace("      2025 Q1: 480", "      2025/26 Q1: 480", CALENDAR)
case("an April-style quarter in a calendar-year plan", text,
     f"{F}:{n}: KPI treatment values: '2025/26 Q1' is not a quarter such as \"2025 Q1\"")

text, n = replace("      2025-04: 35", "      2025 Q1: 35", ROMAN)
case("a quarter for a monthly KPI", text,
     f"{F}:{n}: KPI scams values: '2025 Q1' is not a month such as 2025-04")

text, n = replace("      2025-04: 35", "      2025-13: 35", ROMAN)
case("month 13 for a monthly KPI", text,
     f"{F}:{n}: KPI scams values: '2025-13' is not a month such as 2025-04")

text, n = replace("      id: 1", "      id: 1.5", ROMAN)
case("a number with a dot as an id", text,
     f"{F}:{n}: delivery 2025/26 action: id '1.5' may only contain letters, digits and '-' "
     "(no dots, spaces or other signs)", exact=False)


@pytest.mark.parametrize("broken", CASES, ids=[c.name for c in CASES])
def test_refused(broken: Case) -> None:
    errors = errors_of(broken.text)
    if broken.exact:
        assert errors == list(broken.expected)
    else:
        for line in broken.expected:
            assert line in errors


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25


def test_parse_plan_raises_with_every_error() -> None:
    text, n = replace("    better: lower", '    better: "up"')
    with pytest.raises(plans.PlanError) as raised:
        plans.parse_plan(text, NAME)
    error = raised.value
    assert [str(p) for p in error.errors] == [
        f"{F}:{n}: KPI asb better: 'up' is not one of: higher, lower"]
    assert error.warnings == ()
    assert error.problems == error.errors
    assert str(error) == f"{F}:{n}: KPI asb better: 'up' is not one of: higher, lower"
    assert error.args == ("the plan file was refused with 1 error",)


def test_load_plan_of_a_missing_file() -> None:
    with pytest.raises(plans.PlanError) as raised:
        plans.load_plan("/nonexistent/plans.yaml", "plans.yaml")
    assert [str(p) for p in raised.value.errors] == [
        "plans.yaml:0: cannot read the file: No such file or directory"]


# -- hostile files: refused fast, with the line and the reason ---------------------------------

def _laughs(levels: int = 10) -> str:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines)


def test_billion_laughs_is_refused_quickly() -> None:
    text = BASE + _laughs() + "\n"
    first = len(BASE.splitlines()) + 1
    started = time.perf_counter()
    errors = refused(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    # lol6 is the first list that would expand past 2,000,000 values (about 5.3 million)
    assert [str(p) for p in errors] == [
        f"{F}:{first + 6}: the file expands to more than 2,000,000 values through its anchors (&) "
        "and aliases (*); write the repeated parts out instead"]
    assert "anchors" in errors[0].message and "aliases" in errors[0].message


def test_billion_laughs_through_merge_keys_is_refused_quickly() -> None:
    lines = ["format: 1", "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for i in range(1, 10):
        keys = ", ".join(f"k{j}: *m{i - 1}" for j in range(9))
        lines.append(f"m{i}: &m{i} {{<<: *m{i - 1}, {keys}}}")
    started = time.perf_counter()
    errors = refused("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert len(errors) == 1
    assert "anchors (&) and aliases (*)" in errors[0].message


def test_an_alias_inside_its_own_anchor() -> None:
    text, n = replace("aims:", "aims: &loop\n  - *loop")
    # the line of the anchor (&loop), which the message names
    assert errors_of(text) == [
        f"{F}:{n}: an alias refers to the anchor it is inside of; a plan cannot contain "
        "itself"]


def test_a_file_nested_100_levels_deep() -> None:
    text, n = replace("aims:", "aims:\n  - " + "[" * 100 + "]" * 100)
    assert errors_of(text) == [
        f"{F}:{n + 1}: the file is nested too deeply (more than 64 levels)"]


def test_a_block_mapping_nested_100_levels_deep() -> None:
    nested = "".join("  " * i + f"k{i}:\n" for i in range(1, 101))
    start = len(BASE.splitlines()) + 1
    errors = errors_of(BASE + "extra:\n" + nested)
    assert len(errors) == 1
    line, message = errors[0].removeprefix(f"{F}:").split(": ", 1)
    assert message == "the file is nested too deeply (more than 64 levels)"
    assert start + 60 <= int(line) <= start + 70     # where the nesting passes 64 levels


@pytest.mark.parametrize("alias", ["", "\nx-anchor: &a [1]\ny-alias: *a\n"])
def test_nesting_is_refused_at_one_line_whether_or_not_the_file_has_aliases(alias: str) -> None:
    # Without a * in the file only the depth is walked; with one, the alias walk: both
    # name the first value past 64 levels, in a mapping nested in a list nested in ...
    deep = "".join("  " * i + ("- " if i % 2 else "") + f"k{i}:\n" for i in range(1, 81))
    start = len(BASE.splitlines()) + 1
    errors = errors_of(BASE + alias + "extra:\n" + deep)
    line, message = errors[0].removeprefix(f"{F}:").split(": ", 1)
    assert message == "the file is nested too deeply (more than 64 levels)"
    assert [e.split(": ", 1)[1] for e in errors].count(message) == 1
    assert int(line) - start - alias.count("\n") == 63   # the line of k32 (- k32:)


def test_a_deeply_nested_flow_file_is_refused_not_crashed() -> None:
    errors = errors_of("format: 1\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert len(errors) == 1
    assert errors[0].startswith(f"{F}:2: this is not valid YAML")


def test_an_undefined_alias() -> None:
    text, n = replace("  - id: online", "  - id: *nothing")
    assert errors_of(text) == [
        f"{F}:{n}: this is not valid YAML: found undefined alias; check the indentation and "
        "quoting on this line and the one before it"]


# -- every problem at once, sorted by line -----------------------------------------------------

def test_several_problems_are_all_reported_sorted_by_line() -> None:
    # each change replaces one line by one line, so no line number moves
    text, rollup = replace("  rollup: worst", "  rollup: wrost")
    text, lead = replace("      lead: police", "      lead: fire", text)
    text, due = _replace_first_due(text)
    text, better = replace("    better: lower", "    better: up", text)
    text, goals = replace("aims:", "goals:", text)
    text, kind = replace("    kind: thematic", "    kind: thematc", text)
    text, ends = replace("    ends: 2027-03-31", "    ends: 2023-03-31", text)
    plan, problems = plans.check_plan(text, NAME)
    assert plan is None
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert [p.line for p in problems] == [ends, kind, goals, better, lead, due, rollup]
    assert [p.message.split(":")[0] for p in problems] == [
        "partnership plan ends", "group streets kind", "plan", "KPI asb better",
        "delivery 2024/25 action TST-001 lead", "delivery 2024/25 action TST-001 due",
        "rules rollup"]


def _replace_first_due(text: str) -> tuple[str, int]:
    """Replace the due date of TST-001 (the first `due: 2025-03-31` after its id)."""
    lines = text.splitlines()
    start = lines.index("    - id: TST-001")
    n = lines.index("      due: 2025-03-31", start)
    lines[n] = "      due: 31/03/2025"
    return "\n".join(lines) + "\n", n + 1


def test_unknown_key_in_a_commitment() -> None:
    text, n = replace("        prevention: primary", "        prevnetion: primary")
    commitment = line_of(BASE, "      - id: a")
    assert errors_of(text) == [
        f"{F}:{n}: priority 1 commitment on line {commitment}: unknown key 'prevnetion'; "
        "did you mean 'prevention'?"]
    text, n = replace("        prevention: primary", "        colour: red")
    assert errors_of(text) == [
        f"{F}:{n}: priority 1 commitment on line {commitment}: unknown key 'colour'; "
        "allowed keys: id, parts, prevention, text, themes"]


def test_a_reporting_cycle() -> None:
    text, n = insert_after("  - id: board", "    reports_to: forum")
    errors = errors_of(text)
    assert (f"{F}:{line_of(BASE, '  - id: board')}: group board: reports_to goes round in a "
            "circle (board -> forum -> streets -> board)") in errors
    assert all("reports_to goes round in a circle" in e for e in errors)


# -- once bugs in plans/, now fixed: what a user should see -----------------------------

def test_format_one_point_zero_is_refused() -> None:
    text, n = replace("format: 1", "format: 1.0")
    assert errors_of(text) == [
        f"{F}:{n}: format: '1.0' is not supported; this tracker reads plan format 1 "
        "(write 'format: 1')"]


def test_an_iso_week_date_is_refused() -> None:
    text, n = replace("      starts: 2024-04-01", "      starts: 2024-W14-1")
    assert errors_of(text) == [
        f"{F}:{n}: delivery 2024/25 action TST-001 starts: '2024-W14-1' is not a date; "
        "write dates as YYYY-MM-DD, e.g. 2025-03-31"]


@pytest.mark.parametrize(("old", "new", "where"), [
    ("    - {at: -7, to: owner}", "    - {at: -7, to: []}", "rules reminder on line {n} to"),
    (ESCALATE_LINE, "    - {name: Red twice, if: {rag: red, quarters: 2}, to: []}",
     "rules escalate rule 'Red twice' to"),
], ids=["reminder", "escalation"])
def test_an_empty_recipient_list_is_refused(old: str, new: str, where: str) -> None:
    text, n = replace(old, new)
    assert errors_of(text) == [f"{F}:{n}: {where.format(n=n)}: name at least one recipient"]


def test_a_merge_of_something_that_is_not_a_mapping_is_refused() -> None:
    text, n = insert_after("    - id: TST-002", "      <<: defaults")
    plan, problems = plans.check_plan(text, NAME)
    assert plan is None
    assert any(p.line == n and ("<<" in p.message or "merge" in p.message) for p in problems)


def test_a_duplicate_principle_points_at_the_duplicate() -> None:
    text, n = insert_after(
        "  - {id: collaboration, name: Collaboration, text: We work together.}",
        "  - {id: collaboration, name: Working together}")
    errors = errors_of(text)
    assert len(errors) == 1
    assert errors[0].startswith(f"{F}:{n}: principle collaboration: ")
    assert f"also on line {n - 1}" in errors[0]


def test_no_board_is_reported_beside_an_unrelated_earlier_error() -> None:
    text, name_line = replace("  name: Testford Community Safety Partnership", "  name:")
    text, _ = replace("    kind: board", "    kind: thematic", text)
    assert errors_of(text) == [
        f"{F}:{name_line}: partnership name: is empty; write the text after the colon",
        f"{F}:{line_of(BASE, '  - id: board')}: groups: one group must have kind: board "
        "(the partnership board)",
    ]


@pytest.mark.parametrize("changes", [
    [("    - id: TST-002", "    - id: TST 002"), ("      lead: council", "      lead: counsil")],
    [("      - id: a", "      - id: a.1"),
     ("        themes: [vulnerability]", "        themes: [vulnerabilty]")],
    [(RAG_LINE, "    - {if: past_du, then: red}")],
], ids=["action", "commitment", "rag rule"])
def test_messages_never_say_none(changes: list[tuple[str, str]]) -> None:
    text = BASE
    for old, new in changes:
        text, _ = replace(old, new, text)
    errors = errors_of(text)
    assert len(errors) >= 2
    assert [e for e in errors if "None" in e] == []


def test_an_unrelated_email_gets_no_suggestion() -> None:
    text, n = replace("      owner: lead@example.org", "      owner: nobody@example.org")
    assert errors_of(text) == [
        f"{F}:{n}: delivery 2024/25 action TST-002 owner: nobody@example.org is not in people; "
        "add them to the people list or correct the address"]
