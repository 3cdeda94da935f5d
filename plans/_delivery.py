"""Reading the KPIs and the annual delivery plans (actions and milestones)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from yaml.nodes import Node

from plans._state import State
from plans.model import BETTER, FREQUENCIES, KPI, UNITS, Action, Baseline, Milestone, Partnership
from plans.periods import Year
from plans.police_uk import read_crime_types
from plans.yamlsource import line_of


def read_kpis(state: State, node: Node, partnership: Partnership | None) -> tuple[KPI, ...]:
    ctx = state.ctx
    result = []
    for item in ctx.sequence(node, "kpis", "KPIs"):
        keys = ctx.mapping(
            item, f"KPI on line {line_of(item)}", ("id", "name", "better"),
            ("unit", "frequency", "source", "owner", "commitments", "themes", "baseline",
             "targets", "target", "tolerance", "values", "police_uk", "public"),
        )
        if keys is None:
            continue
        kid = state.ident(keys.get("id"), "KPI")
        where = state.name("KPI", kid, item)
        if kid is not None and not state.define("kpi", kid, item, where):
            continue
        name = ctx.text(keys.get("name"), f"{where} name")
        better = ctx.choice(keys.get("better"), f"{where} better", BETTER)
        unit = ctx.choice(keys["unit"], f"{where} unit", UNITS) if "unit" in keys else "count"
        frequency = ctx.choice(keys["frequency"], f"{where} frequency", FREQUENCIES) \
            if "frequency" in keys else "quarterly"
        owner = None
        if "owner" in keys:
            owner = state.email(keys["owner"], f"{where} owner")
            state.refer("person", owner, keys["owner"], f"{where} owner")
        commitments = state.ref_list("commitment", keys.get("commitments"),
                                     f"{where} commitments", "commitment refs such as 1.a")
        themes = state.ref_list("theme", keys.get("themes"), f"{where} themes", "theme ids")
        baseline = _baseline(state, keys.get("baseline"), where)
        targets = _targets(state, keys.get("targets"), where, partnership)
        target = ctx.number(keys.get("target"), f"{where} target")
        if "targets" in keys and "target" in keys:
            ctx.error(keys["target"], f"{where}: give either targets (one per year) or target "
                      "(one for the whole plan), not both")
        tolerance = ctx.number(keys.get("tolerance"), f"{where} tolerance", minimum=0)
        if tolerance is not None and tolerance > 100:
            ctx.error(keys["tolerance"], f"{where} tolerance: is a percentage between 0 and 100, "
                      f"found {tolerance:g}")
        values = _values(state, keys.get("values"), where, frequency or "quarterly")
        crime_types = None
        if "police_uk" in keys:
            has_area = None if partnership is None else partnership.police_uk is not None
            crime_types = read_crime_types(state, keys["police_uk"], where, has_area)
            if crime_types and unit not in (None, "count"):
                ctx.error(keys["police_uk"], f"{where} police_uk: police.uk rows are counted, "
                          f"so the KPI's unit must be count, not {unit}")
        is_public = ctx.boolean(keys.get("public"), f"{where} public")
        if None in (kid, name, better, unit, frequency):
            continue
        assert kid is not None and name is not None
        if "targets" not in keys and target is None:
            ctx.warn(item, f"{where}: has no target, so its status will always be grey "
                     "(no target)")
        result.append(KPI(
            id=kid, name=name, unit=unit, better=better, frequency=frequency,  # type: ignore[arg-type]
            source=ctx.text(keys.get("source"), f"{where} source", required=False),
            owner=owner, commitments=commitments, themes=themes, baseline=baseline,
            targets=targets, target=target,
            tolerance=5.0 if tolerance is None else tolerance,
            values=values, line=line_of(item), police_uk=crime_types or (),
            is_public=bool(is_public),
        ))
    return tuple(result)


def _baseline(state: State, node: Node | None, where: str) -> Baseline | None:
    if node is None:
        return None
    keys = state.ctx.mapping(node, f"{where} baseline", ("period", "value"))
    if keys is None:
        return None
    period = _period(state, keys.get("period"), f"{where} baseline period", "any")
    value = state.ctx.number(keys.get("value"), f"{where} baseline value")
    if period is None or value is None:
        return None
    return Baseline(period, value)


def _targets(state: State, node: Node | None, where: str, partnership: Partnership | None
             ) -> Mapping[str, float]:
    targets: dict[str, float] = {}
    if node is None:
        return MappingProxyType(targets)
    plan_years = {y.label for y in partnership.years} if partnership else set()
    for key_node, value_node in state.ctx.pairs(node, f"{where} targets",
                                                 "years to target values"):
        year = _year(state, key_node, f"{where} targets")
        value = state.ctx.number(value_node, f"{where} target for {key_node.value}")
        if year is None or value is None:
            continue
        if plan_years and year.label not in plan_years:
            state.ctx.warn(key_node, f"{where} targets: {year.label} is outside the plan period")
        targets[year.label] = value
    return MappingProxyType(targets)


def _values(state: State, node: Node | None, where: str, frequency: str) -> Mapping[str, float]:
    values: dict[str, float] = {}
    if node is None:
        return MappingProxyType(values)
    for key_node, value_node in state.ctx.pairs(node, f"{where} values", "periods to values"):
        period = _period(state, key_node, f"{where} values", frequency)
        value = state.ctx.number(value_node, f"{where} value for {key_node.value}")
        if period is not None and value is not None:
            values[period] = value
    return MappingProxyType(values)


def _year(state: State, node: Node, where: str) -> Year | None:
    text = state.ctx.text(node, where)
    if text is None:
        return None
    try:
        return state.calendar.parse_year(text)
    except ValueError as exc:
        state.ctx.error(node, f"{where}: {exc}")
        return None


def _period(state: State, node: Node | None, where: str, frequency: str) -> str | None:
    """A period label for a KPI value: a quarter, a year or an ISO month."""
    text = state.ctx.text(node, where)
    if text is None or node is None:
        return None
    calendar = state.calendar
    kinds = {"quarterly": ("quarter",), "annual": ("year",), "monthly": ("month",),
             "any": ("quarter", "year")}[frequency]
    for kind in kinds:
        try:
            if kind == "quarter":
                return calendar.parse_quarter(text).label
            if kind == "year":
                return calendar.parse_year(text).label
            return calendar.parse_month(text).isoformat()[:7]
        except ValueError:
            continue
    example = {
        "quarterly": f"a quarter such as \"{calendar.example_year} Q1\"",
        "annual": f"a year such as {calendar.example_year}",
        "monthly": "a month such as 2025-04",
        "any": f"a year such as {calendar.example_year} or a quarter such as "
               f"\"{calendar.example_year} Q1\"",
    }[frequency]
    state.ctx.error(node, f"{where}: '{text}' is not {example}")
    return None


def read_delivery(state: State, node: Node, partnership: Partnership | None
                  ) -> dict[str, tuple[Action, ...]]:
    ctx = state.ctx
    plan_years = {y.label: y for y in partnership.years} if partnership else {}
    delivery: dict[str, tuple[Action, ...]] = {}
    action_lines: dict[str, int] = {}
    first_commitment: dict[str, tuple[str, int]] = {}
    for year_node, actions_node in ctx.pairs(node, "delivery", "years to lists of actions"):
        year = _year(state, year_node, "delivery")
        if year is None:
            continue
        if plan_years and year.label not in plan_years:
            first, last = min(plan_years.values()), max(plan_years.values())
            ctx.error(year_node, f"delivery {year.label}: the year is outside the plan period "
                      f"({first.label} to {last.label})")
            continue
        actions = []
        seen_in_year: dict[str, int] = {}
        for item in ctx.sequence(actions_node, f"delivery {year.label}", "actions"):
            action = _read_action(state, item, year)
            if action is None:
                continue
            if action.id in seen_in_year:
                ctx.error(item, f"delivery {year.label} action {action.id}: the id is used twice "
                          f"in {year.label} (also on line {seen_in_year[action.id]}); action ids "
                          "must be unique within a year")
                continue
            seen_in_year[action.id] = action.line
            previous = first_commitment.get(action.id)
            if previous is None:
                first_commitment[action.id] = (action.commitment, action.line)
            elif previous[0] != action.commitment:
                ctx.warn(item, f"delivery {year.label} action {action.id}: continues the action "
                         f"on line {previous[1]} but moves it from commitment {previous[0]} to "
                         f"{action.commitment}")
            action_lines.setdefault(action.id, action.line)
            actions.append(action)
        delivery[year.label] = tuple(actions)
    for action_id, line in action_lines.items():
        state.define("action", action_id, line, f"action {action_id}")
    return delivery


def _read_action(state: State, node: Node, year: Year) -> Action | None:
    ctx = state.ctx
    keys = ctx.mapping(
        node, f"delivery {year.label} action on line {line_of(node)}",
        ("id", "commitment", "title", "owner", "lead", "due"),
        ("group", "starts", "themes", "prevention", "kpis", "milestones"),
    )
    if keys is None:
        return None
    aid = state.ident(keys.get("id"), f"delivery {year.label} action")
    where = state.name(f"delivery {year.label} action", aid, node)
    commitment = ctx.text(keys.get("commitment"), f"{where} commitment")
    state.refer("commitment", commitment, keys.get("commitment") or node,
                f"{where}")
    title = ctx.text(keys.get("title"), f"{where} title")
    owner = state.email(keys.get("owner"), f"{where} owner")
    state.refer("person", owner, keys.get("owner") or node, f"{where} owner")
    lead = state.ident(keys.get("lead"), f"{where} lead")
    state.refer("authority", lead, keys.get("lead") or node, f"{where} lead")
    group = None
    if "group" in keys:
        group = state.ident(keys["group"], f"{where} group")
        state.refer("group", group, keys["group"], f"{where} group")
    starts = ctx.date(keys.get("starts"), f"{where} starts")
    due = ctx.date(keys.get("due"), f"{where} due")
    if starts and due and due < starts:
        ctx.error(keys["due"], f"{where}: due {due} is before it starts, {starts}")
        due = None
    if due is not None and due < year.start:
        ctx.warn(keys["due"], f"{where}: due {due} is before {year.label} begins")
    themes = state.ref_list("theme", keys.get("themes"), f"{where} themes", "theme ids")
    prevention = None
    if "prevention" in keys:
        prevention = state.ident(keys["prevention"], f"{where} prevention")
        state.refer("prevention", prevention, keys["prevention"], f"{where} prevention")
    kpis = state.ref_list("kpi", keys.get("kpis"), f"{where} kpis", "KPI ids")
    milestones = []
    for item in ctx.sequence(keys["milestones"], f"{where} milestones", "milestones") \
            if "milestones" in keys else []:
        milestone = _read_milestone(state, item, where, due)
        if milestone is not None:
            milestones.append(milestone)
    keys_seen = [m.key for m in milestones]
    for milestone in milestones:
        if keys_seen.count(milestone.key) > 1:
            ctx.error(milestone.line, f"{where}: milestone '{milestone.key}' is given twice; "
                      "give each milestone a different title (or id)")
            return None
    if None in (aid, commitment, title, owner, lead, due):
        return None
    assert aid and commitment and title and owner and lead and due
    return Action(
        id=aid, year=year.label, commitment=commitment, title=title, owner=owner, lead=lead,
        group=group, starts=starts, due=due, themes=themes, prevention=prevention, kpis=kpis,
        milestones=tuple(milestones), line=line_of(node),
    )


def _read_milestone(state: State, node: Node, where: str, action_due: object
                    ) -> Milestone | None:
    ctx = state.ctx
    keys = ctx.mapping(node, f"{where} milestone on line {line_of(node)}", ("title", "due"),
                       ("id",))
    if keys is None:
        return None
    title = ctx.text(keys.get("title"), f"{where} milestone title")
    due = ctx.date(keys.get("due"), f"{where} milestone {title!r} due" if title else
                   f"{where} milestone due")
    mid = state.ident(keys["id"], f"{where} milestone") if "id" in keys else None
    if title is None or due is None:
        return None
    if action_due is not None and due > action_due:  # type: ignore[operator]
        ctx.warn(keys["due"], f"{where}: milestone '{title}' is due {due}, after the action "
                 f"itself ({action_due})")
    return Milestone(title, due, mid, line_of(node))
