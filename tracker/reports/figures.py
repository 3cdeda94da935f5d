"""What the board sees of a quarter, as plain objects: counts by status, the rows of
actions, commitments and priorities, escalations and KPIs, and the :class:`Dashboard` that
holds them. :mod:`tracker.reports.dashboard` builds them from the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from plans import Quarter
from plans.engine import status_word
from plans.rollup import severity

COLOURS = ("red", "amber", "green", "blue", "grey")
WORDS = {"red": "Red", "amber": "Amber", "green": "Green", "blue": "Complete",
         "grey": "No update"}
"""How a status is written on the board's pages (a status is never colour alone)."""
CHANGES = {
    "newly_red": "Newly Red",
    "worsened": "Worsened",
    "improved": "Improved",
    "completed": "Completed",
}
"""The kinds of change since the previous quarter, in the order the board reads them."""


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class QuarterUnknown(ValueError):
    """A quarter was asked for that the plan has no statuses for."""


# -- filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the board narrowed the view to; each is a ref (or a colour), empty for all."""

    group: str = ""
    lead: str = ""
    theme: str = ""
    status: str = ""

    NAMES = ("group", "lead", "theme", "status")

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        return cls(**{name: (args.get(name) or "").strip() for name in cls.NAMES})

    def args(self) -> dict[str, str]:
        """The filters as URL query arguments (empty ones left out)."""
        return {name: getattr(self, name) for name in self.NAMES if getattr(self, name)}

    @property
    def active(self) -> bool:
        return bool(self.args())


@dataclass(frozen=True)
class Option:
    value: str
    text: str


# -- what the board sees --------------------------------------------------------------------


@dataclass
class Counts:
    """How many items have each status."""

    by_colour: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))

    def add(self, colour: str, count: int = 1) -> None:
        self.by_colour[colour] = self.by_colour.get(colour, 0) + count

    @property
    def total(self) -> int:
        return sum(self.by_colour.values())

    def items(self) -> list[tuple[str, str, int]]:
        """(colour, word, count) for every colour, worst first."""
        return [(c, WORDS[c], self.by_colour.get(c, 0)) for c in COLOURS]

    def __getitem__(self, colour: str) -> int:
        return self.by_colour.get(colour, 0)

    def sentence(self) -> str:
        """``3 Red, 5 Amber, 10 Green, 1 Complete, 2 No update`` (zeros left out)."""
        parts = [f"{n} {word}" for _, word, n in self.items() if n]
        return ", ".join(parts) if parts else "none"


@dataclass(slots=True)
class UpdateView:
    """The update that counts for the quarter, as the board reads it."""

    rag: str
    percent_complete: int
    narrative: str
    next_steps: str
    risks: str
    corrective_action: str
    is_concern: bool
    concern_reason: str
    author: str
    submitted: date

    @classmethod
    def without_words(cls, is_concern: bool) -> UpdateView:
        """An update known only to count, and whether it is an area of concern."""
        return cls("", 0, "", "", "", "", is_concern, "", "", date.min)


@dataclass(slots=True)
class ActionRow:
    id: int
    ref: str
    title: str
    commitment_ref: str
    priority_ref: str
    owner: str
    owner_email: str
    lead: str
    lead_ref: str
    group: str
    group_ref: str
    theme_refs: frozenset[str]
    due: date
    colour: str
    rule: str
    reason: str
    has_update: bool
    previous: str | None
    """The colour in the previous quarter; None when there is no previous quarter or the
    action had not started."""
    update: UpdateView | None
    change: str | None = None
    """One of :data:`CHANGES`' keys, or None."""
    baseline_due: date | None = None
    """The plan's own due date, when an approved change request revised it (``due``)."""
    detailed: bool = True
    """Whether its words (its status's reason, its update's text) were read: see
    :func:`tracker.reports.dashboard.detailed`."""

    @property
    def word(self) -> str:
        """Its status's word: a grey one by its rule's ("No update")."""
        return status_word(self.colour, self.rule)  # type: ignore[arg-type]

    @property
    def is_unreported(self) -> bool:
        """No update counts for the quarter, and that (not a date) is its status."""
        return self.colour == "grey" and not self.has_update

    @property
    def previous_word(self) -> str:
        return WORDS.get(self.previous, "") if self.previous else "Not started"

    @property
    def is_concern(self) -> bool:
        return self.update is not None and self.update.is_concern

    @property
    def is_exception(self) -> bool:
        """What the board reads first: Red or Amber, or flagged as an area of concern."""
        return self.colour in ("red", "amber") or self.is_concern


