"""A dashboard built without the actions' words has the same figures, and the words of the
rows a page shows, filled in, are those of the full dashboard."""

from __future__ import annotations

from datetime import date

from flask import Flask

from tests.conftest import DEMO_TODAY
from tracker.db import get_session
from tracker.reports import dashboard as board
from tracker.services.plan_load import current_plan


def _both(app: Flask, filters: board.Filters) -> tuple[board.Dashboard, board.Dashboard]:
    today = date.fromisoformat(DEMO_TODAY)
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
