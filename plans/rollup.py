"""Roll-ups: many actions' statuses become one status for a commitment, priority or theme.

The plan's ``rules: rollup`` picks the method. Colours are ranked by severity, worst first:
red, amber, green, blue (complete). Grey items (not started, or no status yet) are left out of
the sums; only when every item is grey is the roll-up grey. With no items at all the roll-up
is grey, "No actions".

``worst``
    The worst colour present. The reason names the first item with it:
    "Worst of 5 actions: SKP-003 is Red".
``majority``
    The most common colour; a tie goes to the worse colour:
    "Most of 8 actions are Green (5 of 8)".
``share``
    Blue when every item is blue; red when at least ``SHARE_RED_PERCENT`` (25%) are red; green
    when at least ``SHARE_GREEN_PERCENT`` (75%) are green or blue; amber otherwise:
    "3 of 4 actions are Green or Complete (75% or more)".

The counts and shares are of the items with a status; when grey items were left out the
reason says so, e.g. "; 2 without a status not counted". When only one item has a status,
the roll-up is its colour whatever the method, and the reason names it: "SKP-003 is Red".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from types import MappingProxyType

from plans.engine import colour_word
from plans.rules import COLOURS, ROLLUPS, Colour
from plans.rules import Rollup as RollupMethod

SEVERITY: tuple[Colour, ...] = ("red", "amber", "green", "blue")
"""The colours that count in a roll-up, worst first. Grey is left out."""
_KNOWN = frozenset(COLOURS)
SHARE_RED_PERCENT = 25
"""``share``: the roll-up is red when at least this percentage of the items are red."""
SHARE_GREEN_PERCENT = 75
"""``share``: the roll-up is green when at least this percentage are green or complete."""

__all__ = [
    "SEVERITY",
    "SHARE_GREEN_PERCENT",
    "SHARE_RED_PERCENT",
    "Rollup",
    "RollupMethod",
    "rollup",
    "severity",
]


@dataclass(frozen=True, slots=True)
class Rollup:
    """The rolled-up status of a group of items, and why."""

    colour: Colour
    counts: Mapping[Colour, int]
    """How many items of each colour (every colour is present, zero when none)."""
    reason: str


def severity(colour: Colour) -> int:
    """0 for red (the worst) up to 3 for blue; grey, which has no severity, is 4."""
    return SEVERITY.index(colour) if colour in SEVERITY else len(SEVERITY)


def _actions(count: int) -> str:
    return f"{count} action" if count == 1 else f"{count} actions"


def _all(count: int) -> str:
    """The start of "all are": ``Both actions are``, ``All 3 actions are``."""
    return "Both actions are" if count == 2 else f"All {count} actions are"


def _verb(count: int) -> str:
    return "is" if count == 1 else "are"


def rollup(method: RollupMethod, items: Sequence[tuple[str, Colour]]) -> Rollup:
    """Roll ``items`` (ref, colour), in display order, up into one status by ``method``.

    Raises ``ValueError`` for an unknown method or colour.
    """
    if method not in ROLLUPS:
        raise ValueError(f"unknown roll-up method '{method}': use {', '.join(ROLLUPS)}")
    # counted in C: at 10,000 actions a dashboard rolls up forty thousand items
    tally = Counter(map(itemgetter(1), items))
    unknown = tally.keys() - _KNOWN
    if unknown:
        ref, colour = next((ref, colour) for ref, colour in items if colour in unknown)
        raise ValueError(f"{ref}: unknown colour '{colour}'")
    counts = dict.fromkeys(COLOURS, 0)
    counts.update(tally)
    frozen = MappingProxyType(counts)
    if not items:
        return Rollup("grey", frozen, "No actions")
    total = len(items) - counts["grey"]
    if total == 0:
        reason = (f"None of {_actions(len(items))} has a status yet" if len(items) > 1
                  else f"{items[0][0]} has no status yet")
        return Rollup("grey", frozen, reason)
    left_out = len(items) - total
    note = f"; {left_out} without a status not counted" if left_out else ""
    if total == 1:
        ref, colour = next((ref, colour) for ref, colour in items if colour != "grey")
        reason = f"{ref} is {colour_word(colour)}"
    elif method == "worst":
        colour, reason = _worst(items, total, counts)
    elif method == "majority":
        colour, reason = _majority(total, counts)
    else:
        colour, reason = _share(total, counts)
    return Rollup(colour, frozen, reason + note)


def _worst(items: Sequence[tuple[str, Colour]], total: int,
           counts: Mapping[Colour, int]) -> tuple[Colour, str]:
    """``total``: how many of ``items`` are not grey."""
    if counts["blue"] == total:
        return "blue", f"{_all(total)} Complete"
    colour = next(c for c in SEVERITY if counts[c])
    first = next(ref for ref, got in items if got == colour)
    return colour, f"Worst of {_actions(total)}: {first} is {colour_word(colour)}"


def _majority(total: int, counts: Mapping[Colour, int]) -> tuple[Colour, str]:
    most = max(counts[c] for c in SEVERITY)
    tied = [c for c in SEVERITY if counts[c] == most]   # worst first
    colour = tied[0]
    if len(tied) == 1:
        if most == total:
            return colour, f"{_all(total)} {colour_word(colour)}"
        return colour, (f"Most of {_actions(total)} are {colour_word(colour)} "
                        f"({most} of {total})")
    words = _and([colour_word(c) for c in tied])
    return colour, (f"No single most common colour among {_actions(total)}: {words} tie at "
                    f"{most} each, so the worse, {colour_word(colour)}")


def _share(total: int, counts: Mapping[Colour, int]) -> tuple[Colour, str]:
    red = counts["red"]
    good = counts["green"] + counts["blue"]
    of = f"of {_actions(total)}"
    if counts["blue"] == total:
        return "blue", f"{_all(total)} Complete"
    if red * 100 >= SHARE_RED_PERCENT * total:
        return "red", f"{red} {of} {_verb(red)} Red ({SHARE_RED_PERCENT}% or more)"
    if good * 100 >= SHARE_GREEN_PERCENT * total:
        return "green", (f"{good} {of} {_verb(good)} Green or Complete "
                         f"({SHARE_GREEN_PERCENT}% or more)")
    reds = f"{red or 'none'} {_verb(max(red, 1))} Red"
    return "amber", (f"{good} {of} {_verb(good)} Green or Complete (fewer than "
                     f"{SHARE_GREEN_PERCENT}%) and {reds} (fewer than {SHARE_RED_PERCENT}%)")


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
