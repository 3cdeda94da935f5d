"""The plan's shape, read once per process for each stamp: what the board's figures hang on.

The board's pages are drawn from two kinds of data. What changes every day (statuses,
updates, KPI values, escalations) is read on every draw. What changes only when the plan is
loaded or an account is changed (the priorities, commitments and actions, who owns and leads
each action, which themes each touches) is the *shape*: it is read once, kept in this
process beside the stamp it was read at (:func:`tracker.db.shape_stamp`, which a write to
any of :data:`tracker.db.SHAPE_TABLES` renews), and read again only when the stamp changes.
At 10,000 actions that is most of the rows a dashboard needs.

Everything here is immutable, so every request of a process may share it.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kpis import KpiDefinition
from plans import Calendar
from tracker.db import shape_stamp
from tracker.models import KPI, Action, Authority, Commitment, Group, Priority, Theme, User
from tracker.models import delivery as delivery_tables
from tracker.models import kpi as kpi_tables
from tracker.models import plan as plan_tables
from tracker.services import kpi_values


@dataclass(frozen=True, slots=True)
class PriorityShape:
    id: int
    ref: str
    display_title: str


@dataclass(frozen=True, slots=True)
class CommitmentShape:
    id: int
    ref: str
    text: str
    priority_id: int
    parent_id: int | None
    priority_ref: str
    parent_ref: str | None
    theme_refs: frozenset[str]
    """Its own themes and, for a part, its commitment's."""


@dataclass(frozen=True, slots=True)
class ThemeShape:
    id: int
    ref: str
    name: str


@dataclass(frozen=True, slots=True)
class NamedShape:
    """A group or a lead agency, as the filters offer them."""

    ref: str
    name: str
    kind: str = ""


ActionFields = tuple[int, str, str, str, str, str, str, str, str, str, str, frozenset[str]]
"""The first fields of an :class:`tracker.reports.figures.ActionRow`, in order: id, ref,
title, commitment ref, priority ref, owner, owner's email, lead agency and its ref, group
and its ref, and its themes (its own and its commitment's)."""


@dataclass(frozen=True, slots=True)
class ActionShape:
    id: int
    commitment_id: int
    due: date
    row: ActionFields


@dataclass(frozen=True, slots=True)
class KpiShape:
    id: int
    ref: str
    name: str
    frequency: str
    priority_refs: frozenset[str]
    """The priorities of the commitments it is linked to."""
    theme_refs: frozenset[str]


@dataclass(frozen=True)
class Shape:
    stamp: int
    priorities: tuple[PriorityShape, ...]
    commitments: tuple[CommitmentShape, ...]
    themes: tuple[ThemeShape, ...]
    groups: tuple[NamedShape, ...]
    leads: tuple[NamedShape, ...]
    actions: tuple[ActionShape, ...]
    """Every action not retired whose commitment is not retired, in the plan's order."""
    kpis: tuple[KpiShape, ...] = ()
    """Every KPI not retired, in the plan's order."""
    _definitions: dict[int, KpiDefinition] = field(default_factory=dict, compare=False)

    def definitions(self, session: Session, calendar: Calendar) -> dict[int, KpiDefinition]:
        """Each KPI's definition, revised targets included, by id: worked out once (the
        calendar is the plan's, which a load, and so a new stamp, would change)."""
        if not self._definitions and self.kpis:
            found = session.scalars(select(KPI).where(KPI.id.in_([k.id for k in self.kpis])))
            self._definitions.update(
                {kpi.id: kpi_values.definition(kpi, calendar) for kpi in found})
        return self._definitions

    def of_priority(self, ref: str) -> Shape:
        """Only what the priority ``ref`` holds (nothing, if there is no such priority)."""
        priorities = tuple(p for p in self.priorities if p.ref == ref)
        ids = {p.id for p in priorities}
        commitments = tuple(c for c in self.commitments if c.priority_id in ids)
        inside = {c.id for c in commitments}
        return Shape(self.stamp, priorities, commitments, self.themes, self.groups, self.leads,
                     tuple(a for a in self.actions if a.commitment_id in inside))  # no KPIs


_KEPT: weakref.WeakKeyDictionary[Engine, Shape] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def current(session: Session) -> Shape:
    """The plan's shape as this transaction sees it: kept from an earlier read when its stamp
    is unchanged, read afresh (and kept) when not."""
    stamp = shape_stamp(session)
    engine = session.get_bind()
    kept = _KEPT.get(engine) if isinstance(engine, Engine) else None
    if stamp and kept is not None and kept.stamp == stamp:
        return kept
    shape = read(session, stamp)
    if stamp and isinstance(engine, Engine):
        with _LOCK:
            _KEPT[engine] = shape
    return shape


def forget(session: Session) -> None:
    """Let go of the shape kept for this database (a pack's process, about to print, needs
    the memory more than the shape)."""
    engine = session.get_bind()
    if isinstance(engine, Engine):
        with _LOCK:
            _KEPT.pop(engine, None)