@dataclass
class CommitmentRow:
    id: int
    ref: str
    text: str
    priority_ref: str
    parent_ref: str | None
    theme_refs: frozenset[str]
    colour: str = "grey"
    reason: str = "No actions"
    counts: Counts = field(default_factory=Counts)
    actions: list[ActionRow] = field(default_factory=list)

    @property
    def word(self) -> str:
        return WORDS[self.colour]


@dataclass
class PriorityRow:
    id: int
    ref: str
    title: str
    colour: str = "grey"
    reason: str = "No actions"
    action_counts: Counts = field(default_factory=Counts)
    commitment_counts: Counts = field(default_factory=Counts)
    commitments: list[CommitmentRow] = field(default_factory=list)
    changes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANGES, 0))
    """How many of its actions changed in each way since the previous quarter."""

    @property
    def word(self) -> str:
        return WORDS[self.colour]

    @cached_property
    def actions(self) -> list[ActionRow]:
        """Its actions (an action of a part once), known once its commitments are set."""
        seen: dict[int, ActionRow] = {}
        for commitment in self.commitments:
            for row in commitment.actions:
                seen.setdefault(row.id, row)
        return list(seen.values())


@dataclass
class ThemeCell:
    commitments: int = 0
    actions: int = 0
    counts: Counts = field(default_factory=Counts)
    colour: str = "grey"
    reason: str = "No actions"

    @property
    def word(self) -> str:
        return WORDS[self.colour]


@dataclass
class EscalationRow:
    id: int
    action: ActionRow
    rule: str
    reason: str
    to: list[str]
    raised_in: str
    last_quarter: str
    is_open: bool

    @property
    def to_board(self) -> bool:
        return "board" in self.to

    @property
    def to_words(self) -> str:
        """``Board, Group lead``."""
        return ", ".join(w.replace("_", " ").capitalize() for w in self.to)


@dataclass
class KpiRow:
    ref: str
    name: str
    status: str
    reason: str
    value: str
    target: str
    period: str
    direction: str
    priority_refs: frozenset[str]

    @property
    def word(self) -> str:
        return {"red": "Red", "amber": "Amber", "green": "Green"}.get(self.status, "No data")


