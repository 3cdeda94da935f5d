"""Each kind of plan item, described once: its model, the fields that come from the file,
which of them refer to other items, and how to read them from a validated plan.

:mod:`tracker.services.plan_sync` computes diffs and applies loads from these descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from plans import Plan
from tracker.models import (
    KPI,
    Action,
    Authority,
    Base,
    Commitment,
    Duty,
    Group,
    Milestone,
    Partnership,
    PreventionLevel,
    Principle,
    Priority,
    Theme,
    User,
)


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
        tolerance=lambda k: k.tolerance, owner=lambda k: k.owner, is_public=lambda k: k.is_public,
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
        Field("tolerance"), POSITION, Field("owner", "person"), Field("is_public"),
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


