"""The plan's rules, as typed values: conditions, RAG rules, reminders and escalations.

Rules are declared in the plan file, never code. Every key has a documented default
(``DEFAULT_RULES``), which applies wherever the file leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Colour = Literal["red", "amber", "green", "blue", "grey"]
COLOURS: tuple[Colour, ...] = ("red", "amber", "green", "blue", "grey")
Rollup = Literal["worst", "majority", "share"]
ROLLUPS: tuple[Rollup, ...] = ("worst", "majority", "share")
Approval = Literal["none", "group_lead"]
APPROVALS: tuple[Approval, ...] = ("none", "group_lead")
ChangeApproval = Literal["group_lead", "board"]
CHANGE_APPROVALS: tuple[ChangeApproval, ...] = ("group_lead", "board")
RECIPIENT_ROLES = ("owner", "group_lead", "board")


def as_colour(value: str) -> Colour:
    """A colour read back from storage (a plain string there), checked to be a colour."""
    if value not in COLOURS:
        raise ValueError(f"Not a status colour: {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Complete:
    """The action is complete (100% or rated complete)."""


@dataclass(frozen=True, slots=True)
class PastDue:
    """The quarter ends after the action's due date and it is not complete."""


@dataclass(frozen=True, slots=True)
class NoUpdate:
    """No update was recorded for the quarter."""


@dataclass(frozen=True, slots=True)
class Concern:
    """The latest update flags an area of concern."""


@dataclass(frozen=True, slots=True)
class RagFor:
    """The action's status was ``rag`` for ``quarters`` quarters running."""

    rag: Colour
    quarters: int = 1


@dataclass(frozen=True, slots=True)
class SelfIs:
    """The owner's own RAG assessment is ``rag``."""

    rag: Colour


@dataclass(frozen=True, slots=True)
class NoUpdateFor:
    """No update for ``quarters`` quarters running."""

    quarters: int


@dataclass(frozen=True, slots=True)
class KpiIs:
    """A linked KPI has status ``rag``."""

    rag: Colour


@dataclass(frozen=True, slots=True)
class BehindSchedule:
    """Reported progress is below ``percent`` of the straight-line expectation."""

    percent: float


@dataclass(frozen=True, slots=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    conditions: tuple[Condition, ...]


Condition = (
    Complete | PastDue | NoUpdate | Concern | RagFor | SelfIs | NoUpdateFor | KpiIs
    | BehindSchedule | AllOf | AnyOf
)

SIMPLE_CONDITIONS: dict[str, Condition] = {
    "complete": Complete(),
    "past_due": PastDue(),
    "no_update": NoUpdate(),
    "concern": Concern(),
}
MAPPING_CONDITIONS = ("rag", "self", "no_update", "kpi", "behind_schedule", "all", "any")


@dataclass(frozen=True, slots=True)
class CalendarRules:
    update_due_days: int = 15
    window_opens_days: int = 14


@dataclass(frozen=True, slots=True)
class Reminder:
    at: int
    to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RagRule:
    name: str
    condition: Condition | None
    then: Colour | Literal["self"]


@dataclass(frozen=True, slots=True)
class EscalationRule:
    name: str
    condition: Condition
    to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rules:
    calendar: CalendarRules = CalendarRules()
    reminders: tuple[Reminder, ...] = (
        Reminder(-7, ("owner",)),
        Reminder(1, ("owner",)),
        Reminder(7, ("owner", "group_lead")),
    )
    rag: tuple[RagRule, ...] = (
        RagRule("Complete", Complete(), "blue"),
        RagRule("Past its due date", PastDue(), "red"),
        RagRule("No update", NoUpdate(), "grey"),  # its own status, not a judgement
        RagRule("As assessed by the lead", None, "self"),
    )
    rollup: Rollup = "worst"
    approval: Approval = "none"
    escalate: tuple[EscalationRule, ...] = (
        EscalationRule("Red two quarters running", RagFor("red", 2), ("board",)),
        EscalationRule("Flagged as an area of concern", Concern(), ("board",)),
        EscalationRule("No update two quarters running", NoUpdateFor(2), ("group_lead",)),
        EscalationRule("KPI off target", KpiIs("red"), ("group_lead",)),
    )
    # who decides a request for a revised due date or KPI target: the lead of the item's
    # group, or the board (whose decision an admin records)
    change_approval: ChangeApproval = "group_lead"


DEFAULT_RULES = Rules()


def describe_condition(condition: Condition | None) -> str:
    """Plain English for a condition, as shown to readers of a status."""
    match condition:
        case None:
            return "always"
        case Complete():
            return "the action is complete"
        case PastDue():
            return "the action is past its due date"
        case NoUpdate():
            return "no update was given for the quarter"
        case Concern():
            return "the update flags an area of concern"
        case RagFor(rag, 1):
            return f"the status is {rag}"
        case RagFor(rag, quarters):
            return f"the status was {rag} for {quarters} quarters running"
        case SelfIs(rag):
            return f"the owner rated it {rag}"
        case NoUpdateFor(quarters):
            return f"no update for {quarters} quarters running"
        case KpiIs(rag):
            return f"a linked KPI is {rag}"
        case BehindSchedule(percent):
            return f"progress is below {percent:g}% of what the schedule expects"
        case AllOf(conditions):
            return " and ".join(describe_condition(c) for c in conditions)
        case AnyOf(conditions):
            return " or ".join(describe_condition(c) for c in conditions)
    raise AssertionError(f"unknown condition {condition!r}")  # pragma: no cover
