"""Bring the database in line with a validated plan, matching items by their stable refs.

Each kind of plan item is described once (:data:`KINDS`): the model, the fields that come
from the file, and which of them refer to other items. From that one description the
module computes what a load would add, change, retire or restore (:func:`diff_plan`) and
applies it (:func:`apply_plan`). Items removed from the file are retired, never deleted,
so updates, KPI values and escalations that hang on them are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from plans import Plan
from tracker.models import (
    KPI,
    Action,
    Authority,
    Base,
    Commitment,
    Duty,
    Group,
    KPIValue,
    Milestone,
    Partnership,
    PreventionLevel,
    Principle,
    Priority,
    Theme,
    User,
    utcnow,
)

ChangeKind = Literal["add", "change", "retire", "restore"]


@dataclass(frozen=True)
class Field:
    """A field that comes from the plan file; ``target`` names the kind it refers to."""

    name: str
    target: str | None = None
    many: bool = False
    silent: bool = False  # kept in step, but not reported as a change (e.g. order)


@dataclass(frozen=True)
class OnCreate:
    """A value set when the item is created and left alone afterwards."""

    value: Any


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[Base]
    fields: tuple[Field, ...]
    desired: Callable[[Plan], dict[str, dict[str, Any]]]
    retirable: bool = True
    ref_attr: str = "ref"
    label_field: str = "name"


@dataclass
class Change:
    kind: str
    ref: str
    action: ChangeKind
    label: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        head = f"{self.kind} {self.ref}"
        if self.action == "change":
            parts = [f"{name}: {_short(old)} -> {_short(new)}"
                     for name, (old, new) in self.fields.items()]
            return f"{head}: " + "; ".join(parts)
        return f"{head}: {_short(self.label, 70)}"


@dataclass
class PlanDiff:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def counts(self) -> dict[str, int]:
        result = {"add": 0, "change": 0, "retire": 0, "restore": 0}
        for change in self.changes:
            result[change.action] += 1
        return result

    def of(self, action: ChangeKind) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "unchanged": self.unchanged,
            "changes": [
                {"kind": c.kind, "ref": c.ref, "action": c.action,
                 "fields": sorted(c.fields)}
                for c in self.changes
            ],
        }


class PartnershipMismatch(Exception):
    """The file is another partnership's plan than the one this database holds."""


def _short(value: Any, width: int = 50) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        text = ", ".join(str(v) for v in sorted(value, key=str)) or "(none)"
    elif value is None:
        text = "(none)"
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- what the file says, kind by kind -------------------------------------------------------


def _partnership(plan: Plan) -> dict[str, dict[str, Any]]:
    p = plan.partnership
    month, day = p.year_starts
    return {p.id: {
        "name": p.name, "area": p.area, "vision": p.vision, "plan_title": p.plan.title,
        "plan_starts": p.plan.starts, "plan_ends": p.plan.ends,
        "year_starts": f"{month:02d}-{day:02d}", "aims": list(plan.aims),
    }}


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)


def _users(plan: Plan) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {
        p.email: {"name": p.name, "role": p.role, "is_from_plan": True} for p in plan.people
    }
    leads = {g.lead for g in plan.groups if g.lead}
    mentioned: list[str] = [e for g in plan.groups for e in (g.lead, *g.members) if e]
    mentioned += [k.owner for k in plan.kpis if k.owner]
    mentioned += [a.owner for actions in plan.delivery.values() for a in actions]
    for email in mentioned:
        if email not in result:
            result[email] = {
                "name": OnCreate(_name_from_email(email)),
                "role": OnCreate("lead" if email in leads else "member"),
                "is_from_plan": OnCreate(True),
            }
    return result


def _simple(items: Iterable[Any], **extra: Callable[[Any], Any]) -> dict[str, dict[str, Any]]:
    result = {}
    for position, item in enumerate(items):
        values = {name: fn(item) for name, fn in extra.items()}
        values["position"] = position
        result[item.id] = values
    return result


def _authorities(plan: Plan) -> dict[str, dict[str, Any]]:
    return _simple(plan.authorities, name=lambda a: a.name,
                   is_responsible=lambda a: a.responsible)


def _groups(plan: Plan) -> dict[str, dict[str, Any]]:
    members: dict[str, set[str]] = {g.id: set(g.members) for g in plan.groups}
    for person in plan.people:
        for group in person.groups:
            members.setdefault(group, set()).add(person.email)
    return _simple(plan.groups, name=lambda g: g.name, kind=lambda g: g.kind,
                   reports_to=lambda g: g.reports_to, lead=lambda g: g.lead,
                   members=lambda g: frozenset(members[g.id]))