def read(session: Session, stamp: int = 0) -> Shape:
    """The shape, read from the database (plain rows: no ORM objects are made)."""
    priorities = tuple(
        PriorityShape(row.id, row.ref, row.short_title or row.title)
        for row in session.execute(select(Priority.id, Priority.ref, Priority.title,
                                          Priority.short_title)
                                   .where(Priority.retired_at.is_(None))
                                   .order_by(Priority.position)))
    themes = tuple(ThemeShape(row.id, row.ref, row.name) for row in session.execute(
        select(Theme.id, Theme.ref, Theme.name).where(Theme.retired_at.is_(None))
        .order_by(Theme.position)))
    theme_ref = {t.id: t.ref for t in themes}
    priority_ref = {p.id: p.ref for p in priorities}
    commitments = _commitments(session, priority_ref, theme_ref)
    groups = tuple(NamedShape(row.ref, row.name, row.kind) for row in session.execute(
        select(Group.ref, Group.name, Group.kind).where(Group.retired_at.is_(None))
        .order_by(Group.position)))
    leads = tuple(NamedShape(row.ref, row.name) for row in session.execute(
        select(Authority.ref, Authority.name).where(Authority.retired_at.is_(None))
        .order_by(Authority.position)))
    return Shape(stamp, priorities, commitments, themes, groups, leads,
                 _actions(session, {c.id: c for c in commitments}, theme_ref),
                 _kpis(session, commitments, theme_ref))


def _kpis(session: Session, commitments: Iterable[CommitmentShape],
          theme_ref: Mapping[int, str]) -> tuple[KpiShape, ...]:
    priority_of = {c.id: c.priority_ref for c in commitments}
    linked = pairs(session, kpi_tables.kpi_commitments.c.kpi_id,
                   kpi_tables.kpi_commitments.c.commitment_id)
    themed = pairs(session, kpi_tables.kpi_themes.c.kpi_id, kpi_tables.kpi_themes.c.theme_id)
    return tuple(
        KpiShape(row.id, row.ref, row.name, row.frequency,
                 frozenset(priority_of.get(c, "") for c in linked.get(row.id, ())),
                 refs(themed.get(row.id, ()), theme_ref))
        for row in session.execute(select(KPI.id, KPI.ref, KPI.name, KPI.frequency)
                                   .where(KPI.retired_at.is_(None)).order_by(KPI.position)))


def _commitments(session: Session, priority_ref: Mapping[int, str],
                 theme_ref: Mapping[int, str]) -> tuple[CommitmentShape, ...]:
    linked = pairs(session, plan_tables.commitment_themes.c.commitment_id,
                   plan_tables.commitment_themes.c.theme_id)
    rows = list(session.execute(
        select(Commitment.id, Commitment.ref, Commitment.text, Commitment.priority_id,
               Commitment.parent_id)
        .where(Commitment.retired_at.is_(None)).order_by(Commitment.position)))
    ref_of = {row.id: row.ref for row in rows}
    result = []
    for row in rows:
        parent = row.parent_id if row.parent_id in ref_of else None
        themes = refs(linked.get(row.id, ()), theme_ref)
        if parent is not None:
            themes |= refs(linked.get(parent, ()), theme_ref)
        result.append(CommitmentShape(
            id=row.id, ref=row.ref, text=row.text, priority_id=row.priority_id,
            parent_id=row.parent_id, priority_ref=priority_ref.get(row.priority_id, ""),
            parent_ref=ref_of.get(parent) if parent is not None else None,
            theme_refs=themes))
    return tuple(result)


def _actions(session: Session, commitments: Mapping[int, CommitmentShape],
             theme_ref: Mapping[int, str]) -> tuple[ActionShape, ...]:
    themed = pairs(session, delivery_tables.action_themes.c.action_id,
                   delivery_tables.action_themes.c.theme_id)
    query = (
        select(Action.id, Action.ref, Action.title, Action.commitment_id, Action.due,
               User.name.label("owner"), User.email.label("owner_email"),
               Authority.name.label("lead"), Authority.ref.label("lead_ref"),
               Group.name.label("group"), Group.ref.label("group_ref"))
        .join(User, User.id == Action.owner_id)
        .join(Authority, Authority.id == Action.lead_id)
        .outerjoin(Group, Group.id == Action.group_id)
        .where(Action.retired_at.is_(None)).order_by(Action.position))
    result = []
    for action in session.execute(query):
        commitment = commitments.get(action.commitment_id)
        if commitment is None:
            continue
        result.append(ActionShape(
            id=action.id, commitment_id=action.commitment_id, due=action.due,
            row=(action.id, action.ref, action.title, commitment.ref, commitment.priority_ref,
                 action.owner, action.owner_email, action.lead, action.lead_ref,
                 action.group or "", action.group_ref or "",
                 refs(themed.get(action.id, ()), theme_ref) | commitment.theme_refs)))
    return tuple(result)


def pairs(session: Session, left: Any, right: Any) -> dict[int, list[int]]:
    """A many-to-many link table as a dict, in one query whatever its size (a relationship's
    ``selectinload`` would send one query per 500 rows)."""
    result: dict[int, list[int]] = defaultdict(list)
    for a, b in session.execute(select(left, right)):
        result[a].append(b)
    return result


def refs(ids: Iterable[int], names: Mapping[int, str]) -> frozenset[str]:
    return frozenset(names[i] for i in ids if i in names)
