"""Load a plan file: parse, validate, and return an immutable :class:`Plan`.

Every problem in the file is reported at once, as ``FILE:LINE: message`` naming the item.
A file with any error is refused whole (:class:`PlanError`); warnings are kept on the plan.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

from yaml.nodes import MappingNode, Node

from plans._delivery import read_delivery, read_kpis
from plans._rules import read_rules
from plans._state import State
from plans._structure import (
    read_authorities,
    read_duties,
    read_groups,
    read_named,
    read_partnership,
    read_people,
    read_priorities,
    read_texts,
    read_themes,
)
from plans.bulk import cycle_collection_paused
from plans.errors import PlanError, Problem
from plans.model import Plan
from plans.rules import DEFAULT_RULES
from plans.yamlsource import Context, RefusedFile, compose, describe, read_text

SUPPORTED_FORMAT = 1
REQUIRED = ("format", "partnership", "authorities", "groups", "themes", "priorities")
OPTIONAL = ("people", "aims", "principles", "prevention_levels", "duties", "kpis", "delivery",
            "rules")


def load_plan(path: str | Path, display_name: str | None = None) -> Plan:
    """Read and validate the plan file at ``path``; raise :class:`PlanError` if refused."""
    file_path = Path(path)
    name = display_name or str(path)
    try:
        data = file_path.read_bytes()
    except OSError as exc:
        raise PlanError([Problem(name, 0, f"cannot read the file: {exc.strerror}")]) from None
    return parse_plan(data, name)


def parse_plan(data: bytes | str, filename: str = "plans.yaml") -> Plan:
    """Validate plan text; return the plan or raise :class:`PlanError` with every problem."""
    plan, problems = check_plan(data, filename)
    if plan is None:
        raise PlanError(problems)
    return plan


def check_plan(data: bytes | str, filename: str = "plans.yaml"
               ) -> tuple[Plan | None, list[Problem]]:
    """Validate plan text; return ``(plan or None, every problem found, sorted by line)``."""
    with cycle_collection_paused():
        return _check(data, filename)


def _check(data: bytes | str, filename: str) -> tuple[Plan | None, list[Problem]]:
    ctx = Context(filename)
    try:
        text = read_text(data.encode("utf-8") if isinstance(data, str) else data, filename)
        root = compose(text, filename)
    except RefusedFile as refused:
        return None, [refused.problem]
    plan = _read(ctx, root) if root is not None else None
    if root is None:
        ctx.error(1, "the file is empty; a plan starts with 'format: 1'")
    problems = sorted(ctx.problems, key=lambda p: (p.line, p.severity != "error"))
    if ctx.has_errors or plan is None:
        return None, problems
    warnings = tuple(str(p) for p in problems if not p.is_error)
    return dataclasses.replace(plan, warnings=warnings), problems


def _read(ctx: Context, root: Node) -> Plan | None:
    state = State(ctx)
    if not isinstance(root, MappingNode):
        ctx.error(root, f"the plan must be a mapping of keys starting with 'format: 1', found "
                  f"{describe(root)}")
        return None
    keys = ctx.mapping(root, "plan", REQUIRED, OPTIONAL)
    if keys is None:
        return None
    if "format" in keys:
        fmt = keys["format"]
        if type(ctx.value(fmt)) is not int or ctx.value(fmt) != SUPPORTED_FORMAT:
            ctx.error(fmt, f"format: {describe(fmt)} is not supported; this tracker reads "
                      f"plan format {SUPPORTED_FORMAT} (write 'format: 1')")
            return None
    partnership = read_partnership(state, keys["partnership"]) if "partnership" in keys else None
    authorities = read_authorities(state, keys["authorities"]) if "authorities" in keys else ()
    groups = read_groups(state, keys["groups"]) if "groups" in keys else ()
    people = read_people(state, keys["people"]) if "people" in keys else ()
    themes = read_themes(state, keys["themes"]) if "themes" in keys else ()
    aims = read_texts(state, keys["aims"], "aims") if "aims" in keys else ()
    principles = read_named(state, keys["principles"], "principles", "principle") \
        if "principles" in keys else ()
    prevention = read_named(state, keys["prevention_levels"], "prevention_levels",
                            "prevention") if "prevention_levels" in keys else ()
    duties = read_duties(state, keys["duties"]) if "duties" in keys else ()
    priorities = read_priorities(state, keys["priorities"]) if "priorities" in keys else ()
    kpis = read_kpis(state, keys["kpis"], partnership) if "kpis" in keys else ()
    delivery = read_delivery(state, keys["delivery"], partnership) if "delivery" in keys else {}
    rules = read_rules(state, keys["rules"]) if "rules" in keys else DEFAULT_RULES
    state.resolve()
    if partnership is None or ctx.has_errors:
        return None
    plan = Plan(
        source=ctx.filename, partnership=partnership, authorities=authorities, groups=groups,
        people=people, themes=themes, aims=aims, principles=principles,
        prevention_levels=prevention, duties=duties, priorities=priorities, kpis=kpis,
        delivery=MappingProxyType(_with_default_groups(delivery, priorities)), rules=rules,
    )
    _warn(state, plan)
    return plan


def _with_default_groups(delivery: dict[str, tuple], priorities: tuple) -> dict[str, tuple]:  # type: ignore[type-arg]
    """An action's group defaults to the group of its commitment's priority."""
    group_of = {p.id: p.group for p in priorities}
    result = {}
    for year, actions in delivery.items():
        result[year] = tuple(
            a if a.group is not None
            else dataclasses.replace(a, group=group_of.get(a.commitment.split(".")[0]))
            for a in actions
        )
    return result


def _warn(state: State, plan: Plan) -> None:
    """Suspicious but legal things: the file loads, and these are printed."""
    ctx = state.ctx
    used: set[str] = set()
    for commitment in plan.commitments():
        used.update(commitment.themes)
        for part in commitment.parts:
            used.update(part.themes)
    for actions in plan.delivery.values():
        for action in actions:
            used.update(action.themes)
    for kpi in plan.kpis:
        used.update(kpi.themes)
    for theme in plan.themes:
        if theme.id not in used:
            ctx.warn(theme.line, f"theme {theme.id}: no commitment, action or KPI uses this "
                     "theme")
    if plan.delivery:
        targeted = {a.commitment for actions in plan.delivery.values() for a in actions}
        for commitment in plan.commitments():
            covered = commitment.ref in targeted or any(p.ref in targeted
                                                        for p in commitment.parts)
            if not covered:
                ctx.warn(commitment.line, f"commitment {commitment.ref}: no action in the "
                         "delivery plans delivers it")
    leads = {g.lead for g in plan.groups if g.lead}
    for person in plan.people:
        if person.role == "lead" and person.email not in leads:
            ctx.warn(person.line, f"person {person.email}: has role lead but leads no group")
    board_people = {p.email for p in plan.people if p.role == "board"}
    groups_with_actions = {a.group for a in plan.actions().values()}
    for group in plan.groups:
        if group.lead in board_people and group.id in groups_with_actions:
            ctx.warn(group.line, f"group {group.id}: its lead {group.lead} has role board, and "
                     "board members edit nothing, so they cannot update or approve the "
                     "group's actions; give them role lead if they should")
    for action in plan.actions().values():
        if action.due > plan.partnership.plan.ends:
            ctx.warn(action.line, f"delivery {action.year} action {action.id}: due "
                     f"{action.due}, after the plan ends ({plan.partnership.plan.ends})")