def _themes(plan: Plan) -> dict[str, dict[str, Any]]:
    return _simple(plan.themes, name=lambda t: t.name, summary=lambda t: t.summary,
                   points=lambda t: list(t.points))


def _principles(plan: Plan) -> dict[str, dict[str, Any]]:
    return _simple(plan.principles, name=lambda p: p.name, text=lambda p: p.text)


def _prevention(plan: Plan) -> dict[str, dict[str, Any]]:
    return _simple(plan.prevention_levels, name=lambda p: p.name, text=lambda p: p.text)


def _duties(plan: Plan) -> dict[str, dict[str, Any]]:
    return _simple(plan.duties, text=lambda d: d.text, every=lambda d: d.every,
                   due=lambda d: f"{d.due[0]:02d}-{d.due[1]:02d}" if d.due else None)


def _priorities(plan: Plan) -> dict[str, dict[str, Any]]:
    return _simple(plan.priorities, title=lambda p: p.title, short_title=lambda p: p.short_title,
                   group=lambda p: p.group)


def _commitments(plan: Plan) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for priority in plan.priorities:
        for position, c in enumerate(priority.commitments):
            result[c.ref] = {"local_id": c.id, "text": c.text, "position": position,
                             "priority": priority.id, "parent": None,
                             "prevention": c.prevention, "themes": frozenset(c.themes)}
            for part_position, part in enumerate(c.parts):
                result[part.ref] = {"local_id": part.id, "text": part.text,
                                    "position": part_position, "priority": priority.id,
                                    "parent": c.ref, "prevention": part.prevention,
                                    "themes": frozenset(part.themes)}
    return result


def _kpis(plan: Plan) -> dict[str, dict[str, Any]]:
    return _simple(
        plan.kpis, name=lambda k: k.name, unit=lambda k: k.unit, better=lambda k: k.better,
        frequency=lambda k: k.frequency, source=lambda k: k.source,
        baseline_period=lambda k: k.baseline.period if k.baseline else None,
        baseline_value=lambda k: k.baseline.value if k.baseline else None,
        targets=lambda k: dict(k.targets), target=lambda k: k.target,
        tolerance=lambda k: k.tolerance, owner=lambda k: k.owner,
        commitments=lambda k: frozenset(k.commitments), themes=lambda k: frozenset(k.themes),
    )


def _actions(plan: Plan) -> dict[str, dict[str, Any]]:
    years = plan.action_years()
    return _simple(
        plan.actions().values(), title=lambda a: a.title, starts=lambda a: a.starts,
        due=lambda a: a.due, years=lambda a: list(years[a.id]),
        commitment=lambda a: a.commitment, owner=lambda a: a.owner, lead=lambda a: a.lead,
        group=lambda a: a.group, prevention=lambda a: a.prevention,
        themes=lambda a: frozenset(a.themes), kpis=lambda a: frozenset(a.kpis),
    )


def milestone_ref(action_ref: str, key: str) -> str:
    return f"{action_ref}#{key}"


def _milestones(plan: Plan) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for action in plan.actions().values():
        for position, m in enumerate(action.milestones):
            result[milestone_ref(action.id, m.key)] = {
                "title": m.title, "due": m.due, "position": position, "action": action.id,
            }
    return result


POSITION = Field("position", silent=True)

