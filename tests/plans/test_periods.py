"""Financial years and quarters, for April years (2025/26) and calendar years (2025)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from plans.periods import (
    Calendar,
    Quarter,
    Year,
    add_months,
    day_month,
    long_date,
    long_moment,
    month_index,
    month_of_index,
    month_year,
)

APRIL = Calendar()          # the default: 04-01
JANUARY = Calendar(1, 1)


def test_the_default_calendar_starts_in_april() -> None:
    assert (APRIL.month, APRIL.day) == (4, 1)
    assert APRIL.example_year == "2025/26"
    assert JANUARY.example_year == "2025"


# -- parsing, April years ----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2025/26", "2025-26", "2025/2026", " 2025/26 ", "2025 / 26"])
def test_april_parse_year(text: str) -> None:
    year = APRIL.parse_year(text)
    assert year == Year(date(2025, 4, 1))
    assert year.label == "2025/26"
    assert year.slug == "2025-26"
    assert (year.start, year.end) == (date(2025, 4, 1), date(2026, 3, 31))


@pytest.mark.parametrize("text", ["2025/26 Q1", "2025-26-Q1", "2025-26 Q1", "2025/26 q1",
                                  "2025/2026 Q1"])
def test_april_parse_quarter(text: str) -> None:
    quarter = APRIL.parse_quarter(text)
    assert quarter == Quarter(Year(date(2025, 4, 1)), 1)
    assert quarter.label == "2025/26 Q1"
    assert quarter.slug == "2025-26-Q1"
    assert (quarter.start, quarter.end) == (date(2025, 4, 1), date(2025, 6, 30))


@pytest.mark.parametrize(("text", "message"), [
    ("2025", "'2025' is not a year: write it as 2025/26"),
    ("25/26", "'25/26' is not a year: write it as 2025/26"),
    ("2025/27", "'2025/27' is not a year: the second part must be the year after 2025, as in "
                "2025/26"),
    ("2025-24", "'2025-24' is not a year: the second part must be the year after 2025, as in "
                "2025/26"),
    ("next year", "'next year' is not a year: write it as 2025/26"),
    ("", "'' is not a year: write it as 2025/26"),
])
def test_april_bad_years(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        APRIL.parse_year(text)
    assert str(raised.value) == message


@pytest.mark.parametrize("text", ["2025/26 Q5", "2025/26 Q0", "2025/26Q1", "Q1 2025/26", "Q1",
                                  "2025 Q1", "2025/27 Q1", "2025/26 quarter 1"])
def test_april_bad_quarters(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        APRIL.parse_quarter(text)
    assert str(raised.value) == f"'{text}' is not a quarter: write it as 2025/26 Q1"


# -- parsing, calendar years -------------------------------------------------------------------

def test_january_parse_year() -> None:
    year = JANUARY.parse_year("2025")
    assert year == Year(date(2025, 1, 1))
    assert (year.label, year.slug) == ("2025", "2025")
    assert (year.start, year.end) == (date(2025, 1, 1), date(2025, 12, 31))


@pytest.mark.parametrize("text", ["2025 Q1", "2025-Q1", "2025 q1", " 2025 Q1 "])
def test_january_parse_quarter(text: str) -> None:
    quarter = JANUARY.parse_quarter(text)
    assert quarter == Quarter(Year(date(2025, 1, 1)), 1)
    assert (quarter.label, quarter.slug) == ("2025 Q1", "2025-Q1")
    assert (quarter.start, quarter.end) == (date(2025, 1, 1), date(2025, 3, 31))


@pytest.mark.parametrize("text", ["2025/26", "2025-26", "25", "MMXXV"])
def test_january_bad_years(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        JANUARY.parse_year(text)
    assert str(raised.value) == f"'{text}' is not a year: write it as 2025"


@pytest.mark.parametrize("text", ["2025/26 Q1", "2025-26-Q1", "2025 Q5", "2025Q1", "Q1 2025"])
def test_january_bad_quarters(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        JANUARY.parse_quarter(text)
    assert str(raised.value) == f"'{text}' is not a quarter: write it as 2025 Q1"


def test_parse_month() -> None:
    assert APRIL.parse_month("2025-04") == date(2025, 4, 1)
    assert JANUARY.parse_month(" 2025-12 ") == date(2025, 12, 1)
    for bad in ("2025-13", "2025-00", "2025-4", "April 2025", "2025/04"):
        with pytest.raises(ValueError) as raised:
            APRIL.parse_month(bad)
        assert str(raised.value) == f"'{bad}' is not a month: write it as 2025-04"


# -- which quarter a day is in, on the boundaries ----------------------------------------------

@pytest.mark.parametrize(("day", "label"), [
    (date(2025, 3, 31), "2024/25 Q4"),
    (date(2025, 4, 1), "2025/26 Q1"),
    (date(2025, 6, 30), "2025/26 Q1"),
    (date(2025, 7, 1), "2025/26 Q2"),
    (date(2025, 12, 31), "2025/26 Q3"),
    (date(2026, 1, 1), "2025/26 Q4"),
    (date(2024, 2, 29), "2023/24 Q4"),
])
def test_april_quarter_of(day: date, label: str) -> None:
    assert APRIL.quarter_of(day).label == label
    assert APRIL.quarter_of(day).start <= day <= APRIL.quarter_of(day).end


@pytest.mark.parametrize(("day", "label"), [
    (date(2024, 12, 31), "2024 Q4"),
    (date(2025, 1, 1), "2025 Q1"),
    (date(2025, 3, 31), "2025 Q1"),
    (date(2025, 4, 1), "2025 Q2"),
    (date(2025, 9, 30), "2025 Q3"),
    (date(2025, 10, 1), "2025 Q4"),
])
def test_january_quarter_of(day: date, label: str) -> None:
    assert JANUARY.quarter_of(day).label == label


def test_year_of() -> None:
    assert APRIL.year_of(date(2025, 3, 31)).label == "2024/25"
    assert APRIL.year_of(date(2025, 4, 1)).label == "2025/26"
    assert JANUARY.year_of(date(2025, 12, 31)).label == "2025"
    assert Calendar(7, 1).year_of(date(2025, 6, 30)).label == "2024/25"
    assert Calendar(7, 1).quarter_of(date(2025, 7, 1)).label == "2025/26 Q1"


# -- quarters: start, end, label, slug, next, previous -----------------------------------------

def test_quarter_dates_april() -> None:
    year = APRIL.year(2025)
    assert [(q.start, q.end) for q in year.quarters()] == [
        (date(2025, 4, 1), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
    ]
    assert [q.label for q in year.quarters()] == [
        "2025/26 Q1", "2025/26 Q2", "2025/26 Q3", "2025/26 Q4"]
    assert [q.slug for q in year.quarters()] == [
        "2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4"]
    assert str(year.quarters()[2]) == "2025/26 Q3"


def test_quarter_next_and_previous_across_year_ends() -> None:
    q4 = APRIL.parse_quarter("2025/26 Q4")
    assert q4.next().label == "2026/27 Q1"
    assert q4.next().start == date(2026, 4, 1)
    assert q4.next().previous() == q4
    q1 = APRIL.parse_quarter("2025/26 Q1")
    assert q1.previous().label == "2024/25 Q4"
    assert q1.previous().end == date(2025, 3, 31)
    jq4 = JANUARY.parse_quarter("2025 Q4")
    assert (jq4.start, jq4.end) == (date(2025, 10, 1), date(2025, 12, 31))
    assert jq4.next().label == "2026 Q1"
    assert JANUARY.parse_quarter("2025 Q1").previous().label == "2024 Q4"
    assert APRIL.parse_quarter("2025/26 Q2").next().label == "2025/26 Q3"
    assert APRIL.parse_quarter("2025/26 Q2").previous().label == "2025/26 Q1"


def test_quarters_sort_in_time() -> None:
    labels = ["2026/27 Q1", "2025/26 Q4", "2025/26 Q1", "2024/25 Q3"]
    ordered = sorted(APRIL.parse_quarter(t) for t in labels)
    assert [q.label for q in ordered] == ["2024/25 Q3", "2025/26 Q1", "2025/26 Q4", "2026/27 Q1"]


# -- year labels at the century edges ----------------------------------------------------------

def test_year_labels_at_the_century() -> None:
    assert APRIL.year(1999).label == "1999/00"
    assert APRIL.year(1999).end == date(2000, 3, 31)
    assert APRIL.year(2099).label == "2099/00"
    assert APRIL.year(2099).slug == "2099-00"
    assert APRIL.year(2000).label == "2000/01"
    assert APRIL.parse_year("1999/00") == APRIL.year(1999)
    assert APRIL.parse_year("2099/00") == APRIL.year(2099)
    assert APRIL.parse_year("2099/2100") == APRIL.year(2099)
    assert APRIL.year(2099).next().label == "2100/01"
    assert JANUARY.year(2099).next().label == "2100"


def test_years_between() -> None:
    years = APRIL.years_between(date(2024, 4, 1), date(2029, 3, 31))
    assert [y.label for y in years] == ["2024/25", "2025/26", "2026/27", "2027/28", "2028/29"]
    # a plan starting mid-year includes the year it starts in
    assert [y.label for y in APRIL.years_between(date(2024, 9, 1), date(2025, 5, 1))] == [
        "2024/25", "2025/26"]
    assert [y.label for y in JANUARY.years_between(date(2025, 1, 1), date(2027, 12, 31))] == [
        "2025", "2026", "2027"]


@pytest.mark.parametrize(("day", "text"), [
    (date(2025, 3, 31), "31 March 2025"),
    (date(2025, 3, 1), "1 March 2025"),
    (date(2024, 12, 9), "9 December 2024"),
])
def test_dates_are_written_without_a_leading_zero(day: date, text: str) -> None:
    assert long_date(day) == text
    assert long_date(datetime(day.year, day.month, day.day, 23, 59)) == text


def test_months_days_and_moments_as_people_read_them() -> None:
    assert month_year(date(2025, 9, 30)) == "September 2025"
    assert day_month(3, 31) == "31 March"
    assert day_month(12, 1) == "1 December"
    # a moment is always written in UTC, saying so; a naive one is taken to be UTC already
    assert long_moment(datetime(2026, 11, 25, 14, 3)) == "25 November 2026 14:03 UTC"
    assert long_moment(datetime(2026, 11, 25, 14, 3, tzinfo=UTC)) == "25 November 2026 14:03 UTC"
    summer = timezone(timedelta(hours=1))
    assert long_moment(datetime(2026, 7, 1, 0, 30, tzinfo=summer)) == "30 June 2026 23:30 UTC"


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2025, 1, 15), 1, date(2025, 2, 1)),
    (date(2025, 11, 1), 2, date(2026, 1, 1)),
    (date(2025, 4, 1), -4, date(2024, 12, 1)),
    (date(2024, 2, 29), 12, date(2025, 2, 1)),
    (date(2025, 3, 31), 0, date(2025, 3, 1)),
])
def test_month_arithmetic_works_on_months_across_year_ends(day: date, months: int,
                                                            expected: date) -> None:
    assert add_months(day, months) == expected
    assert month_of_index(month_index(day)) == day.replace(day=1)
    assert month_index(expected) - month_index(day) == months
