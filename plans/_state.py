"""Shared state while one plan file is read: problems, defined ids and pending references."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from yaml.nodes import Node, ScalarNode

from plans.periods import Calendar
from plans.yamlsource import Context, describe, line_of, suggest

ID_PATTERN = re.compile(r"^[A-Za-z0-9-]+$")
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[A-Za-z0-9-]+$")

# what a reference kind is called in messages
KIND_NAMES = {
    "authority": "authority",
    "group": "group",
    "theme": "theme",
    "prevention": "prevention level",
    "kpi": "KPI",
    "commitment": "commitment",
    "person": "person",
    "principle": "principle",
    "duty": "duty",
    "priority": "priority",
    "action": "action",
}


@dataclass
class Reference:
    kind: str
    value: str
    line: int
    where: str


@dataclass
class State:
    ctx: Context
    calendar: Calendar = field(default_factory=Calendar)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    refs: list[Reference] = field(default_factory=list)
    check_people: bool = False

    @staticmethod
    def name(label: str, ident: str | None, node: Node) -> str:
        """How messages name an item: 'group communities', or 'group on line 12'."""
        return f"{label} {ident}" if ident else f"{label} on line {line_of(node)}"

    def ident(self, node: Node | None, where: str) -> str | None:
        """An id: letters, digits and '-'; YAML integers are accepted (``id: 1``)."""
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or not str(node.value).strip():
            self.ctx.error(node, f"{where}: id must be a word of letters, digits and '-', "
                           f"found {describe(node)}")
            return None
        value = str(node.value).strip()
        if not ID_PATTERN.match(value):
            self.ctx.error(node, f"{where}: id '{value}' may only contain letters, digits and "
                           "'-' (no dots, spaces or other signs)")
            return None
        return value

    def email(self, node: Node | None, where: str) -> str | None:
        text = self.ctx.text(node, where)
        if text is None or node is None:
            return None
        if not EMAIL_PATTERN.match(text):
            self.ctx.error(node, f"{where}: '{text}' is not an email address")
            return None
        return text.lower()

    def define(self, kind: str, value: str, node: Node | int, where: str) -> bool:
        """Record an id of ``kind``; refuse it if it was already defined."""
        known = self.ids.setdefault(kind, {})
        line = node if isinstance(node, int) else line_of(node)
        if value in known:
            self.ctx.error(line, f"{where}: {KIND_NAMES[kind]} '{value}' is defined twice "
                           f"(also on line {known[value]}); ids must be unique")
            return False
        known[value] = line
        return True

    def refer(self, kind: str, value: str | None, node: Node | int, where: str) -> None:
        """Remember a reference, checked once every id in the file is known."""
        if value is None:
            return
        line = node if isinstance(node, int) else line_of(node)
        self.refs.append(Reference(kind, value, line, where))

    def ref_list(self, kind: str, node: Node | None, where: str, what: str) -> tuple[str, ...]:
        """A list of references (a single value is accepted as a one-item list)."""
        if node is None:
            return ()
        values: list[str] = []
        for item in self.ctx.sequence(node, where, what):
            value = self.email(item, where) if kind == "person" else self.ref_value(item, where)
            if value is None:
                continue
            if value in values:
                self.ctx.warn(item, f"{where}: '{value}' is listed twice")
                continue
            self.refer(kind, value, item, where)
            values.append(value)
        return tuple(values)

    def ref_value(self, node: Node, where: str) -> str | None:
        text = self.ctx.text(node, where)
        return text

    def resolve(self) -> None:
        """Check every remembered reference against the ids defined in the file."""
        for ref in self.refs:
            if ref.kind == "person" and not self.check_people:
                continue
            known = self.ids.get(ref.kind, {})
            if ref.value in known:
                continue
            name = KIND_NAMES[ref.kind]
            if ref.kind == "person":
                self.ctx.error(ref.line, f"{ref.where}: {ref.value} is not in people; add them "
                               "to the people list or correct the address"
                               f"{suggest(ref.value, set(known))}")
                continue
            hint = suggest(ref.value, set(known))
            if not hint and known and len(known) <= 12:
                hint = "; known: " + ", ".join(sorted(known))
            self.ctx.error(ref.line, f"{ref.where}: {name} {ref.value} does not exist{hint}")
