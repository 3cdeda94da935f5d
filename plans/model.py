"""The validated plan: typed, immutable values.

Every item keeps the ``line`` it was written on, so later checks and the app can point
back to the file. Items are identified by stable refs: ids for most things, dotted refs
(``1.a``, ``2.c.ii``) for commitments and their parts, emails for people.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from plans.periods import Calendar, Year
from plans.rules import Rules

GroupKind = Literal["board", "thematic", "forum"]
GROUP_KINDS: tuple[GroupKind, ...] = ("board", "thematic", "forum")
Role = Literal["admin", "board", "lead", "member"]
ROLES: tuple[Role, ...] = ("admin", "board", "lead", "member")
Unit = Literal["count", "percent", "rate", "days", "score", "currency"]
UNITS: tuple[Unit, ...] = ("count", "percent", "rate", "days", "score", "currency")
Better = Literal["higher", "lower"]
BETTER: tuple[Better, ...] = ("higher", "lower")
Frequency = Literal["monthly", "quarterly", "annual"]
FREQUENCIES: tuple[Frequency, ...] = ("monthly", "quarterly", "annual")


@dataclass(frozen=True, slots=True)
class PlanPeriod:
    title: str
    starts: date
    ends: date


@dataclass(frozen=True, slots=True)
class PoliceArea:
    """Which data.police.uk rows are the partnership's: LSOA names starting with
    ``lsoa_name_prefix`` (and a space), or the LSOA codes listed."""

    lsoa_name_prefix: str = ""
    lsoa_codes: frozenset[str] = frozenset()

    def contains(self, code: str, name: str) -> bool:
        if self.lsoa_name_prefix:
            return name.startswith(self.lsoa_name_prefix) and \
                name[len(self.lsoa_name_prefix):][:1] in (" ", "")
        return code in self.lsoa_codes


@dataclass(frozen=True, slots=True)
class Partnership:
    id: str
    name: str
    area: str | None
    vision: str | None
    plan: PlanPeriod
    year_starts: tuple[int, int] = (4, 1)
    police_uk: PoliceArea | None = None

    @property
    def calendar(self) -> Calendar:
        return Calendar(*self.year_starts)

    @property
    def years(self) -> tuple[Year, ...]:
        return self.calendar.years_between(self.plan.starts, self.plan.ends)


@dataclass(frozen=True, slots=True)
class Authority:
    id: str
    name: str
    responsible: bool
    line: int = 0


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    kind: GroupKind
    reports_to: str | None
    lead: str | None
    members: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    name: str
    role: Role
    groups: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Theme:
    id: str
    name: str
    summary: str | None
    points: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class NamedText:
    """A principle (e.g. one of the 5Cs) or a prevention level."""

    id: str
    name: str
    text: str | None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Duty:
    id: str
    text: str
    every: Literal["year"] | None
    due: tuple[int, int] | None  # (month, day)
    line: int = 0


@dataclass(frozen=True, slots=True)
class Part:
    id: str
    ref: str
    text: str
    themes: tuple[str, ...]
    prevention: str | None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Commitment:
    id: str
    ref: str
    priority: str
    text: str
    themes: tuple[str, ...]
    prevention: str | None
    parts: tuple[Part, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Priority:
    id: str
    title: str
    short_title: str | None
    group: str | None
    commitments: tuple[Commitment, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Milestone:
    title: str
    due: date
    id: str | None = None
    line: int = 0

    @property
    def key(self) -> str:
        """Stable within its action: the optional id, else the title."""
        return self.id or self.title


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    year: str
    commitment: str
    title: str
    owner: str
    lead: str
    group: str | None
    starts: date | None
    due: date
    themes: tuple[str, ...]
    prevention: str | None
    kpis: tuple[str, ...]
    milestones: tuple[Milestone, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Baseline:
    period: str
    value: float


@dataclass(frozen=True, slots=True)
class KPI:
    id: str
    name: str
    unit: Unit
    better: Better
    frequency: Frequency
    source: str | None
    owner: str | None
    commitments: tuple[str, ...]
    themes: tuple[str, ...]
    baseline: Baseline | None
    targets: Mapping[str, float]
    target: float | None
    tolerance: float
    values: Mapping[str, float]
    line: int = 0
    police_uk: tuple[str, ...] = ()  # the data.police.uk crime types it counts
    is_public: bool = False  # shown on the public progress page (`public: true`)

    def target_for(self, year_label: str) -> float | None:
        return self.targets.get(year_label, self.target)


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole, validated plan file."""

    source: str
    partnership: Partnership
    authorities: tuple[Authority, ...]
    groups: tuple[Group, ...]
    people: tuple[Person, ...]
    themes: tuple[Theme, ...]
    aims: tuple[str, ...]
    principles: tuple[NamedText, ...]
    prevention_levels: tuple[NamedText, ...]
    duties: tuple[Duty, ...]
    priorities: tuple[Priority, ...]
    kpis: tuple[KPI, ...]
    delivery: Mapping[str, tuple[Action, ...]]
    rules: Rules
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def commitments(self) -> Iterator[Commitment]:
        for priority in self.priorities:
            yield from priority.commitments

    def parts(self) -> Iterator[Part]:
        for commitment in self.commitments():
            yield from commitment.parts

    def actions(self) -> dict[str, Action]:
        """Each action once, as its latest delivery year defines it."""
        latest: dict[str, Action] = {}
        for year in sorted(self.delivery, key=self.partnership.calendar.parse_year):
            for action in self.delivery[year]:
                latest[action.id] = action
        return latest

    def action_years(self) -> dict[str, tuple[str, ...]]:
        """The delivery years each action appears in, in order."""
        years: dict[str, list[str]] = {}
        for year in sorted(self.delivery, key=self.partnership.calendar.parse_year):
            for action in self.delivery[year]:
                years.setdefault(action.id, []).append(year)
        return {key: tuple(value) for key, value in years.items()}

    def summary(self) -> dict[str, object]:
        """The counts printed by ``tracker plan check``."""
        return {
            "partnership": self.partnership.name,
            "priorities": len(self.priorities),
            "commitments": sum(1 for _ in self.commitments()),
            "parts": sum(1 for _ in self.parts()),
            "themes": len(self.themes),
            "groups": len(self.groups),
            "authorities": len(self.authorities),
            "people": len(self.people),
            "actions": {year: len(actions) for year, actions in self.delivery.items()},
            "kpis": len(self.kpis),
        }
