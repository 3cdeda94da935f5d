"""Financial years and quarters, as a partnership counts them.

A year starting in April is written ``2025/26`` and its quarters ``2025/26 Q1`` (April to
June 2025); on the command line and in URLs the same quarter is ``2025-26-Q1``. Where the
year starts in January, a year is ``2025`` and a quarter ``2025 Q1`` (``2025-Q1``).
Monthly values use ISO months, ``2025-04``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

_YEAR_SPLIT = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")
_YEAR_PLAIN = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(.+?)\s*[- ]\s*[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True, order=True)
class Year:
    """A financial year, identified by its first day."""

    start: date

    @property
    def end(self) -> date:
        return _add_months(self.start, 12) - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.start.month == 1:
            return str(self.start.year)
        return f"{self.start.year}/{(self.start.year + 1) % 100:02d}"

    @property
    def slug(self) -> str:
        return self.label.replace("/", "-")

    def quarters(self) -> tuple[Quarter, ...]:
        return tuple(Quarter(self, n) for n in range(1, 5))

    def next(self) -> Year:
        return Year(_add_months(self.start, 12))

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True, eq=False)
class Quarter:
    """A quarter of a financial year, numbered 1 to 4.

    Quarters are compared, hashed and asked for their first and last days hundreds of
    thousands of times when statuses are worked out, so those are worked out once, when the
    quarter is made: two quarters are equal when their years and numbers are, and ordered by
    year, then number.
    """

    year: Year
    number: int
    start: date = field(init=False, repr=False)
    end: date = field(init=False, repr=False)
    label: str = field(init=False, repr=False)
    """``2025/26 Q1`` (``2025 Q1`` where the year starts in January)."""
    _key: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        start = _add_months(self.year.start, 3 * (self.number - 1))
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", _add_months(start, 3) - timedelta(days=1))
        object.__setattr__(self, "label", f"{self.year.label} Q{self.number}")
        object.__setattr__(self, "_key", self.year.start.toordinal() * 8 + self.number)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Quarter:
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return self._key

    def __lt__(self, other: Quarter) -> bool:
        if other.__class__ is not Quarter:
            return NotImplemented
        return self._key < other._key

    def __le__(self, other: Quarter) -> bool:
        if other.__class__ is not Quarter:
            return NotImplemented
        return self._key <= other._key

    def __gt__(self, other: Quarter) -> bool:
        if other.__class__ is not Quarter:
            return NotImplemented
        return self._key > other._key

    def __ge__(self, other: Quarter) -> bool:
        if other.__class__ is not Quarter:
            return NotImplemented
        return self._key >= other._key

    @property
    def slug(self) -> str:
        return f"{self.year.slug}-Q{self.number}"

    def next(self) -> Quarter:
        found = _FOLLOWING.get(self._key)
        if found is None:
            found = (Quarter(self.year.next(), 1) if self.number == 4
                     else Quarter(self.year, self.number + 1))
            _remember(_FOLLOWING, self._key, found)
        return found

    def previous(self) -> Quarter:
        found = _PRECEDING.get(self._key)
        if found is None:
            found = (Quarter(Year(_add_months(self.year.start, -12)), 4) if self.number == 1
                     else Quarter(self.year, self.number - 1))
            _remember(_PRECEDING, self._key, found)
        return found

    def __str__(self) -> str:
        return self.label


_FOLLOWING: dict[int, Quarter] = {}
_PRECEDING: dict[int, Quarter] = {}
"""The quarter after and before each quarter asked (a few hundred at most in practice):
working out statuses steps from quarter to quarter hundreds of thousands of times."""


def _remember(cache: dict[int, Quarter], key: int, quarter: Quarter) -> None:
    if len(cache) < 10_000:
        cache[key] = quarter


@dataclass(frozen=True, slots=True)
class Calendar:
    """How a partnership counts its years: the month and day its financial year starts."""

    month: int = 4
    day: int = 1

    def year_of(self, day: date) -> Year:
        start = date(day.year, self.month, self.day)
        if day < start:
            start = date(day.year - 1, self.month, self.day)
        return Year(start)

    def quarter_of(self, day: date) -> Quarter:
        year = self.year_of(day)
        months = (day.year - year.start.year) * 12 + day.month - year.start.month
        return Quarter(year, months // 3 + 1)

    def year(self, start_year: int) -> Year:
        return Year(date(start_year, self.month, self.day))

    @property
    def example_year(self) -> str:
        return self.year(2025).label

    def parse_year(self, text: str) -> Year:
        """Parse ``2025/26`` (or ``2025-26``), or ``2025`` for a January year."""
        cleaned = text.strip()
        if self.month == 1:
            match = _YEAR_PLAIN.match(cleaned)
            if match:
                return self.year(int(match.group(1)))
            raise ValueError(f"'{text}' is not a year: write it as {self.example_year}")
        match = _YEAR_SPLIT.match(cleaned)
        if match:
            first = int(match.group(1))
            second = int(match.group(2))
            expected = first + 1
            if second == expected or second == expected % 100:
                return self.year(first)
            raise ValueError(
                f"'{text}' is not a year: the second part must be the year after "
                f"{first}, as in {self.year(first).label}"
            )
        raise ValueError(f"'{text}' is not a year: write it as {self.example_year}")

    def parse_quarter(self, text: str) -> Quarter:
        """Parse ``2025/26 Q1`` or ``2025-26-Q1`` (``2025 Q1`` / ``2025-Q1`` for January years)."""
        match = _QUARTER.match(text.strip())
        example = f"{self.example_year} Q1"
        if not match:
            raise ValueError(f"'{text}' is not a quarter: write it as {example}")
        try:
            year = self.parse_year(match.group(1))
        except ValueError:
            raise ValueError(f"'{text}' is not a quarter: write it as {example}") from None
        return Quarter(year, int(match.group(2)))

    def parse_month(self, text: str) -> date:
        """Parse an ISO month ``2025-04`` into its first day."""
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"'{text}' is not a month: write it as 2025-04")
        return date(int(match.group(1)), int(match.group(2)), 1)

    def years_between(self, first: date, last: date) -> tuple[Year, ...]:
        years = []
        year = self.year_of(first)
        while year.start <= last:
            years.append(year)
            year = year.next()
        return tuple(years)
