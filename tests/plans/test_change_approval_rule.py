"""``rules.change_approval``: who decides a request for a revised due date or KPI target.

The key is optional (``group_lead`` when left out), takes ``group_lead`` or ``board``, and
anything else is refused like every other rule, on its line, with a "did you mean".
"""

from __future__ import annotations

import pytest
from plantest import BASE, KINGSTON, NAME, accepted, errors_of, replace

from plans.rules import CHANGE_APPROVALS, DEFAULT_RULES

ROLLUP = "  rollup: worst"


def test_left_out_the_group_lead_decides() -> None:
    assert DEFAULT_RULES.change_approval == "group_lead"
    assert CHANGE_APPROVALS == ("group_lead", "board")
    assert "change_approval" not in BASE
    assert accepted(BASE).rules.change_approval == "group_lead"
    assert accepted(KINGSTON.read_text(encoding="utf-8")).rules.change_approval == "group_lead"


@pytest.mark.parametrize("value", ["group_lead", "board"])
def test_either_value_is_read(value: str) -> None:
    text, _ = replace(ROLLUP, f"{ROLLUP}\n  change_approval: {value}")
    plan = accepted(text)
    assert plan.rules.change_approval == value
    assert plan.rules.rollup == "worst"  # the other rules are read as before


def test_a_value_that_is_not_one_is_refused_with_a_suggestion() -> None:
    text, n = replace(ROLLUP, f"{ROLLUP}\n  change_approval: boards")
    assert errors_of(text) == [
        f"{NAME}:{n + 1}: rules change_approval: 'boards' is not one of: group_lead, board; "
        "did you mean 'board'?"]
    text, n = replace(ROLLUP, f"{ROLLUP}\n  change_approval: the chair")
    assert errors_of(text) == [
        f"{NAME}:{n + 1}: rules change_approval: 'the chair' is not one of: group_lead, board"]


def test_a_misspelt_key_is_refused_with_a_suggestion() -> None:
    text, n = replace(ROLLUP, f"{ROLLUP}\n  change_aproval: board")
    assert errors_of(text) == [
        f"{NAME}:{n + 1}: rules: unknown key 'change_aproval'; did you mean 'change_approval'?"]
