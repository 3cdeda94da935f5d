"""The board's pages are drawn once per data version and shown as drawn until data changes.

Every way data is written raises the version, so a page never shows what was true before:
a form, a bulk statement, SQL text and a command; bookkeeping (signing in) does not. A page
is kept in the database, so a second app on the same database (another worker or host)
shows it without drawing it; people who see a page differently (a lead may write their
priority's narrative) each get their own.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from tests.conftest import _make_app
from tests.tracker.helpers import browser, counted_get, db, set_password, sign_in, visible
from tests.tracker.signing import ADMIN, BOARD, LEAD, enrol
from tests.tracker.test_commentary import write
from tracker.config import PROJECT_ROOT
from tracker.db import data_version, get_engine
from tracker.models import Action, ActionStatus, Commitment, DataVersion, PageCache, User

SUMMARY = "/board/commentary/2026-27-Q2/summary"


def _queries(app: Flask, client: FlaskClient, url: str) -> tuple[int, str]:
    queries, response = counted_get(app, client, url)
    assert response.status_code == 200, (url, response.status_code)
    return queries, response.get_data(as_text=True)


def _version(app: Flask) -> int:
    with db(app) as s:
        return s.scalar(select(DataVersion.number).where(DataVersion.id == 1)) or 0


def test_a_page_is_drawn_once_then_shown_as_drawn(demo_app: Flask) -> None:
    board = browser(demo_app, BOARD)
    drawing, first = _queries(demo_app, board, "/board")
    again, second = _queries(demo_app, board, "/board")
    assert _main(second) == _main(first)  # the same page, to the letter
    assert again <= 8 < drawing, (again, drawing)
    with db(demo_app) as s:
        assert s.scalar(select(PageCache.version)) == _version(demo_app)


def test_a_form_that_writes_data_shows_at_once(demo_app: Flask) -> None:
    board = browser(demo_app, BOARD)
    before = visible(board.get("/board").get_data(as_text=True))
    assert "The partnership met every Q2 deadline." not in before
    version = _version(demo_app)
    admin = browser(demo_app, ADMIN)
    assert write(admin, SUMMARY, "The partnership met every Q2 deadline.").status_code == 302
    assert _version(demo_app) > version
    assert "The partnership met every Q2 deadline." in visible(
        board.get("/board").get_data(as_text=True))


def _ref_and_title(app: Flask) -> tuple[str, str, str]:
    with db(app) as s:
        action = s.scalars(select(Action).order_by(Action.id)).first()
        assert action is not None and action.owner is not None
        return action.ref, action.commitment.ref, action.owner.email


def test_a_bulk_statement_and_sql_text_show_at_once(demo_app: Flask) -> None:
    ref, commitment, owner = _ref_and_title(demo_app)
    board = browser(demo_app, BOARD)
    url = f"/board/commitments/{commitment}"
    assert "Renamed Owner" not in board.get(url).get_data(as_text=True)
    with db(demo_app) as s:  # SQL text, as an operator's script might run it
        s.execute(text("UPDATE users SET name = 'Renamed Owner' WHERE email = :email"),
                  {"email": owner})
        s.commit()
    assert "Renamed Owner" in board.get(url).get_data(as_text=True)

    exceptions = "/board/exceptions?only=red"
    assert "Shown at once" not in visible(board.get(exceptions).get_data(as_text=True))
    with db(demo_app) as s:  # a bulk statement, as the statuses job stores them
        action_id = s.scalar(select(Action.id).where(Action.ref == ref))
        s.execute(update(ActionStatus).where(ActionStatus.action_id == action_id,
                                             ActionStatus.quarter == "2026/27 Q2")
                  .values(colour="red", reason="Shown at once"))
        s.commit()
    assert "Shown at once" in visible(board.get(exceptions).get_data(as_text=True))


def test_a_command_that_writes_data_shows_at_once(demo_app: Flask, tmp_path: Path) -> None:
    with db(demo_app) as s:
        title = s.scalars(select(Commitment.text).order_by(Commitment.id)).first()
    assert title
    plan = tmp_path / "plans.yaml"
    original = (PROJECT_ROOT / "plans.yaml").read_text(encoding="utf-8")
    assert original.count(title) >= 1
    plan.write_text(original.replace(title, "A commitment reworded at the annual review", 1),
                    encoding="utf-8")
    board = browser(demo_app, BOARD)
    assert "A commitment reworded" not in board.get("/board/trend").get_data(as_text=True)
    result = demo_app.test_cli_runner().invoke(args=["plan", "load", str(plan)])
    assert result.exit_code == 0, result.output
    assert "A commitment reworded at the annual review" in visible(
        board.get("/board/trend").get_data(as_text=True))


def test_signing_in_leaves_the_pages_as_drawn(demo_app: Flask) -> None:
    browser(demo_app, BOARD).get("/board")
    set_password(demo_app, ADMIN)  # the test's own set-up, before the version is read ...
    enrol(demo_app, ADMIN)  # ... with the admin's second factor: signing in enters a code
    version = _version(demo_app)
    assert sign_in(demo_app.test_client(), ADMIN).status_code == 302
    with db(demo_app) as s:  # a session row, and the account's last sign-in
        assert s.scalar(select(User.last_signed_in_at).where(User.email == ADMIN)) is not None
    assert _version(demo_app) == version


def test_people_who_see_a_page_differently_get_their_own(demo_app: Flask) -> None:
    board, lead = browser(demo_app, BOARD), browser(demo_app, LEAD)
    for _ in range(2):
        board_page = board.get("/board/priorities/2").get_data(as_text=True)
        lead_page = lead.get("/board/priorities/2").get_data(as_text=True)
        assert "/board/commentary/2026-27-Q2/2" in lead_page  # theirs to write
        assert "/board/commentary/2026-27-Q2/2" not in board_page
    with db(demo_app) as s:
        assert len(s.scalars(select(PageCache.key)).all()) == 2


def test_another_worker_on_the_same_database_shows_the_page_as_drawn(
        demo_app: Flask) -> None:
    other = _make_app(Path(get_engine(demo_app).url.database or ""))
    here, there = browser(demo_app, BOARD), browser(other, BOARD)
    drawing, page = _queries(demo_app, here, "/board/exceptions")
    try:
        again, seen = _queries(other, there, "/board/exceptions")
    finally:
        get_engine(other).dispose()
    assert again <= 8 < drawing
    assert _main(seen) == _main(page)


def _main(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


def test_with_the_cache_off_every_request_draws_the_page(demo_app: Flask) -> None:
    demo_app.config["PAGE_CACHE"] = False
    board = browser(demo_app, BOARD)
    board.get("/board")  # the process reads the plan's shape, and keeps it
    first, _ = _queries(demo_app, board, "/board")
    again, _ = _queries(demo_app, board, "/board")
    assert again == first > 8
    with db(demo_app) as s:
        assert s.scalars(select(PageCache.key)).all() == []


def test_the_version_a_transaction_sees(demo_app: Flask) -> None:
    with demo_app.app_context():
        from tracker.db import get_session

        assert data_version(get_session()) == _version(demo_app)


def test_the_pack_builder_draws_the_board_s_first_pages_ahead(demo_app: Flask) -> None:
    from tracker.views import page_cache

    board = browser(demo_app, BOARD)  # set up first: it writes the account
    version = page_cache.warm(demo_app, None)
    assert version == _version(demo_app)
    with db(demo_app) as s:
        drawn = len(s.scalars(select(PageCache.key)).all())
    assert drawn == len(page_cache.WARMED)
    for url in ("/board", "/board/exceptions", "/board/trend"):
        queries, _html = _queries(demo_app, board, url)
        assert queries <= 8, (url, queries)  # found drawn: the board member draws nothing
    assert page_cache.warm(demo_app, version) == version  # nothing changed: nothing drawn

    admin = browser(demo_app, ADMIN)
    assert write(admin, SUMMARY, "Drawn ahead after the change.").status_code == 302
    assert page_cache.warm(demo_app, version) > version
    queries, html = _queries(demo_app, board, "/board")
    assert queries <= 8 and "Drawn ahead after the change." in html
