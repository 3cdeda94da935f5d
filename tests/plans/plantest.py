"""Helpers for the plan tests: the base plan, and broken copies of it with known line numbers."""

from __future__ import annotations

from pathlib import Path

import plans
from plans import Plan, Problem

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]
KINGSTON = ROOT / "plans.yaml"
BASE = (DATA / "base.yaml").read_text(encoding="utf-8")
NAME = "plans.yaml"


def line_of(text: str, line: str) -> int:
    """The 1-based number of the one line of ``text`` that is exactly ``line``."""
    found = [n for n, got in enumerate(text.splitlines(), start=1) if got == line]
    assert len(found) == 1, f"{line!r} is on lines {found} of the base plan, expected once"
    return found[0]


def replace(old: str, new: str, text: str = BASE) -> tuple[str, int]:
    """``text`` with its one line ``old`` replaced by ``new`` (one or more lines).

    Returns the new text and the number of the line where ``new`` starts.
    """
    number = line_of(text, old)
    lines = text.splitlines()
    lines[number - 1:number] = new.split("\n")
    return "\n".join(lines) + "\n", number


def insert_after(anchor: str, new: str, text: str = BASE) -> tuple[str, int]:
    """``text`` with ``new`` inserted after its one line ``anchor``; the first new line's number."""
    number = line_of(text, anchor)
    lines = text.splitlines()
    lines[number:number] = new.split("\n")
    return "\n".join(lines) + "\n", number + 1


def delete(old: str, text: str = BASE) -> tuple[str, int]:
    """``text`` without its one line ``old``; the number the line had."""
    number = line_of(text, old)
    lines = text.splitlines()
    del lines[number - 1]
    return "\n".join(lines) + "\n", number


def refused(text: str | bytes) -> list[Problem]:
    """The errors for a plan that must be refused (asserted), as check_plan reports them."""
    plan, problems = plans.check_plan(text, NAME)
    assert plan is None, "the plan was accepted but should have been refused"
    errors = [p for p in problems if p.is_error]
    assert errors, "the plan was refused without a single error"
    return errors


def errors_of(text: str | bytes) -> list[str]:
    """The printed error lines (``FILE:LINE: message``) for a refused plan."""
    return [str(p) for p in refused(text)]


def accepted(text: str | bytes) -> Plan:
    """The plan, asserting that it loads with no errors."""
    plan, problems = plans.check_plan(text, NAME)
    errors = [str(p) for p in problems if p.is_error]
    assert plan is not None and not errors, errors
    return plan
