"""The board's pages run the same number of SQL queries whatever the size of the plan.

Three generated plans, each ten times the one before (actions, commitments, people; KPIs up
to 200), each with quarters of history; every board page is fetched from each and its
queries counted. A page whose queries grew with the plan (a query per priority, per action,
per KPI) would show it here long before a partnership noticed it in production.
Timings are in ``bench/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, update

from bench.scale import build
from tests.tracker import signing
from tests.tracker.helpers import counted_get, db
from tracker.db import get_engine
from tracker.models import Commitment, DataVersion, Priority, Theme, User

TODAY = date(2026, 11, 25)
SMALL, LARGE, LARGEST = (60, 4), (600, 40), (6000, 200)  # (actions, KPIs): past 500, where
# selectinload splits its queries, and past 5,000
QUARTERS = 8
BOARD = "board.member@example.org"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracker.clock

    monkeypatch.setattr(tracker.clock, "today", lambda: TODAY)


def _build(folder: Path, size: tuple[int, int]) -> Flask:
    app = build(folder / f"plan-{size[0]}.db", actions=size[0], kpis=size[1],
                quarters=QUARTERS, today=TODAY)
    app.config["TESTING"] = True
    with db(app) as s:
        s.add(User(email=BOARD, name="Board Member", role="board",
                   password_hash=signing.password_hash()))
        s.commit()
    return app


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Flask]]:
    folder = tmp_path_factory.mktemp("scale")
    apps = {"small": _build(folder, SMALL), "large": _build(folder, LARGE),
            "largest": _build(folder, LARGEST)}
    yield apps
    for app in apps.values():
        get_engine(app).dispose()


def _pages(app: Flask) -> dict[str, str]:
    with db(app) as s:
        priority = s.scalars(select(Priority.ref).order_by(Priority.position)).first()
        commitment = s.scalars(select(Commitment.ref).order_by(Commitment.position)).first()
        theme = s.scalars(select(Theme.ref).order_by(Theme.position)).first()
    return {
        "dashboard": "/board",
        "earlier quarter, filtered": f"/board?quarter=2025-26-Q2&status=amber&theme={theme}",
        "priority": f"/board/priorities/{priority}",
        "commitment": f"/board/commitments/{commitment}",
        "exception report": "/board/exceptions",
        "trend": "/board/trend",
        "asking for a pack": "/board/pack.pdf",
    }


PACKS = ("csv", "xlsx", "html")


def _counted(app: Flask, client: FlaskClient, url: str) -> int:
    queries, response = counted_get(app, client, url)
    assert response.status_code in (200, 302), (url, response.status_code)
    return queries


def _new_data(app: Flask) -> None:
    """As if someone had written data: every page is drawn again."""
    with db(app) as s:
        s.execute(update(DataVersion).where(DataVersion.id == 1)
                  .values(number=DataVersion.number + 1))
        s.commit()


def _queries(app: Flask, client: FlaskClient, url: str) -> tuple[int, int]:
    """The queries of drawing the page (the data changed since it was last drawn), then of
    showing it again as drawn."""
    client.get(url)  # once first: a first visit may compute what later ones find stored
    _new_data(app)
    drawing = _counted(app, client, url)
    return drawing, _counted(app, client, url)


def _build_queries(app: Flask, client: FlaskClient, fmt: str) -> int:
    """The queries the pack builder makes to build a pack of this format."""
    from tracker import builder

    assert client.get(f"/board/pack.{fmt}").status_code == 302  # queued
    build_id = builder.claim_next(app)
    assert build_id is not None
    seen: list[str] = []

    def count(*_args: Any) -> None:
        seen.append("q")

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert builder.build(app, build_id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_larger_plan_really_is_ten_times_larger(plans: dict[str, Flask]) -> None:
    small = plans["small"].extensions["bench.scale"]
    large = plans["large"].extensions["bench.scale"]
    largest = plans["largest"].extensions["bench.scale"]
    for smaller, larger in ((small, large), (large, largest)):
        assert larger["rows_actions"] >= 8 * smaller["rows_actions"]
        assert larger["rows_action_updates"] >= 8 * smaller["rows_action_updates"]
    assert large["rows_kpi_values"] >= 8 * small["rows_kpi_values"]
    assert largest["rows_kpi_values"] >= 4 * large["rows_kpi_values"]


def test_board_pages_run_the_same_queries_for_a_plan_ten_times_larger(
        plans: dict[str, Flask]) -> None:
    counts: dict[str, dict[str, int]] = {}
    for name, app in plans.items():
        client = app.test_client()
        assert signing.sign_in(client, BOARD).status_code == 302
        pages = {page: _queries(app, client, url) for page, url in _pages(app).items()}
        counts[name] = {f"drawing the {page}": drawing for page, (drawing, _) in pages.items()}
        counts[name].update({f"the {page} as drawn": again
                             for page, (_, again) in pages.items()})
        counts[name].update({f"building the {fmt} pack": _build_queries(app, client, fmt)
                             for fmt in PACKS})
    assert counts["small"] == counts["large"] == counts["largest"]
    # and few of them: a page reads what it needs in a handful of queries
    assert max(counts["large"].values()) <= 45, counts["large"]
    # and a page drawn at this data version, whatever its size, in fewer still
    again = {page: n for page, n in counts["large"].items() if page.endswith("as drawn")
             and "pack" not in page}
    assert max(again.values()) <= 8, again
    assert all(counts["large"][page.replace("the ", "drawing the ", 1).removesuffix(
        " as drawn")] > n for page, n in again.items()), counts["large"]
