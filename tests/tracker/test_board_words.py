"""A dashboard built without the actions' words has the same figures, and the words of the
rows a page shows, filled in, are those of the full dashboard."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

import tracker.clock
from bench.scale import build
from tests.conftest import DEMO_TODAY
from tests.tracker import signing
from tests.tracker.helpers import db, visible
from tracker.db import get_engine, get_session
from tracker.models import User
from tracker.reports import dashboard as board
from tracker.reports.figures import KpiRow, most_in_need
from tracker.services.plan_load import current_plan

DEMO_DAY = date.fromisoformat(DEMO_TODAY)


def _both(app: Flask, filters: board.Filters, today: date = DEMO_DAY
          ) -> tuple[board.Dashboard, board.Dashboard]:
    session = get_session()
    plan = current_plan(session)
    assert plan is not None
    quarter = board.choose_quarter(plan, today, None)
    return (board.build(session, plan, today, quarter, filters),
            board.build(session, plan, today, quarter, filters, details=False))


def _figures(view: board.Dashboard) -> object:
    return ([(p.ref, p.colour, p.reason, p.action_counts, p.commitment_counts, p.changes,
              [(c.ref, c.colour, c.reason, c.counts) for c in p.commitments])
             for p in view.priorities],
            view.theme_grid, view.headline, view.change_counts,
            [r.ref for r in view.concerns], [r.ref for r in view.missing],
            [r.ref for r in view.overdue], [r.ref for r in view.unreported],
            [(p.ref, [r.ref for r in rows]) for p, rows in view.exceptions()],
            [(e.id, e.action.ref) for e in view.escalations], view.kpis)


def test_the_figures_are_the_same_without_the_words(demo_app: Flask) -> None:
    with demo_app.app_context():
        for filters in (board.Filters(), board.Filters(status="red"),
                        board.Filters(theme="vulnerability")):
            full, lean = _both(demo_app, filters)
            assert not full.filter_problems
            assert _figures(lean) == _figures(full)
            assert full.concerns, "the demo has areas of concern to compare"
            assert all(not r.detailed and r.reason == "" for r in lean.actions)


def test_the_words_filled_in_are_the_full_dashboards(demo_app: Flask) -> None:
    with demo_app.app_context():
        full, lean = _both(demo_app, board.Filters())
        shown = [*lean.concerns[:5], *lean.missing[:5], *lean.changes("worsened")[:5]]
        board.detailed(get_session(), lean.quarter, shown)
        by_id = {r.id: r for r in full.actions}
        assert shown
        for row in shown:
            assert row.detailed
            assert (row.reason, row.update) == (by_id[row.id].reason, by_id[row.id].update)
        assert any(row.update and row.update.narrative for row in shown)
        others = [r for r in lean.actions if r.id not in {s.id for s in shown}]
        assert others and all(not r.detailed for r in others)  # only what was asked


def _kpi(ref: str, status: str) -> KpiRow:
    return KpiRow(ref=ref, name=ref, status=status, reason="", value="", target="", period="",
                  direction="", priority_refs=frozenset())


def test_past_the_limit_the_kpis_most_in_need_are_listed_in_the_plans_order() -> None:
    rows = [_kpi(f"k{n}", status) for n, status in
            enumerate(["green", "red", "grey", "amber", "green", "red", "amber", "grey"])]
    assert most_in_need(rows, 8) == rows
    assert [r.ref for r in most_in_need(rows, 3)] == ["k1", "k3", "k5"]  # the two Red, an Amber
    assert [r.ref for r in most_in_need(rows, 5)] == ["k1", "k2", "k3", "k5", "k6"]  # and grey


def test_a_dashboard_of_many_kpis_lists_those_most_in_need(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    today = date(2026, 11, 25)
    monkeypatch.setattr(tracker.clock, "today", lambda: today)
    app = build(tmp_path / "many-kpis.db", actions=60, kpis=40, quarters=4, today=today)
    app.config["TESTING"] = True
    try:
        with db(app) as s:
            s.add(User(email="board.member@example.org", name="Board Member", role="board"))
            s.commit()
        client = signing.signed_in(app, "board.member@example.org")
        page = client.get("/board").get_data(as_text=True)
        with app.app_context():
            full, _lean = _both(app, board.Filters(), today)
        listed = most_in_need(full.kpis, 25)
        assert len(full.kpis) == 40 and len(listed) == 25
        shown = re.findall(r'href="/kpis/([^"]+)"', page)
        assert shown == [k.ref for k in listed]
        assert "Below are the 25 of 40 KPIs most in need of attention" in visible(page)
        assert 'href="/kpis"' in page
    finally:
        get_engine(app).dispose()
