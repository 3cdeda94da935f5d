"""Periods as dates: months, quarters and financial years, each identified by its first day.

``kpis`` cannot import ``plans.periods`` (it imports nothing of the project's), so it works
with plain ``datetime.date`` values: a period is its first day, and a financial year is
described by the month it starts (April = 4, January = 1). Labels follow the plan's
spelling: ``2025/26 Q1`` and ``2025/26`` for April years, ``2025 Q1`` and ``2025`` for
January years, ``April 2025`` for a month.
"""

from __future__ import annotations

from datetime import date

FREQUENCIES = ("monthly", "quarterly", "annual")

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")


def month_index(day: date) -> int:
    """Months since year 0: the x of a period in trends (gaps keep their real distance)."""
    return day.year * 12 + day.month - 1


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (negative goes back)."""
    index = month_index(day) + months
    return date(index // 12, index % 12 + 1, 1)


def year_start(day: date, year_start_month: int = 4) -> date:
    """The first day of the financial year that contains ``day``."""
    _check_month(year_start_month)
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
    first = year_start(start, year_start_month)
    if year_start_month == 1:
        return str(first.year)
    return f"{first.year}/{(first.year + 1) % 100:02d}"


def period_label(start: date, year_start_month: int = 4, frequency: str = "quarterly") -> str:
    """A period as people write it: ``2025/26 Q1``, ``2025 Q1``, ``2025/26``, ``2025``,
    or ``April 2025`` for a month."""
    if frequency == "monthly":
        return f"{_MONTH_NAMES[start.month - 1]} {start.year}"
    if frequency == "quarterly":
        quarter = quarter_number(start, year_start_month)
        return f"{year_label(start, year_start_month)} Q{quarter}"
    if frequency == "annual":
        return year_label(start, year_start_month)
    raise ValueError(f"unknown frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}")


def _check_month(month: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"a financial year starts in a month from 1 to 12, not {month}")
