"""Demo data: on any day, the open quarter has updates in, missing (due or late) and Red."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Calendar
from tests.conftest import count
from tracker.db import get_engine
from tracker.models import ActionUpdate
from tracker.services.calendar import open_quarter


@pytest.mark.parametrize(("today", "quarter", "state"), [
    (date(2026, 11, 25), "2026/27 Q2", "missing (late)"),
    (date(2026, 10, 2), "2026/27 Q2", "missing (due by 15 October 2026)"),
    (date(2025, 6, 20), "2025/26 Q1", "missing (due by 15 July 2025)"),
])
def test_demo_history_up_to_the_open_quarter(kingston_app: Flask, today: date, quarter: str,
                                             state: str) -> None:
    result = kingston_app.test_cli_runner().invoke(args=["demo", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"to {quarter}." in result.stdout
    assert state in result.stdout
    with Session(get_engine(kingston_app)) as s:
        quarters = set(s.scalars(select(ActionUpdate.quarter)))
        assert "2024/25 Q1" in quarters and quarter in quarters
        assert max(quarters) == quarter
        current = list(s.scalars(select(ActionUpdate).where(ActionUpdate.quarter == quarter)))
        assert any(u.rag == "red" for u in current) or today.year == 2025
        assert all(u.created_at.date() <= today for u in current)
    line = next(x for x in result.stdout.splitlines() if x.startswith("Open quarter"))
    received = int(line.split("; ")[1].split(" received")[0])
    missing = int(line.split("), ")[1].split(" missing")[0])
    assert received > 0 and missing > 0
    assert "Demo sign-ins (password for each: demo-orange-river-lamp):" in result.stdout
    assert ("  The admin and board sign-ins set up two-factor authentication (an authenticator "
            "app) at their first sign-in.\n") in result.stdout


def test_demo_twice_adds_nothing_the_second_time(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    assert runner.invoke(args=["demo", "--today", "2026-11-25"]).exit_code == 0
    first = count(kingston_app, ActionUpdate)
    again = runner.invoke(args=["demo", "--today", "2026-11-25"])
    assert again.exit_code == 0
    assert f"Demo history is already in the database ({first} updates); nothing added." \
        in again.stdout
    assert count(kingston_app, ActionUpdate) == first


def test_demo_updates_show_on_action_pages(kingston_app: Flask) -> None:
    assert kingston_app.test_cli_runner().invoke(
        args=["demo", "--today", "2026-11-25"]).exit_code == 0
    html = kingston_app.test_client().get("/actions/SKP-001").get_data(as_text=True)
    assert "2024/25 Q1" in html
    assert "govuk-tag" in html


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 12, 16), "2026/27 Q2"),  # the Q3 window opens 14 days before 31 December
    (date(2026, 12, 17), "2026/27 Q3"),
    (date(2027, 1, 1), "2026/27 Q3"),
    (date(2027, 3, 18), "2026/27 Q4"),
])
def test_open_quarter_follows_the_update_window(today: date, expected: str) -> None:
    assert open_quarter(Calendar(4, 1), today, 14).label == expected
