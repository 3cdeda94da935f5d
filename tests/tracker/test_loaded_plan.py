"""A process reads the loaded plan from the plan as parsed when it was loaded, and parses its
text again only when that was frozen by other code, or cannot be read."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from sqlalchemy import select, update

from plans.stored import STAMP
from tests.tracker.helpers import db
from tracker.models import PlanLoad
from tracker.services import loaded_plan


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """As a new process: nothing read yet; the text parses counted."""
    loaded_plan.forget_read_plans()
    parsed: list[str] = []
    real = loaded_plan.parse_plan

    def counting(text: str, filename: str) -> object:
        parsed.append(filename)
        return real(text, filename)

    monkeypatch.setattr(loaded_plan, "parse_plan", counting)
    return parsed


def test_a_plan_load_keeps_the_plan_as_parsed(kingston_app: Flask,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with db(kingston_app) as s:
        row = s.scalars(select(PlanLoad).order_by(PlanLoad.id.desc())).first()
        assert row is not None and row.parsed and row.parsed_stamp == STAMP
    parsed = _fresh_process(monkeypatch)
    with db(kingston_app) as s:
        plan = loaded_plan.current_plan(s)
    assert plan is not None and plan.partnership.name == "Safer Kingston Partnership"
    assert parsed == []  # thawed, not parsed


def test_a_plan_frozen_by_other_code_is_parsed_from_its_text(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with db(kingston_app) as s:
        s.execute(update(PlanLoad).values(parsed_stamp="0" * 64))
        s.commit()
    parsed = _fresh_process(monkeypatch)
    with db(kingston_app) as s:
        assert loaded_plan.current_plan(s) is not None
    assert parsed == ["plans.yaml"]


def test_bytes_that_are_not_a_plan_are_logged_and_the_text_parsed(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    with db(kingston_app) as s:
        s.execute(update(PlanLoad).values(parsed=b"\x80\x05not a plan"))
        s.commit()
    parsed = _fresh_process(monkeypatch)
    with caplog.at_level(logging.WARNING), db(kingston_app) as s:
        plan = loaded_plan.current_plan(s)
    assert plan is not None and parsed == ["plans.yaml"]
    assert "parsing its text instead" in caplog.text


def test_db_upgrade_freezes_the_plan_again_for_this_version(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with db(kingston_app) as s:
        s.execute(update(PlanLoad).values(parsed=None, parsed_stamp=None))
        s.commit()
    result = kingston_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "The loaded plan was parsed again for this version." in result.output
    parsed = _fresh_process(monkeypatch)
    with db(kingston_app) as s:
        assert loaded_plan.current_plan(s) is not None
    assert parsed == []
    again = kingston_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert "parsed again" not in again.output


@pytest.mark.parametrize("ahead", [True, False])
def test_a_server_reads_the_plan_before_its_first_request(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch, ahead: bool) -> None:
    """``tracker serve`` (and ``tracker.wsgi``) read the plan as each process starts, so the
    first person's request reads only which plan is loaded, not the plan itself."""
    from sqlalchemy import event

    from tests.tracker import signing
    from tracker.db import get_engine
    from tracker.serving import read_plan_ahead

    client = signing.signed_in(kingston_app, signing.BOARD)
    _fresh_process(monkeypatch)  # as a process that has just started
    if ahead:
        read_plan_ahead(kingston_app)
    seen: list[str] = []
    event.listen(get_engine(kingston_app), "before_cursor_execute",
                 lambda *args: seen.append(args[2]))
    assert client.get("/board").status_code == 200
    reads_plan = [s for s in seen if re.search(r"plan_loads\.(parsed|text)\b", s)]
    assert (reads_plan == []) is ahead
