"""Reading the plan's structure: partnership, partners, groups, people, themes, priorities."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from yaml.nodes import Node

from plans._state import State
from plans.model import (
    GROUP_KINDS,
    ROLES,
    Authority,
    Commitment,
    Duty,
    Group,
    NamedText,
    Part,
    Partnership,
    Person,
    PlanPeriod,
    PoliceArea,
    Priority,
    Theme,
)
from plans.periods import Calendar
from plans.police_uk import read_area
from plans.yamlsource import describe, line_of

_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")


def month_day(state: State, node: Node | None, where: str) -> tuple[int, int] | None:
    text = state.ctx.text(node, where)
    if text is None or node is None:
        return None
    match = _MONTH_DAY.match(text)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        try:
            date(2024, month, day)
        except ValueError:
            pass
        else:
            return month, day
    state.ctx.error(node, f"{where}: '{text}' is not a day of the year; write it as MM-DD, "
                    "e.g. \"04-01\" for 1 April (in quotes)")
    return None


def read_partnership(state: State, node: Node) -> Partnership | None:
    ctx = state.ctx
    keys = ctx.mapping(node, "partnership", ("id", "name", "plan"),
                       ("area", "vision", "year_starts", "police_uk"))
    if keys is None:
        return None
    pid = state.ident(keys.get("id"), "partnership")
    name = ctx.text(keys.get("name"), "partnership name")
    period = None
    plan_keys: dict[str, Node] | None = None
    if "plan" in keys:
        plan_keys = ctx.mapping(keys["plan"], "partnership plan", ("title", "starts", "ends"))
        if plan_keys is not None:
            title = ctx.text(plan_keys.get("title"), "partnership plan title")
            starts = ctx.date(plan_keys.get("starts"), "partnership plan starts")
            ends = ctx.date(plan_keys.get("ends"), "partnership plan ends")
            if starts and ends and ends <= starts:
                ctx.error(plan_keys["ends"], f"partnership plan ends: {ends} is not after the "
                          f"start, {starts}")
            elif title and starts and ends:
                period = PlanPeriod(title, starts, ends)
    year_starts: tuple[int, int] | None = (4, 1)
    if "year_starts" in keys:
        year_starts = month_day(state, keys["year_starts"], "partnership year_starts")
        if year_starts is not None and year_starts[1] != 1:
            ctx.error(keys["year_starts"], "partnership year_starts: a financial year must start "
                      "on the first day of a month, e.g. \"04-01\" or \"01-01\"")
            year_starts = None
    if year_starts is not None:
        state.calendar = Calendar(*year_starts)
        if period is not None and state.calendar.year_of(period.starts).start != period.starts:
            ctx.warn(plan_keys["starts"] if plan_keys else keys["plan"],
                     f"partnership plan starts on {period.starts}, which is not "
                     "the first day of a financial year; its first year will be partial")
    area = read_area(state, keys["police_uk"]) if "police_uk" in keys else None
    if pid is None or name is None or period is None or year_starts is None:
        return None
    return Partnership(
        police_uk=None if area is None else PoliceArea(area[0], frozenset(area[1])),
        id=pid,
        name=name,
        area=ctx.text(keys.get("area"), "partnership area"),
        vision=ctx.text(keys.get("vision"), "partnership vision"),
        plan=period,
        year_starts=year_starts,
    )


def read_authorities(state: State, node: Node) -> tuple[Authority, ...]:
    ctx = state.ctx
    result = []
    for item in ctx.sequence(node, "authorities", "partner agencies"):
        keys = ctx.mapping(item, f"authority on line {line_of(item)}", ("id", "name"),
                           ("responsible",))
        if keys is None:
            continue
        aid = state.ident(keys.get("id"), "authority")
        where = state.name("authority", aid, item)
        if aid is not None and not state.define("authority", aid, item, where):
            continue
        name = ctx.text(keys.get("name"), f"{where} name")
        responsible = ctx.boolean(keys.get("responsible"), f"{where} responsible")
        if aid is None or name is None:
            continue
        result.append(Authority(aid, name, bool(responsible), line_of(item)))
    if not result and not ctx.has_errors:
        ctx.error(node, "authorities: list at least one partner agency")
    return tuple(result)


def read_groups(state: State, node: Node) -> tuple[Group, ...]:
    ctx = state.ctx
    result = []
    unreadable = 0
    for item in ctx.sequence(node, "groups", "groups"):
        keys = ctx.mapping(item, f"group on line {line_of(item)}", ("id", "name", "kind"),
                           ("reports_to", "lead", "members"))
        if keys is None:
            unreadable += 1
            continue
        gid = state.ident(keys.get("id"), "group")
        where = state.name("group", gid, item)
        if gid is not None and not state.define("group", gid, item, where):
            continue
        name = ctx.text(keys.get("name"), f"{where} name")
        kind = ctx.choice(keys.get("kind"), f"{where} kind", GROUP_KINDS)
        reports_to = None
        if "reports_to" in keys:
            reports_to = state.ident(keys["reports_to"], f"{where} reports_to")
            state.refer("group", reports_to, keys["reports_to"], f"{where} reports_to")
            if reports_to is not None and reports_to == gid:
                ctx.error(keys["reports_to"], f"{where}: a group cannot report to itself")
        lead = None
        if "lead" in keys:
            lead = state.email(keys["lead"], f"{where} lead")
            state.refer("person", lead, keys["lead"], f"{where} lead")
        members = state.ref_list("person", keys.get("members"), f"{where} members",
                                 "email addresses")
        if gid is None or name is None or kind is None:
            unreadable += 1
            continue
        if lead is None and kind != "forum":
            ctx.warn(item, f"{where}: has no lead, so reminders and escalations meant for the "
                     "group lead will go to nobody")
        result.append(Group(gid, name, kind, reports_to, lead, members, line_of(item)))  # type: ignore[arg-type]
    boards = [g for g in result if g.kind == "board"]
    if len(boards) > 1:
        ctx.error(boards[1].line, f"group {boards[1].id}: only one group may have kind: board "
                  f"(group {boards[0].id} on line {boards[0].line} already does)")
    elif not boards and not unreadable:
        ctx.error(node, "groups: one group must have kind: board (the partnership board)")
    _check_reporting_cycles(state, result)
    return tuple(result)


def _check_reporting_cycles(state: State, groups: list[Group]) -> None:
    """Report each circle of reports_to once (a group reporting to itself is reported apart)."""
    parent = {g.id: g.reports_to for g in groups if g.reports_to != g.id}
    line = {g.id: g.line for g in groups}
    reported: set[frozenset[str]] = set()
    for group in groups:
        path = [group.id]
        current = parent.get(group.id)
        while current is not None and current in parent and current not in path:
            path.append(current)
            current = parent.get(current)
        if current is None or current not in path:
            continue
        circle = path[path.index(current):]
        if frozenset(circle) in reported:
            continue
        reported.add(frozenset(circle))
        first = min(circle, key=lambda g: line[g])
        start = circle.index(first)
        ordered = circle[start:] + circle[:start]
        state.ctx.error(line[first], f"group {first}: reports_to goes round in a circle "
                        f"({' -> '.join([*ordered, first])})")


def read_people(state: State, node: Node) -> tuple[Person, ...]:
    ctx = state.ctx
    state.check_people = True
    result = []
    for item in ctx.sequence(node, "people", "people"):
        keys = ctx.mapping(item, f"person on line {line_of(item)}", ("email", "name"),
                           ("role", "groups"))
        if keys is None:
            continue
        email = state.email(keys.get("email"), f"person on line {line_of(item)} email")
        where = state.name("person", email, item)
        if email is not None and not state.define("person", email, item, where):
            continue
        name = ctx.text(keys.get("name"), f"{where} name")
        role = "member"
        if "role" in keys:
            role = ctx.choice(keys["role"], f"{where} role", ROLES) or "member"
        groups = state.ref_list("group", keys.get("groups"), f"{where} groups", "group ids")
        if email is None or name is None:
            continue
        result.append(Person(email, name, role, groups, line_of(item)))  # type: ignore[arg-type]
    return tuple(result)


def read_themes(state: State, node: Node) -> tuple[Theme, ...]:
    ctx = state.ctx
    result = []
    for item in ctx.sequence(node, "themes", "cross-cutting themes"):
        keys = ctx.mapping(item, f"theme on line {line_of(item)}", ("id", "name"),
                           ("summary", "points"))
        if keys is None:
            continue
        tid = state.ident(keys.get("id"), "theme")
        where = state.name("theme", tid, item)
        if tid is not None and not state.define("theme", tid, item, where):
            continue
        name = ctx.text(keys.get("name"), f"{where} name")
        points = []
        for point in ctx.sequence(keys["points"], f"{where} points", "text") \
                if "points" in keys else []:
            text = ctx.text(point, f"{where} point")
            if text:
                points.append(text)
        if tid is None or name is None:
            continue
        summary = ctx.text(keys.get("summary"), f"{where} summary", required=False)
        result.append(Theme(tid, name, summary, tuple(points), line_of(item)))
    if not result and not ctx.has_errors:
        ctx.error(node, "themes: list at least one cross-cutting theme")
    return tuple(result)


def read_texts(state: State, node: Node, where: str) -> tuple[str, ...]:
    texts = []
    for item in state.ctx.sequence(node, where, "text"):
        text = state.ctx.text(item, f"{where} item on line {line_of(item)}")
        if text:
            texts.append(text)
    return tuple(texts)


def read_named(state: State, node: Node, section: str, kind: str | None
               ) -> tuple[NamedText, ...]:
    """Principles and prevention levels: lists of {id, name, text}."""
    ctx = state.ctx
    singular = {"principles": "principle", "prevention_levels": "prevention level"}[section]
    result = []
    for item in ctx.sequence(node, section, f"{singular}s"):
        keys = ctx.mapping(item, f"{singular} on line {line_of(item)}", ("id", "name"),
                           ("text",))
        if keys is None:
            continue
        nid = state.ident(keys.get("id"), singular)
        where = state.name(singular, nid, item)
        if nid is not None and kind is not None and not state.define(kind, nid, item, where):
            continue
        name = ctx.text(keys.get("name"), f"{where} name")
        text = ctx.text(keys.get("text"), f"{where} text", required=False)
        if nid is None or name is None:
            continue
        result.append(NamedText(nid, name, text, line_of(item)))
    return tuple(result)


def read_duties(state: State, node: Node) -> tuple[Duty, ...]:
    ctx = state.ctx
    result = []
    for item in ctx.sequence(node, "duties", "statutory duties"):
        keys = ctx.mapping(item, f"duty on line {line_of(item)}", ("id", "text"),
                           ("every", "due"))
        if keys is None:
            continue
        did = state.ident(keys.get("id"), "duty")
        where = state.name("duty", did, item)
        if did is not None and not state.define("duty", did, item, where):
            continue
        text = ctx.text(keys.get("text"), f"{where} text")
        every = ctx.choice(keys.get("every"), f"{where} every", ("year",)) \
            if "every" in keys else None
        due = month_day(state, keys.get("due"), f"{where} due") if "due" in keys else None
        if due is not None and every is None:
            every = "year"
        if did is None or text is None:
            continue
        if every is not None and due is None:
            ctx.warn(item, f"{where}: recurs every year but has no due date (due: MM-DD), "
                     "so it cannot be chased")
        result.append(Duty(did, text, every, due, line_of(item)))  # type: ignore[arg-type]
    return tuple(result)


def read_priorities(state: State, node: Node) -> tuple[Priority, ...]:
    ctx = state.ctx
    result = []
    for item in ctx.sequence(node, "priorities", "priorities"):
        keys = ctx.mapping(item, f"priority on line {line_of(item)}", ("id", "title"),
                           ("short_title", "group", "commitments"))
        if keys is None:
            continue
        pid = state.ident(keys.get("id"), "priority")
        where = state.name("priority", pid, item)
        if pid is not None and not state.define("priority", pid, item, where):
            continue
        title = ctx.text(keys.get("title"), f"{where} title")
        group = None
        if "group" in keys:
            group = state.ident(keys["group"], f"{where} group")
            state.refer("group", group, keys["group"], f"{where} group")
        if pid is None or title is None:
            continue
        commitments = _read_commitments(state, pid, keys.get("commitments"), item)
        result.append(Priority(
            pid, title, ctx.text(keys.get("short_title"), f"{where} short_title",
                                 required=False),
            group, commitments, line_of(item),
        ))
    if not result and not ctx.has_errors:
        ctx.error(node, "priorities: list at least one priority")
    return tuple(result)


def _read_commitments(state: State, pid: str, node: Node | None, owner: Node
                      ) -> tuple[Commitment, ...]:
    ctx = state.ctx
    if node is None:
        ctx.warn(owner, f"priority {pid}: has no commitments")
        return ()
    result = []
    for item in ctx.sequence(node, f"priority {pid} commitments", "commitments"):
        keys = ctx.mapping(item, f"priority {pid} commitment on line {line_of(item)}",
                           ("id", "text"), ("themes", "prevention", "parts"))
        if keys is None:
            continue
        cid = state.ident(keys.get("id"), f"priority {pid} commitment")
        ref = f"{pid}.{cid}"
        where = state.name("commitment", ref if cid else None, item)
        if cid is not None and not state.define("commitment", ref, item, where):
            continue
        text = ctx.text(keys.get("text"), f"{where} text")
        themes = state.ref_list("theme", keys.get("themes"), f"{where} themes", "theme ids")
        prevention = _prevention(state, keys.get("prevention"), where)
        if cid is None or text is None:
            continue
        parts = []
        for part_node in ctx.sequence(keys["parts"], f"{where} parts", "parts") \
                if "parts" in keys else []:
            part = _read_part(state, ref, part_node)
            if part is not None:
                parts.append(part)
        result.append(Commitment(cid, ref, pid, text, themes, prevention, tuple(parts),
                                 line_of(item)))
    _warn_gaps(state, [c.id for c in result], [c.line for c in result], f"priority {pid}")
    return tuple(result)


def _read_part(state: State, ref: str, node: Node) -> Part | None:
    ctx = state.ctx
    keys = ctx.mapping(node, f"commitment {ref} part on line {line_of(node)}", ("id", "text"),
                       ("themes", "prevention"))
    if keys is None:
        return None
    part_id = state.ident(keys.get("id"), f"commitment {ref} part")
    part_ref = f"{ref}.{part_id}"
    where = state.name("part", part_ref if part_id else None, node)
    if part_id is not None and not state.define("commitment", part_ref, node, where):
        return None
    text = ctx.text(keys.get("text"), f"{where} text")
    themes = state.ref_list("theme", keys.get("themes"), f"{where} themes", "theme ids")
    prevention = _prevention(state, keys.get("prevention"), where)
    if part_id is None or text is None:
        return None
    return Part(part_id, part_ref, text, themes, prevention, line_of(node))


def _prevention(state: State, node: Node | None, where: str) -> str | None:
    if node is None:
        return None
    value = state.ident(node, f"{where} prevention")
    state.refer("prevention", value, node, f"{where} prevention")
    return value


def _warn_gaps(state: State, ids: list[str], lines: list[int], where: str) -> None:
    """Warn when lettered or numbered ids skip one (a, b, d: is c missing?)."""
    if len(ids) < 2:
        return
    show: Callable[[int], str]
    if all(len(i) == 1 and i.isalpha() and i.islower() for i in ids):
        numbers = [ord(i) for i in ids]
        show = chr
    elif all(i.isdigit() for i in ids):
        numbers = [int(i) for i in ids]
        show = str
    else:
        return
    for before, after, line in zip(numbers, numbers[1:], lines[1:], strict=False):
        if after != before + 1:
            missing = show(before + 1) if after > before else "?"
            state.ctx.warn(line, f"{where}: commitment ids go from {show(before)} to "
                           f"{show(after)}; is {missing} missing or out of order?")


__all__ = [
    "describe",
    "month_day",
    "read_authorities",
    "read_duties",
    "read_groups",
    "read_named",
    "read_partnership",
    "read_people",
    "read_priorities",
    "read_texts",
    "read_themes",
]
