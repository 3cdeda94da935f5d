"""Periods and dates, in one place: month arithmetic, financial and calendar years, quarters,
and dates written as people read them.

A year starting in April is written ``2025/26`` and its quarters ``2025/26 Q1`` (April to
June 2025); on the command line and in URLs the same quarter is ``2025-26-Q1``. Where the
year starts in January, a year is ``2025`` and a quarter ``2025 Q1`` (``2025-Q1``).
Monthly values use ISO months, ``2025-04``.

Two ways of holding a period live here. ``Year`` and ``Quarter`` are the plan's own (labels,
slugs, next and previous). KPI series hold plain ``datetime.date`` values instead, a period
being its first day and a financial year being described by the month it starts (April = 4,
January = 1): ``add_months``, ``year_start``, ``period_start`` and ``period_label`` work on
those. Both use the same month arithmetic.

Dates are written the GOV.UK way, in English whatever the server's locale: ``31 March 2025``
(``long_date``), ``March 2025`` (``month_year``), ``31 March`` (``day_month``), and a moment
``25 November 2026 14:03 UTC`` (``long_moment``).

Standard library only: ``kpis`` imports this module (and nothing else of the project's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

_YEAR_SPLIT = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")
_YEAR_PLAIN = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(.+?)\s*[- ]\s*[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

FREQUENCIES = ("monthly", "quarterly", "annual")
"""How often a KPI is reported or measured."""

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


# -- months --------------------------------------------------------------------------------


def month_index(day: date) -> int:
    """Months since year 0: the x of a period in trends (gaps keep their real distance)."""
    return day.year * 12 + day.month - 1


def month_of_index(index: int) -> date:
    """The first day of the month ``index`` months after year 0 (``month_index``'s inverse)."""
    return date(index // 12, index % 12 + 1, 1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (negative goes back)."""
    return month_of_index(month_index(day) + months)


# -- dates as people read them -------------------------------------------------------------


def long_date(day: date) -> str:
    """``31 March 2025``: no leading zero, English month names."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def month_year(day: date) -> str:
    """``March 2025``: a month."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def day_month(month: int, day: int) -> str:
    """``31 March``: a day that comes round every year."""
    return f"{day} {MONTH_NAMES[month - 1]}"


def long_moment(moment: datetime) -> str:
    """``25 November 2026 14:03 UTC``: a moment, always in UTC and saying so (a naive
    moment is taken to be UTC already, as the database stores them)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{long_date(moment)} {moment:%H:%M} UTC"


# -- periods as plain dates (KPI series) ---------------------------------------------------


def year_start(day: date, year_start_month: int = 4) -> date:
    """The first day of the financial year that contains ``day``."""
    if not 1 <= year_start_month <= 12:
        raise ValueError(f"a financial year starts in a month from 1 to 12, not {year_start_month}")
    year = day.year if day.month >= year_start_month else day.year - 1
    return date(year, year_start_month, 1)


def quarter_start(day: date, year_start_month: int = 4) -> date:
    """The first day of the financial quarter that contains ``day``."""
    start = year_start(day, year_start_month)
    offset = month_index(day) - month_index(start)
    return add_months(start, offset // 3 * 3)


def quarter_number(day: date, year_start_month: int = 4) -> int:
    """1 to 4: the number of the financial quarter that contains ``day``."""
    start = year_start(day, year_start_month)
    return (month_index(day) - month_index(start)) // 3 + 1


def period_start(day: date, year_start_month: int, frequency: str) -> date:
    """The first day of the month, quarter or year (by ``frequency``) that contains ``day``."""
    if frequency == "monthly":
        return date(day.year, day.month, 1)
    if frequency == "quarterly":
        return quarter_start(day, year_start_month)
    if frequency == "annual":
        return year_start(day, year_start_month)
    raise ValueError(f"unknown frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}")


def year_label(start: date, year_start_month: int = 4) -> str:
    """``2025/26`` for the year containing ``start`` (``2025`` where years start in January)."""
    return Year(year_start(start, year_start_month)).label


def period_label(start: date, year_start_month: int = 4, frequency: str = "quarterly") -> str:
    """A period as people write it: ``2025/26 Q1``, ``2025 Q1``, ``2025/26``, ``2025``,
    or ``April 2025`` for a month."""
    if frequency == "monthly":
        return month_year(start)
    if frequency == "quarterly":
        quarter = quarter_number(start, year_start_month)
        return f"{year_label(start, year_start_month)} Q{quarter}"
    if frequency == "annual":
        return year_label(start, year_start_month)
    raise ValueError(f"unknown frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}")


# -- the plan's years and quarters ---------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Year:
    """A financial year, identified by its first day."""

    start: date

    @property
    def end(self) -> date:
        return add_months(self.start, 12) - timedelta(days=1)

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
        return Year(add_months(self.start, 12))

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
        start = add_months(self.year.start, 3 * (self.number - 1))
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", add_months(start, 3) - timedelta(days=1))
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
            found = (Quarter(Year(add_months(self.year.start, -12)), 4) if self.number == 1
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
