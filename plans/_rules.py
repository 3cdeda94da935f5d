"""Reading the ``rules`` section: every key optional, every default documented."""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from plans._state import EMAIL_PATTERN, State
from plans.rules import (
    APPROVALS,
    CHANGE_APPROVALS,
    COLOURS,
    DEFAULT_RULES,
    MAPPING_CONDITIONS,
    RECIPIENT_ROLES,
    ROLLUPS,
    SIMPLE_CONDITIONS,
    AllOf,
    AnyOf,
    BehindSchedule,
    CalendarRules,
    Colour,
    Condition,
    EscalationRule,
    KpiIs,
    NoUpdateFor,
    RagFor,
    RagRule,
    Reminder,
    Rules,
    SelfIs,
)
from plans.yamlsource import TAG_NULL, describe, line_of, suggest

MAX_CONDITION_DEPTH = 8


def read_rules(state: State, node: Node) -> Rules:
    ctx = state.ctx
    if isinstance(node, ScalarNode) and node.tag == TAG_NULL:
        return DEFAULT_RULES  # an empty rules section: every default applies
    keys = ctx.mapping(node, "rules", (),
                       ("calendar", "reminders", "rag", "rollup", "approval", "escalate",
                        "change_approval"))
    if keys is None:
        return DEFAULT_RULES
    calendar = DEFAULT_RULES.calendar
    if "calendar" in keys:
        cal = ctx.mapping(keys["calendar"], "rules calendar", (),
                          ("update_due_days", "window_opens_days"))
        if cal is not None:
            due = ctx.integer(cal.get("update_due_days"), "rules calendar update_due_days",
                              minimum=0, maximum=366)
            opens = ctx.integer(cal.get("window_opens_days"),
                                "rules calendar window_opens_days", minimum=0, maximum=92)
            calendar = CalendarRules(
                calendar.update_due_days if due is None else due,
                calendar.window_opens_days if opens is None else opens,
            )
    reminders = DEFAULT_RULES.reminders
    if "reminders" in keys:
        reminders = tuple(
            r for r in (_reminder(state, item) for item in
                        ctx.sequence(keys["reminders"], "rules reminders", "reminders"))
            if r is not None
        )
    rag = DEFAULT_RULES.rag
    if "rag" in keys:
        rag = _rag_rules(state, keys["rag"])
    rollup = DEFAULT_RULES.rollup
    if "rollup" in keys:
        rollup = ctx.choice(keys["rollup"], "rules rollup", ROLLUPS) or rollup  # type: ignore[assignment]
    approval = DEFAULT_RULES.approval
    if "approval" in keys:
        approval = ctx.choice(keys["approval"], "rules approval", APPROVALS) or approval  # type: ignore[assignment]
    escalate = DEFAULT_RULES.escalate
    if "escalate" in keys:
        escalate = _escalations(state, keys["escalate"])
    change_approval = DEFAULT_RULES.change_approval
    if "change_approval" in keys:
        change_approval = ctx.choice(keys["change_approval"], "rules change_approval",
                                     CHANGE_APPROVALS) or change_approval  # type: ignore[assignment]
    return Rules(calendar, reminders, rag, rollup, approval, escalate, change_approval)


def _recipients(state: State, node: Node | None, where: str) -> tuple[str, ...]:
    result: list[str] = []
    if node is None:
        state.ctx.error(0, f"{where}: missing required key 'to'")
        return ()
    for item in state.ctx.sequence(node, where, "recipients"):
        text = state.ctx.text(item, where)
        if text is None:
            continue
        if text in RECIPIENT_ROLES or EMAIL_PATTERN.match(text):
            result.append(text.lower() if "@" in text else text)
        else:
            state.ctx.error(item, f"{where}: '{text}' is not a recipient; use owner, group_lead, "
                            f"board or an email address{suggest(text, RECIPIENT_ROLES)}")
    items = node.value if isinstance(node, SequenceNode | ScalarNode) else None
    if not result and (items == [] or items == ""):
        state.ctx.error(node, f"{where}: name at least one recipient")
    return tuple(result)


def _reminder(state: State, node: Node) -> Reminder | None:
    where = f"rules reminder on line {line_of(node)}"
    keys = state.ctx.mapping(node, where, ("at", "to"))
    if keys is None:
        return None
    at = state.ctx.integer(keys.get("at"), f"{where} at", minimum=-92, maximum=366)
    to = _recipients(state, keys.get("to"), f"{where} to") if "to" in keys else ()
    if at is None or not to:
        return None
    return Reminder(at, to)


