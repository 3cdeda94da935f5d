"""The trend: each priority's and commitment's stored status in every quarter so far.

Read from the roll-ups the tracker stores whenever statuses are recomputed (three queries,
whatever the size of the plan). The trend is of the whole plan: filters do not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Plan, Quarter
from tracker.models import Commitment, Priority, RollupStatus
from tracker.reports.dashboard import WORDS, Counts
from tracker.reports.history import LETTERS
from tracker.services.calendar import plan_quarters


@dataclass(frozen=True)
class Cell:
    colour: str
    reason: str
    quarter: str = ""

    @property
    def word(self) -> str:
        return WORDS.get(self.colour, self.colour)

    @property
    def letter(self) -> str:
        return LETTERS.get(self.colour, "–")


@dataclass
class TrendRow:
    ref: str
    title: str
    kind: str  # priority or commitment
    priority_ref: str
    cells: list[Cell]


@dataclass
class Trend:
    quarters: list[Quarter]
    priorities: list[TrendRow]
    commitments: list[TrendRow]
    commitment_counts: list[Counts] = field(default_factory=list)
    """Per quarter, how many commitments had each status."""

    def commitments_of(self, priority_ref: str) -> list[TrendRow]:
        return [row for row in self.commitments if row.priority_ref == priority_ref]


NO_STATUS = Cell("grey", "No status for this quarter")


def build(session: Session, plan: Plan, today: date) -> Trend:
    quarters = plan_quarters(plan, today)
    labels = [q.label for q in quarters]
    priorities = list(session.scalars(select(Priority).where(Priority.retired_at.is_(None))
                                      .order_by(Priority.position)))
    order = {p.id: n for n, p in enumerate(priorities)}
    commitments = sorted(
        session.scalars(select(Commitment).where(Commitment.retired_at.is_(None),
                                                 Commitment.parent_id.is_(None))),
        key=lambda c: (order.get(c.priority_id, len(order)), c.position))  # the plan's order
    r = RollupStatus  # plain rows: at 10,000 actions, 60,000 of them
    stored: dict[tuple[str, int, str], Cell] = {
        (kind, item_id, quarter): Cell(colour, reason, quarter)
        for kind, item_id, quarter, colour, reason in session.execute(
            select(r.item_type, r.item_id, r.quarter, r.colour, r.reason).where(
                r.item_type.in_(("priority", "commitment")), r.quarter.in_(labels)))
    }
    refs = {p.id: p.ref for p in priorities}

    def cells(kind: str, item_id: int) -> list[Cell]:
        return [stored.get((kind, item_id, label), Cell("grey", NO_STATUS.reason, label))
                for label in labels]

    trend = Trend(
        quarters=quarters,
        priorities=[TrendRow(p.ref, p.display_title, "priority", p.ref, cells("priority", p.id))
                    for p in priorities],
        commitments=[TrendRow(c.ref, c.text, "commitment", refs.get(c.priority_id, ""),
                              cells("commitment", c.id))
                     for c in commitments if c.priority_id in refs],
    )
    for n in range(len(quarters)):
        counts = Counts()
        for row in trend.commitments:
            counts.add(row.cells[n].colour)
        trend.commitment_counts.append(counts)
    return trend