@dataclass
class Dashboard:
    plan_title: str
    partnership: str
    quarter: Quarter
    previous: Quarter | None
    quarters: list[Quarter]
    """Every quarter the board can choose, oldest first."""
    is_current: bool
    filters: Filters
    filter_problems: list[str]
    options: dict[str, list[Option]]
    priorities: list[PriorityRow]
    themes: list[tuple[str, str]]
    """(ref, name) of each theme, in the plan's order."""
    theme_grid: dict[tuple[str, str], ThemeCell]
    """By (theme ref, priority ref)."""
    escalations: list[EscalationRow]
    kpis: list[KpiRow]
    due: date
    today: date

    # -- derived views ------------------------------------------------------------------

    @cached_property
    def actions(self) -> list[ActionRow]:
        seen: dict[int, ActionRow] = {}
        for priority in self.priorities:
            for row in priority.actions:
                seen.setdefault(row.id, row)
        return list(seen.values())

    @cached_property
    def action_counts(self) -> Counts:
        counts = Counts()
        for row in self.actions:
            counts.add(row.colour)
        return counts

    @cached_property
    def commitment_counts(self) -> Counts:
        counts = Counts()
        for priority in self.priorities:
            for colour, n in priority.commitment_counts.by_colour.items():
                counts.add(colour, n)
        return counts

    def changes(self, kind: str) -> list[ActionRow]:
        return self._changed.get(kind, [])

    @cached_property
    def _changed(self) -> dict[str, list[ActionRow]]:
        """The actions by how they changed, in one pass (pages ask for each kind twice)."""
        found: dict[str, list[ActionRow]] = {}
        for row in self.actions:
            if row.change:
                found.setdefault(row.change, []).append(row)
        return found

    @cached_property
    def change_counts(self) -> list[tuple[str, str, int]]:
        return [(kind, word, len(self.changes(kind))) for kind, word in CHANGES.items()]

    @cached_property
    def missing(self) -> list[ActionRow]:
        """Started, not complete, and no update that counts for the quarter."""
        return [r for r in self.actions if not r.has_update and r.colour != "blue"]

    @cached_property
    def overdue(self) -> list[ActionRow]:
        """Past their due date by the end of the quarter and not complete."""
        return [r for r in self.actions if r.due < self.quarter.end and r.colour != "blue"]

    def exceptions(self) -> list[tuple[PriorityRow, list[ActionRow]]]:
        """Red, then Amber, then other areas of concern, grouped by priority."""
        result = []
        for priority in self.priorities:
            rows = sorted((r for r in priority.actions if r.is_exception),
                          key=lambda r: (severity(r.colour), r.ref))  # type: ignore[arg-type]
            if rows:
                result.append((priority, rows))
        return result

    @cached_property
    def open_escalations(self) -> list[EscalationRow]:
        return [e for e in self.escalations if e.is_open]

    @cached_property
    def board_escalations(self) -> list[EscalationRow]:
        """Escalations for the board itself (the board's first), as shown for the quarter."""
        return [e for e in self.escalations if e.to_board]

    @cached_property
    def lead_escalations(self) -> list[EscalationRow]:
        """Escalations for group leads (and others) alone: for the groups to deal with."""
        return [e for e in self.escalations if not e.to_board]

    @cached_property
    def concerns(self) -> list[ActionRow]:
        """Actions their owners flagged as an area of concern, Red first."""
        return sorted((r for r in self.actions if r.is_concern),
                      key=lambda r: (severity(r.colour), r.ref))  # type: ignore[arg-type]

    @cached_property
    def unreported(self) -> list[ActionRow]:
        """Actions whose status is No update: nothing was reported for the quarter."""
        return [r for r in self.actions if r.is_unreported]

    @property
    def headline(self) -> str:
        """Where the partnership stands, in one sentence."""
        counts = self.action_counts
        total = counts.total
        if not total:
            return f"No action was under way in {self.quarter.label}."
        rated = [f"{counts[c]} {WORDS[c]}" for c in ("red", "amber", "green", "blue")
                 if counts[c]]
        text = (f"{total} action{'s' if total != 1 else ''} under way in "
                f"{self.quarter.label}: {_and(rated) if rated else 'none with a status yet'}")
        if counts["grey"]:
            text += (f"; {counts['grey']} {'has' if counts['grey'] == 1 else 'have'} no "
                     "update")
        board = len(self.board_escalations)
        text += "." if not board else (
            f". {board} escalation{'s wait' if board != 1 else ' waits'} for the board.")
        return text

    def kpis_in_need(self, limit: int) -> list[KpiRow]:
        """The KPIs, up to ``limit``; past it, those most in need of attention (Red, then
        Amber, No data, Green), in the plan's order."""
        return most_in_need(self.kpis, limit)

    @cached_property
    def kpi_counts(self) -> Counts:
        counts = Counts()
        for row in self.kpis:
            counts.add(row.status if row.status in ("red", "amber", "green") else "grey")
        return counts

    def priority(self, ref: str) -> PriorityRow | None:
        return next((p for p in self.priorities if p.ref == ref), None)

    def commitment(self, ref: str) -> tuple[PriorityRow, CommitmentRow] | None:
        for priority in self.priorities:
            for row in priority.commitments:
                if row.ref == ref:
                    return priority, row
        return None


KPI_ATTENTION = ("red", "amber", "grey", "green")
"""KPI statuses, most in need of the board's attention first."""


def most_in_need(rows: list[KpiRow], limit: int) -> list[KpiRow]:
    """``rows`` up to ``limit``; past it, the ``limit`` most in need of attention (by
    :data:`KPI_ATTENTION`), in their own order."""
    if len(rows) <= limit:
        return list(rows)
    rank = {colour: n for n, colour in enumerate(KPI_ATTENTION)}
    ordered = sorted(range(len(rows)), key=lambda n: (rank.get(rows[n].status, len(rank)), n))
    return [rows[n] for n in sorted(ordered[:limit])]