def _rag_rules(state: State, node: Node) -> tuple[RagRule, ...]:
    ctx = state.ctx
    result: list[RagRule] = []
    names: dict[str, int] = {}
    catch_all: RagRule | None = None
    for item in ctx.sequence(node, "rules rag", "RAG rules"):
        keys = ctx.mapping(item, f"rules rag rule on line {line_of(item)}", ("name", "then"),
                           ("if",))
        if keys is None:
            continue
        name = ctx.text(keys.get("name"), f"rules rag rule on line {line_of(item)} name")
        where = f"rules rag rule '{name}'" if name else f"rules rag rule on line {line_of(item)}"
        condition = condition_of(state, keys["if"], where) if "if" in keys else None
        then = ctx.choice(keys.get("then"), f"{where} then", (*COLOURS, "self"))
        if name is None or then is None or ("if" in keys and condition is None):
            continue
        if name in names:
            ctx.error(item, f"{where}: the name is used by the rule on line {names[name]} too; "
                      "every rule needs its own name, since statuses record it")
            continue
        names[name] = line_of(item)
        if catch_all is not None:
            ctx.warn(item, f"{where}: can never apply, because rule '{catch_all.name}' above it "
                     "has no 'if' and always applies")
        rule = RagRule(name, condition, then)  # type: ignore[arg-type]
        if condition is None:
            catch_all = rule
        result.append(rule)
    if result and catch_all is None:
        ctx.warn(node, "rules rag: no rule without 'if' at the end, so an action that no rule "
                 "matches is shown grey (no status)")
    return tuple(result)


def _escalations(state: State, node: Node) -> tuple[EscalationRule, ...]:
    ctx = state.ctx
    result: list[EscalationRule] = []
    names: dict[str, int] = {}
    for item in ctx.sequence(node, "rules escalate", "escalation rules"):
        keys = ctx.mapping(item, f"rules escalate rule on line {line_of(item)}",
                           ("name", "if", "to"))
        if keys is None:
            continue
        name = ctx.text(keys.get("name"), f"rules escalate rule on line {line_of(item)} name")
        where = (f"rules escalate rule '{name}'" if name
                 else f"rules escalate rule on line {line_of(item)}")
        condition = condition_of(state, keys["if"], where) if "if" in keys else None
        to = _recipients(state, keys.get("to"), f"{where} to") if "to" in keys else ()
        if name is None or condition is None or not to:
            continue
        if name in names:
            ctx.error(item, f"{where}: the name is used by the rule on line {names[name]} too; "
                      "escalations are recorded by rule name, so each needs its own")
            continue
        names[name] = line_of(item)
        result.append(EscalationRule(name, condition, to))
    return tuple(result)


def condition_of(state: State, node: Node, where: str, depth: int = 0) -> Condition | None:
    """Parse one condition (``past_due``, ``{rag: red, quarters: 2}``, ``{all: [...]}`` ...)."""
    ctx = state.ctx
    if depth > MAX_CONDITION_DEPTH:
        ctx.error(node, f"{where}: conditions are nested more than {MAX_CONDITION_DEPTH} deep")
        return None
    known = ", ".join([*SIMPLE_CONDITIONS, *(f"{{{k}: ...}}" for k in MAPPING_CONDITIONS)])
    if isinstance(node, ScalarNode):
        text = str(node.value).strip()
        if text in SIMPLE_CONDITIONS:
            return SIMPLE_CONDITIONS[text]
        hint = suggest(text, [*SIMPLE_CONDITIONS, *MAPPING_CONDITIONS])
        ctx.error(node, f"{where}: unknown condition '{text}'{hint}{' ' if hint else '. '}"
                  f"Conditions are: {known}")
        return None
    if not isinstance(node, MappingNode):
        ctx.error(node, f"{where}: a condition is a word or a mapping, found {describe(node)}")
        return None
    keys = ctx.mapping(node, f"{where} condition", (), (*MAPPING_CONDITIONS, "quarters"))
    if keys is None:
        return None
    chosen = [k for k in MAPPING_CONDITIONS if k in keys]
    if len(chosen) != 1:
        ctx.error(node, f"{where}: a condition mapping needs exactly one of "
                  f"{', '.join(MAPPING_CONDITIONS)}, found {', '.join(chosen) or 'none'}")
        return None
    kind = chosen[0]
    value = keys[kind]
    if "quarters" in keys and kind != "rag":
        ctx.error(keys["quarters"], f"{where}: 'quarters' goes only with 'rag'")
        return None
    if kind in ("all", "any"):
        items = ctx.sequence(value, f"{where} {kind}", "conditions")
        if not items:
            ctx.error(value, f"{where} {kind}: list at least one condition")
            return None
        parts = [condition_of(state, item, where, depth + 1) for item in items]
        if any(p is None for p in parts):
            return None
        conditions = tuple(p for p in parts if p is not None)
        return AllOf(conditions) if kind == "all" else AnyOf(conditions)
    if kind in ("rag", "self", "kpi"):
        colour: Colour | None = ctx.choice(value, f"{where} {kind}", COLOURS)  # type: ignore[assignment]
        if colour is None:
            return None
        if kind == "self":
            return SelfIs(colour)
        if kind == "kpi":
            return KpiIs(colour)
        quarters = ctx.integer(keys.get("quarters"), f"{where} quarters", minimum=1,
                               maximum=20) if "quarters" in keys else 1
        return RagFor(colour, quarters) if quarters is not None else None
    if kind == "no_update":
        quarters = ctx.integer(value, f"{where} no_update", minimum=1, maximum=20)
        return NoUpdateFor(quarters) if quarters is not None else None
    percent = ctx.number(value, f"{where} behind_schedule", minimum=0)
    if percent is None:
        return None
    if percent > 100:
        ctx.error(value, f"{where} behind_schedule: is a percentage up to 100, found {percent:g}")
        return None
    return BehindSchedule(percent)
