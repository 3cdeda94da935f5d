"""Status histories: an action's, commitment's or priority's stored status quarter by
quarter, for the strips of quarters the board's pages show beside each item.

Read in one query for the items a page shows (never the whole plan's), from what is stored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Quarter
from plans.engine import NOT_STARTED, status_word
from plans.rules import as_colour
from tracker.models import ActionStatus, RollupStatus

LETTERS = {"red": "R", "amber": "A", "green": "G", "blue": "C", "grey": "N"}


@dataclass(frozen=True)
class Step:
    """One quarter of a strip: its label, colour and word ("No update" for a grey one)."""

    quarter: str
    colour: str
    word: str

    @property
    def letter(self) -> str:
        """What the strip shows in the quarter's box, beside the colour: R, A, G, C, N."""
        return "–" if self.word == NOT_STARTED else LETTERS.get(self.colour, "–")


History = list[Step]
NOTHING = "No status"


def _steps(found: dict[str, tuple[str, str]], quarters: list[Quarter]) -> History:
    steps = []
    for quarter in quarters:
        colour, word = found.get(quarter.label, ("grey", NOTHING))
        steps.append(Step(quarter.label, colour, word))
    return steps


def of_actions(session: Session, action_ids: Collection[int], quarters: list[Quarter]
               ) -> dict[int, History]:
    """Each action's status in each of ``quarters`` (a quarter with none: "No status")."""
    if not action_ids or not quarters:
        return {}
    s = ActionStatus
    found: dict[int, dict[str, tuple[str, str]]] = {i: {} for i in action_ids}
    for action_id, label, colour, rule in session.execute(
            select(s.action_id, s.quarter, s.colour, s.rule).where(
                s.action_id.in_(list(action_ids)),
                s.quarter.in_([q.label for q in quarters]))):
        found[action_id][label] = (colour, status_word(as_colour(colour), rule))
    return {action_id: _steps(by_quarter, quarters) for action_id, by_quarter in found.items()}


def of_rollups(session: Session, item_type: str, item_ids: Collection[int],
               quarters: list[Quarter]) -> dict[int, History]:
    """Each commitment's or priority's rolled-up status in each of ``quarters``."""
    if not item_ids or not quarters:
        return {}
    r = RollupStatus
    found: dict[int, dict[str, tuple[str, str]]] = {i: {} for i in item_ids}
    for item_id, label, colour in session.execute(
            select(r.item_id, r.quarter, r.colour).where(
                r.item_type == item_type, r.item_id.in_(list(item_ids)),
                r.quarter.in_([q.label for q in quarters]))):
        found[item_id][label] = (colour, status_word(colour, "No update"))  # type: ignore[arg-type]
    return {item_id: _steps(by_quarter, quarters) for item_id, by_quarter in found.items()}


def of_rows(rows: Collection[ActionStatus]) -> History:
    """A strip from an action's stored statuses (any order), oldest first."""
    return [Step(row.quarter, row.colour, status_word(row.colour, row.rule))  # type: ignore[arg-type]
            for row in sorted(rows, key=lambda r: r.quarter)]


def last(quarters: list[Quarter], quarter: Quarter, count: int = 8) -> list[Quarter]:
    """The ``count`` quarters up to and including ``quarter``."""
    upto = [q for q in quarters if q <= quarter]
    return upto[-count:]
