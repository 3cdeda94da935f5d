"""Reading a plan file safely: YAML nodes with their line numbers, bounded aliases.

The file is *composed* (not constructed) with PyYAML's safe loader, so every value keeps
the line it was written on. Aliases are not expanded by composing; a "billion laughs" file
is caught by measuring how large the document would be once its aliases were expanded,
before anything walks it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from plans.errors import Problem, Severity

try:  # the C loader is many times faster; the pure-Python one is the fallback
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - the PyYAML wheel ships the C loader
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000
MAX_DEPTH = 64

TAG_NULL = "tag:yaml.org,2002:null"
TAG_MERGE = "tag:yaml.org,2002:merge"
TAG_STR = "tag:yaml.org,2002:str"


class RefusedFile(Exception):
    """The file cannot be read as YAML at all; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping of keys"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == TAG_NULL:
        return "nothing"
    return f"'{node.value}'"


def compose(text: str, filename: str) -> Node | None:
    """Compose YAML text into a node graph, refusing oversized alias expansion."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        what = ": ".join(part for part in (exc.context, exc.problem) if part)
        raise RefusedFile(
            Problem(filename, line, f"this is not valid YAML: {what}; check the indentation "
                    "and quoting on this line and the one before it")
        ) from None
    except yaml.YAMLError as exc:
        raise RefusedFile(Problem(filename, 1, f"this is not valid YAML: {exc}")) from None
    except RecursionError:
        raise RefusedFile(
            Problem(filename, 1, f"the file is nested too deeply (more than {MAX_DEPTH} levels)")
        ) from None
    if root is not None:
        if "*" in text:  # an alias is written with a *: without one, nothing can expand
            _check_expansion(root, filename)
        else:
            _check_depth(root, filename)
    return root


def _check_depth(root: Node, filename: str) -> None:
    """Refuse a document (one without aliases) nested deeper than ``MAX_DEPTH``.

    It finds the first node too deep in the order :func:`_check_expansion` walks them, so
    the refusal names the same line, but it visits only the lists and mappings.
    """
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            continue
        if children and depth >= MAX_DEPTH:
            raise RefusedFile(
                Problem(filename, line_of(children[0]),
                        f"the file is nested too deeply (more than {MAX_DEPTH} levels)")
            )
        stack.extend((child, depth + 1) for child in reversed(children)
                     if not isinstance(child, ScalarNode))


def _check_expansion(root: Node, filename: str) -> None:
    """Refuse a document whose aliases would expand beyond ``MAX_EXPANDED_NODES``."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > MAX_DEPTH:
            raise RefusedFile(
                Problem(filename, line_of(node),
                        f"the file is nested too deeply (more than {MAX_DEPTH} levels)")
            )
        if key in on_path:
            raise RefusedFile(
                Problem(filename, line_of(node), "an alias refers to the anchor it is inside of; "
                        "a plan cannot contain itself")
            )
        total = 1
        on_path.add(key)
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                total += size(key_node, depth + 1) + size(value_node, depth + 1)
        on_path.discard(key)
        if total > MAX_EXPANDED_NODES:
            raise RefusedFile(
                Problem(filename, line_of(node),
                        f"the file expands to more than {MAX_EXPANDED_NODES:,} values through "
                        "its anchors (&) and aliases (*); write the repeated parts out instead")
            )
        sizes[key] = total
        return total

    size(root, 0)