KINDS: tuple[Kind, ...] = (
    Kind("partnership", Partnership, tuple(Field(n) for n in (
        "name", "area", "vision", "plan_title", "plan_starts", "plan_ends", "year_starts",
        "aims")), _partnership, retirable=False),
    Kind("person", User, (Field("name"), Field("role"), Field("is_from_plan")), _users,
         retirable=False, ref_attr="email"),
    Kind("authority", Authority, (Field("name"), Field("is_responsible"), POSITION),
         _authorities),
    Kind("group", Group, (Field("name"), Field("kind"), POSITION,
                          Field("reports_to", "group"), Field("lead", "person"),
                          Field("members", "person", many=True)), _groups),
    Kind("theme", Theme, (Field("name"), Field("summary"), Field("points"), POSITION),
         _themes),
    Kind("principle", Principle, (Field("name"), Field("text"), POSITION),
         _principles),
    Kind("prevention level", PreventionLevel, (Field("name"), Field("text"),
                                               POSITION), _prevention),
    Kind("duty", Duty, (Field("text"), Field("every"), Field("due"), POSITION),
         _duties, label_field="text"),
    Kind("priority", Priority, (Field("title"), Field("short_title"), POSITION,
                                Field("group", "group")), _priorities, label_field="title"),
    Kind("commitment", Commitment, (
        Field("local_id"), Field("text"), POSITION, Field("priority", "priority"),
        Field("parent", "commitment"), Field("prevention", "prevention level"),
        Field("themes", "theme", many=True)), _commitments, label_field="text"),
    Kind("KPI", KPI, (
        Field("name"), Field("unit"), Field("better"), Field("frequency"), Field("source"),
        Field("baseline_period"), Field("baseline_value"), Field("targets"), Field("target"),
        Field("tolerance"), POSITION, Field("owner", "person"),
        Field("commitments", "commitment", many=True), Field("themes", "theme", many=True)),
        _kpis),
    Kind("action", Action, (
        Field("title"), Field("starts"), Field("due"), Field("years"), POSITION,
        Field("commitment", "commitment"), Field("owner", "person"), Field("lead", "authority"),
        Field("group", "group"), Field("prevention", "prevention level"),
        Field("themes", "theme", many=True), Field("kpis", "KPI", many=True)),
        _actions, label_field="title"),
    Kind("milestone", Milestone, (Field("title"), Field("due"), POSITION,
                                  Field("action", "action")), _milestones, label_field="title"),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}


# -- what the database holds ------------------------------------------------------------


@dataclass
class Snapshot:
    """Every plan item in the database, loaded with one query per kind."""

    rows: dict[str, dict[str, Any]]
    ref_by_id: dict[str, dict[int, str]]

    @classmethod
    def load(cls, session: Session) -> Snapshot:
        rows: dict[str, dict[str, Any]] = {}
        ref_by_id: dict[str, dict[int, str]] = {}
        for kind in KINDS:
            many = [getattr(kind.model, f.name) for f in kind.fields if f.many]
            query = select(kind.model).options(*(selectinload(rel) for rel in many))
            found = {getattr(row, kind.ref_attr): row for row in session.scalars(query)}
            rows[kind.name] = found
            ref_by_id[kind.name] = {row.id: ref for ref, row in found.items()}
        return cls(rows, ref_by_id)

    def current(self, kind: Kind, row: Any, f: Field) -> Any:
        if f.target is None:
            return getattr(row, f.name)
        target = KIND_BY_NAME[f.target]
        if f.many:
            return frozenset(getattr(item, target.ref_attr) for item in getattr(row, f.name))
        target_id = getattr(row, f"{f.name}_id")
        return None if target_id is None else self.ref_by_id[f.target].get(target_id)


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, frozenset):
        return frozenset(old or ()) == new
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and float(old) == float(new)
    return bool(old == new)


def _label(kind: Kind, values: dict[str, Any], row: Any) -> str:
    value = values.get(kind.label_field) if values else None
    if isinstance(value, OnCreate):
        value = value.value
    if value is None and row is not None:
        value = getattr(row, kind.label_field, "")
    return str(value or "")


def diff_plan(session: Session, plan: Plan, snapshot: Snapshot | None = None) -> PlanDiff:
    """What loading ``plan`` would add, change, retire and restore, by ref."""
    snapshot = snapshot or Snapshot.load(session)
    _check_partnership(snapshot, plan)
    result = PlanDiff()
    for kind in KINDS:
        desired = kind.desired(plan)
        existing = snapshot.rows[kind.name]
        for ref, values in desired.items():
            row = existing.get(ref)
            if row is None:
                result.changes.append(Change(kind.name, ref, "add", _label(kind, values, None)))
                continue
            fields = {}
            for f in kind.fields:
                new = values.get(f.name)
                if isinstance(new, OnCreate) or f.silent:
                    continue
                old = snapshot.current(kind, row, f)
                if not _same(old, new):
                    fields[f.name] = (old, new)
            retired = kind.retirable and row.retired_at is not None
            if retired:
                result.changes.append(Change(kind.name, ref, "restore",
                                             _label(kind, values, row), fields))
            elif fields:
                result.changes.append(Change(kind.name, ref, "change",
                                             _label(kind, values, row), fields))
            else:
                result.unchanged += 1
        if kind.retirable:
            for ref, row in existing.items():
                if ref not in desired and row.retired_at is None:
                    result.changes.append(Change(kind.name, ref, "retire",
                                                 _label(kind, {}, row)))
    result.changes.extend(_kpi_value_changes(session, plan))
    return result


