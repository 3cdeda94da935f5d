"""Roll-ups from actions to commitments, priorities and themes: worst, majority and share."""

from __future__ import annotations

import pytest

from plans.rollup import SEVERITY, SHARE_GREEN_PERCENT, SHARE_RED_PERCENT, rollup
from plans.rules import Colour
from plans.rules import Rollup as RollupMethod


def items(*colours: Colour) -> list[tuple[str, Colour]]:
    """Actions SKP-001, SKP-002 ... with the given colours, in order."""
    return [(f"SKP-{n:03d}", colour) for n, colour in enumerate(colours, start=1)]


CASES: list[tuple[RollupMethod, list[tuple[str, Colour]], Colour, str]] = [
    # worst
    ("worst", items("green", "amber", "red", "green", "red"), "red",
     "Worst of 5 actions: SKP-003 is Red"),
    ("worst", items("green", "amber", "green"), "amber", "Worst of 3 actions: SKP-002 is Amber"),
    ("worst", items("blue", "green", "blue"), "green", "Worst of 3 actions: SKP-002 is Green"),
    ("worst", items("blue", "blue"), "blue", "Both actions are Complete"),
    ("worst", items("grey", "green", "amber", "grey"), "amber",
     "Worst of 2 actions: SKP-003 is Amber; 2 without a status not counted"),
    ("worst", items("grey", "red"), "red", "SKP-002 is Red; 1 without a status not counted"),
    ("worst", items("amber"), "amber", "SKP-001 is Amber"),
    # majority
    ("majority", items("green", "green", "amber", "green", "red", "green", "blue", "green"),
     "green", "Most of 8 actions are Green (5 of 8)"),
    ("majority", items("red", "green", "green", "blue"), "green",
     "Most of 4 actions are Green (2 of 4)"),
    ("majority", items("green", "red", "green", "red"), "red",
     "No single most common colour among 4 actions: Red and Green tie at 2 each, so the worse, "
     "Red"),
    ("majority", items("blue", "amber", "green"), "amber",
     "No single most common colour among 3 actions: Amber, Green and Complete tie at 1 each, "
     "so the worse, Amber"),
    ("majority", items("blue", "blue", "green", "green"), "green",
     "No single most common colour among 4 actions: Green and Complete tie at 2 each, so the "
     "worse, Green"),
    ("majority", items("amber", "amber", "amber"), "amber", "All 3 actions are Amber"),
    ("majority", items("grey", "grey", "grey", "red", "green", "green"), "green",
     "Most of 3 actions are Green (2 of 3); 3 without a status not counted"),
    # share: 25% red makes red, exactly at the threshold
    ("share", items("red", "green", "green", "green"), "red",
     "1 of 4 actions is Red (25% or more)"),
    ("share", items("red", "green", "green", "green", "green"), "green",
     "4 of 5 actions are Green or Complete (75% or more)"),
    ("share", items("red", "amber", "green", "green", "green", "green", "green", "blue", "blue"),
     "green", "7 of 9 actions are Green or Complete (75% or more)"),
    # 75% green or complete makes green, exactly at the threshold
    ("share", items("green", "blue", "green", "amber"), "green",
     "3 of 4 actions are Green or Complete (75% or more)"),
    ("share", items("green", "blue", "amber", "amber"), "amber",
     "2 of 4 actions are Green or Complete (fewer than 75%) and none is Red (fewer than 25%)"),
    ("share", items("red", "amber", "green", "green", "green", "green", "green"), "amber",
     "5 of 7 actions are Green or Complete (fewer than 75%) and 1 is Red (fewer than 25%)"),
    ("share", items("blue", "blue", "blue"), "blue", "All 3 actions are Complete"),
    ("share", items("blue", "blue", "green", "blue"), "green",
     "4 of 4 actions are Green or Complete (75% or more)"),
    ("share", items("red", "red", "blue", "blue", "blue", "blue", "blue", "blue"), "red",
     "2 of 8 actions are Red (25% or more)"),
    ("share", items("grey", "red", "green", "green", "green"), "red",
     "1 of 4 actions is Red (25% or more); 1 without a status not counted"),
]


@pytest.mark.parametrize(("method", "given", "colour", "reason"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rollup(method: RollupMethod, given: list[tuple[str, Colour]], colour: Colour,
                reason: str) -> None:
    result = rollup(method, given)
    assert (result.colour, result.reason) == (colour, reason)


@pytest.mark.parametrize("method", ["worst", "majority", "share"])
def test_no_items_is_grey(method: RollupMethod) -> None:
    result = rollup(method, [])
    assert (result.colour, result.reason) == ("grey", "No actions")
    assert dict(result.counts) == {"red": 0, "amber": 0, "green": 0, "blue": 0, "grey": 0}


@pytest.mark.parametrize("method", ["worst", "majority", "share"])
@pytest.mark.parametrize(("given", "reason"), [
    (items("grey", "grey", "grey"), "None of 3 actions has a status yet"),
    (items("grey"), "SKP-001 has no status yet"),
])
def test_all_grey_is_grey(method: RollupMethod, given: list[tuple[str, Colour]],
                          reason: str) -> None:
    result = rollup(method, given)
    assert (result.colour, result.reason) == ("grey", reason)


def test_counts_every_colour() -> None:
    result = rollup("worst", items("red", "grey", "green", "green", "blue"))
    assert dict(result.counts) == {"red": 1, "amber": 0, "green": 2, "blue": 1, "grey": 1}
    with pytest.raises(TypeError):
        result.counts["red"] = 5  # type: ignore[index]


def test_thresholds_and_severity_are_documented_constants() -> None:
    assert (SHARE_RED_PERCENT, SHARE_GREEN_PERCENT) == (25, 75)
    assert SEVERITY == ("red", "amber", "green", "blue")


def test_unknown_method_or_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown roll-up method 'best'"):
        rollup("best", items("red"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SKP-001: unknown colour 'pink'"):
        rollup("worst", [("SKP-001", "pink")])  # type: ignore[list-item]