def read_text(data: bytes, filename: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise RefusedFile(
            Problem(filename, 1, f"the file is {len(data):,} bytes; a plan file may be at most "
                    f"{MAX_FILE_BYTES:,} bytes")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RefusedFile(
            Problem(filename, line, "the file is not UTF-8 text; save it as UTF-8 "
                    "(in most editors: Save as, Encoding: UTF-8)")
        ) from None
    return text


def suggest(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """'; did you mean 'x'?' when a close match exists, else ''.

    Email addresses are compared by the part before the @, among addresses at the same
    domain, so that a shared domain does not make every address look close.
    """
    if "@" in word:
        local, _, domain = word.partition("@")
        same = {c.partition("@")[0]: c for c in choices if c.partition("@")[2] == domain}
        close = difflib.get_close_matches(local, sorted(same), n=1, cutoff=0.7)
        return f"; did you mean '{same[close[0]]}'?" if close else ""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass
class Context:
    """Collects problems while a plan is read; shared by every section reader."""

    filename: str
    problems: list[Problem] = field(default_factory=list)

    def error(self, node: Node | int, message: str) -> None:
        self._add(node, message, "error")

    def warn(self, node: Node | int, message: str) -> None:
        self._add(node, message, "warning")

    def _add(self, node: Node | int, message: str, severity: Severity) -> None:
        line = node if isinstance(node, int) else line_of(node)
        self.problems.append(Problem(self.filename, line, message, severity))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)

    # -- shapes ---------------------------------------------------------------------------

    def mapping(
        self,
        node: Node,
        where: str,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
    ) -> dict[str, Node] | None:
        """The keys of a mapping node; refuse unknown, duplicate and missing keys."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{where}: expected {_shape(required, optional)}, "
                       f"found {describe(node)}")
            return None
        allowed = set(required) | set(optional)
        found: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        suggested: set[str] = set()
        for bad in _bad_merges(node):
            self.error(bad, f"{where}: a merge key (<<) must name an anchor of a mapping, "
                       "e.g. '<<: *defaults' (is the * missing?)")
        for key_node, value_node in _merged_pairs(node):
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, f"{where}: a key must be a plain word, found "
                           f"{describe(key_node)}")
                continue
            key = str(key_node.value)
            if key in key_lines:
                self.error(key_node, f"{where}: key '{key}' is given twice (also on line "
                           f"{key_lines[key]}); keep one")
                continue
            key_lines[key] = line_of(key_node)
            if key not in allowed:
                close = suggest(key, allowed)
                if close:
                    suggested.add(close.split("'")[1])
                hint = close or "; allowed keys: " + ", ".join(
                    sorted(allowed))
                self.error(key_node, f"{where}: unknown key '{key}'{hint}")
                continue
            found[key] = value_node
        for key in required:
            if key not in found and key not in key_lines and key not in suggested:
                self.error(node, f"{where}: missing required key '{key}'")
        return found

    def sequence(self, node: Node, where: str, what: str) -> list[Node]:
        """The items of a list node (a single scalar is accepted as a one-item list)."""
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode) and node.tag == TAG_NULL:
            return []
        if isinstance(node, ScalarNode):
            return [node]
        self.error(node, f"{where}: expected a list of {what}, found {describe(node)}")
        return []

    def pairs(self, node: Node, where: str, what: str) -> Iterator[tuple[ScalarNode, Node]]:
        """The (key, value) pairs of a mapping whose keys are data (years, periods)."""
        if isinstance(node, ScalarNode) and node.tag == TAG_NULL:
            return
        if not isinstance(node, MappingNode):
            self.error(node, f"{where}: expected a mapping of {what}, found {describe(node)}")
            return
        seen: dict[str, int] = {}
        for key_node, value_node in _merged_pairs(node):
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, f"{where}: a key must be a plain value, found "
                           f"{describe(key_node)}")
                continue
            key = str(key_node.value)
            if key in seen:
                self.error(key_node, f"{where}: '{key}' is given twice (also on line "
                           f"{seen[key]}); keep one")
                continue
            seen[key] = line_of(key_node)
            yield key_node, value_node

    # -- scalars --------------------------------------------------------------------------

    def text(self, node: Node | None, where: str, *, required: bool = True) -> str | None:
        """Any scalar, as the text written in the file (so ``yes`` stays 'yes')."""
        if node is None:
            return None
        if not isinstance(node, ScalarNode):
            self.error(node, f"{where}: expected text, found {describe(node)}")
            return None
        if node.tag == TAG_NULL and not node.value:
            if required:
                self.error(node, f"{where}: is empty; write the text after the colon")
            return None
        value = str(node.value).strip()
        if not value and required:
            self.error(node, f"{where}: is empty; write the text after the colon")
            return None
        return value or None

    def value(self, node: Node) -> Any:
        """The typed value of a scalar node (int, float, bool, date, str, None)."""
        try:
            return SafeConstructor().construct_object(node, deep=True)
        except (ConstructorError, ValueError):
            return str(node.value)

    def integer(self, node: Node | None, where: str, *, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        if node is None:
            return None
        value = self.value(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(node, f"{where}: expected a whole number, found {describe(node)}")
            return None
        if minimum is not None and value < minimum:
            self.error(node, f"{where}: must be at least {minimum}, found {value}")
            return None
        if maximum is not None and value > maximum:
            self.error(node, f"{where}: must be at most {maximum}, found {value}")
            return None
        return value

    def number(self, node: Node | None, where: str, *, minimum: float | None = None
               ) -> float | None:
        if node is None:
            return None
        value = self.value(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(node, f"{where}: expected a number, found {describe(node)}")
            return None
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            self.error(node, f"{where}: expected a number, found {describe(node)}")
            return None
        if minimum is not None and number < minimum:
            self.error(node, f"{where}: must be at least {minimum:g}, found {number:g}")
            return None
        return number

    def boolean(self, node: Node | None, where: str) -> bool | None:
        if node is None:
            return None
        value = self.value(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, bool):
            self.error(node, f"{where}: expected true or false, found {describe(node)}")
            return None
        return value

    def date(self, node: Node | None, where: str) -> date | None:
        if node is None:
            return None
        if isinstance(node, ScalarNode):
            raw = str(node.value).strip()
            if _ISO_DATE.match(raw):
                try:
                    return date.fromisoformat(raw)
                except ValueError:
                    pass
        self.error(node, f"{where}: {describe(node)} is not a date; write dates as "
                   "YYYY-MM-DD, e.g. 2025-03-31")
        return None

    def choice(self, node: Node | None, where: str, choices: tuple[str, ...]) -> str | None:
        text = self.text(node, where)
        if text is None or node is None:
            return None
        if text not in choices:
            self.error(node, f"{where}: '{text}' is not one of: {', '.join(choices)}"
                       f"{suggest(text, choices)}")
            return None
        return text


def _merged_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """A mapping's pairs with YAML merge keys (``<<: *defaults``) applied."""
    pairs: list[tuple[Node, Node]] = node.value
    if all(key_node.tag != TAG_MERGE for key_node, _ in pairs):
        return pairs
    own: list[tuple[Node, Node]] = []
    merged: list[tuple[Node, Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag == TAG_MERGE:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(_merged_pairs(source))
        else:
            own.append((key_node, value_node))
    names = {str(k.value) for k, _ in own if isinstance(k, ScalarNode)}
    extra: list[tuple[Node, Node]] = []
    for key_node, value_node in merged:
        name = str(key_node.value) if isinstance(key_node, ScalarNode) else None
        if name is not None and name not in names:
            names.add(name)
            extra.append((key_node, value_node))
    return own + extra


def _bad_merges(node: MappingNode) -> list[Node]:
    bad: list[Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == TAG_MERGE:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            bad.extend(s for s in sources if not isinstance(s, MappingNode))
    return bad


def _shape(required: tuple[str, ...], optional: tuple[str, ...]) -> str:
    keys = list(required) or list(optional)
    if not keys:
        return "a mapping of keys"
    shown = ", ".join(keys[:4])
    return f"a mapping of keys ({shown}{', ...' if len(keys) > 4 else ''})"
