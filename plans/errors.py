"""Problems found in a plan file, each tied to the file and line it comes from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One error or warning, printed as ``FILE:LINE: message``."""

    file: str
    line: int
    message: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        prefix = "" if self.is_error else "warning: "
        return f"{self.file}:{self.line}: {prefix}{self.message}"


class PlanError(Exception):
    """A plan file was refused. ``problems`` holds every error (and warning) found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.errors: tuple[Problem, ...] = tuple(p for p in self.problems if p.is_error)
        self.warnings: tuple[Problem, ...] = tuple(p for p in self.problems if not p.is_error)
        count = len(self.errors)
        noun = "error" if count == 1 else "errors"
        super().__init__(f"the plan file was refused with {count} {noun}")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.errors)