def _check_partnership(snapshot: Snapshot, plan: Plan) -> None:
    held = list(snapshot.rows["partnership"])
    if held and plan.partnership.id not in held:
        raise PartnershipMismatch(
            f"this database holds the plan of partnership '{held[0]}', and the file is the plan "
            f"of '{plan.partnership.id}'; each partnership needs its own database "
            "(set TRACKER_DATABASE_URL), or correct partnership id in the file"
        )


def _latest_values(session: Session) -> dict[tuple[str, str], KPIValue]:
    latest: dict[tuple[str, str], KPIValue] = {}
    query = select(KPIValue, KPI.ref).join(KPI).order_by(KPIValue.recorded_at, KPIValue.id)
    for value, kpi_ref in session.execute(query):
        latest[(kpi_ref, value.period)] = value
    return latest


def _kpi_value_changes(session: Session, plan: Plan) -> list[Change]:
    """KPI values written in the file: added where new; an app-entered value is kept."""
    if not any(k.values for k in plan.kpis):
        return []
    latest = _latest_values(session)
    changes = []
    for kpi in plan.kpis:
        for period, value in kpi.values.items():
            current = latest.get((kpi.id, period))
            ref = f"{kpi.id} {period}"
            if current is None:
                changes.append(Change("KPI value", ref, "add", f"{value:g}"))
            elif current.source == "plan" and current.value != value:
                changes.append(Change("KPI value", ref, "change", f"{value:g}",
                                      {"value": (current.value, value)}))
    return changes


# -- applying it --------------------------------------------------------------------------


def apply_plan(session: Session, plan: Plan) -> PlanDiff:
    """Make the database match ``plan``; flushes, never commits. Returns what changed."""
    snapshot = Snapshot.load(session)
    result = diff_plan(session, plan, snapshot)
    now = utcnow()
    desired_by_kind = {kind.name: kind.desired(plan) for kind in KINDS}
    # first every row exists with its own values, then the references between them are set
    for kind in KINDS:
        desired = desired_by_kind[kind.name]
        existing = snapshot.rows[kind.name]
        for ref, values in desired.items():
            row = existing.get(ref)
            if row is None:
                row = kind.model(**{kind.ref_attr: ref})
                existing[ref] = row
                session.add(row)
                creating = True
            else:
                creating = False
            for f in kind.fields:
                if f.target is not None:
                    continue
                value = values.get(f.name)
                if isinstance(value, OnCreate):
                    if not creating:
                        continue
                    value = value.value
                if creating or not _same(getattr(row, f.name), value):
                    setattr(row, f.name, value)
            if kind.retirable and row.retired_at is not None:
                row.retired_at = None
        if kind.retirable:
            for ref, row in existing.items():
                if ref not in desired and row.retired_at is None:
                    row.retired_at = now
    for kind in KINDS:
        desired = desired_by_kind[kind.name]
        existing = snapshot.rows[kind.name]
        for ref, values in desired.items():
            row = existing[ref]
            for f in kind.fields:
                if f.target is None:
                    continue
                targets = snapshot.rows[f.target]
                value = values.get(f.name)
                if f.many:
                    wanted = [targets[r] for r in sorted(value or ())]
                    if frozenset(getattr(t, KIND_BY_NAME[f.target].ref_attr)
                                 for t in getattr(row, f.name)) != frozenset(value or ()):
                        setattr(row, f.name, wanted)
                else:
                    target = targets[value] if value is not None else None
                    if getattr(row, f"{f.name}_id", None) != (target.id if target else None) \
                            or target is not None and target.id is None:
                        setattr(row, f.name, target)
    _apply_kpi_values(session, plan, snapshot, result)
    session.flush()
    return result


def _apply_kpi_values(session: Session, plan: Plan, snapshot: Snapshot, diff: PlanDiff) -> None:
    wanted = {c.ref for c in diff.changes if c.kind == "KPI value"}
    for kpi in plan.kpis:
        for period, value in kpi.values.items():
            if f"{kpi.id} {period}" in wanted:
                session.add(KPIValue(kpi=snapshot.rows["KPI"][kpi.id], period=period,
                                     value=value, source="plan", note="From the plan file"))
