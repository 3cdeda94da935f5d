"""Board packs are asked for on the web and built by the pack builder, once.

A request queues a build (or finds the one there is) and shows it being prepared; the
builder makes it; then the same pack, asked for by anyone, is the file, until what it shows
changes. A person waits for one pack per format at a time; locking a quarter builds its
packs ahead; a failed build says why and can be tried again; a builder that died leaves its
builds to another.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import _make_app, count
from tests.tracker.helpers import (
    TODAY,
    banners,
    browser,
    cast,
    db,
    pin_today,
    submit_update,
    token_for,
    visible,
)
from tests.tracker.signing import ADMIN, BOARD, LEAD, MEMBER
from tracker import builder
from tracker.db import get_engine, get_session
from tracker.models import PackBuild, PackRequest, utcnow
from tracker.reports import dashboard
from tracker.reports.pack import render
from tracker.services import layouts, packs
from tracker.services.plan_load import current_plan

Q1, Q1_LABEL = "2025-26-Q1", "2025/26 Q1"


@pytest.fixture
def app(demo_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Flask]:
    target = tmp_path / "tracker.db"
    shutil.copy(demo_db_template, target)
    pin_today(monkeypatch)
    application = _make_app(target)
    yield application
    get_engine(application).dispose()


def _builds(app: Flask) -> list[PackBuild]:
    with db(app) as s:
        return list(s.scalars(select(PackBuild).order_by(PackBuild.id)))


def _ask(client: FlaskClient, url: str) -> str:
    """Ask for a pack; where it leads (the status page, or the file)."""
    response = client.get(url)
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def test_a_pack_is_prepared_by_the_builder_then_served_to_everyone(app: Flask) -> None:
    board, lead = browser(app, BOARD), browser(app, LEAD)
    url = f"/board/pack.csv?quarter={Q1}"
    status_page = _ask(board, url)
    assert status_page.startswith("/board/packs/")
    page = board.get(status_page)
    assert page.status_code == 200
    text = visible(page.get_data(as_text=True))
    assert "Preparing your board pack" in text and f"CSV, {Q1_LABEL}" in text
    assert "Waiting to start" in text
    assert _ask(lead, url) == status_page  # someone else asking waits for the same build
    assert len(_builds(app)) == 1  # nothing was built by the web request

    assert builder.build_waiting(app) == 1

    ready = visible(board.get(status_page).get_data(as_text=True))
    assert "Your board pack is ready" in ready and "Download the CSV board pack" in ready
    file_url = _ask(board, url)  # asked again: the file at once
    assert file_url.endswith(".csv")
    download = lead.get(file_url)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    with app.app_context():
        session = get_session()
        plan = current_plan(session)
        assert plan is not None
        quarter = plan.partnership.calendar.parse_quarter(Q1_LABEL)
        direct = render("csv", session, plan, TODAY, quarter, dashboard.Filters(),
                        env=app.jinja_env)
    assert download.data == direct.content  # the same file the command line writes
    with db(app) as s:
        assert s.scalar(select(func.count()).select_from(PackRequest)) == 2


def test_a_change_to_what_the_pack_shows_makes_a_new_one(app: Flask,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    board = browser(app, BOARD)
    open_quarter = "/board/pack.csv?quarter=2026-27-Q2"
    earlier = f"/board/pack.csv?quarter={Q1}"
    _ask(board, open_quarter)
    _ask(board, earlier)  # a CSV of another quarter: refused while the first waits
    builder.build_waiting(app)
    _ask(board, earlier)
    builder.build_waiting(app)
    first = {b.quarter: b.key for b in _builds(app)}

    # an update for the open quarter changes its pack, not the earlier quarter's
    people = cast(app)
    owner = browser(app, people.owner)
    assert submit_update(owner, people.action, narrative="A new update.",
                         confirm_lower="y").status_code == 302
    assert _ask(board, earlier).endswith(".csv")  # still the file built before
    assert _ask(board, open_quarter).startswith("/board/packs/")  # a new build
    builds = _builds(app)
    assert len(builds) == 3
    assert builds[-1].quarter == "2026/27 Q2" and builds[-1].key != first["2026/27 Q2"]


def test_a_person_waits_for_one_pack_of_a_format_at_a_time(app: Flask) -> None:
    board = browser(app, BOARD)
    first = _ask(board, f"/board/pack.pdf?quarter={Q1}")
    refused = board.get("/board/pack.pdf?quarter=2025-26-Q2")
    assert refused.status_code == 302 and refused.headers["Location"] == first
    page = board.get(first).get_data(as_text=True)
    assert any("Your PDF board pack for 2025/26 Q1 is still being prepared" in b
               for b in banners(page))
    assert _ask(board, f"/board/pack.xlsx?quarter={Q1}") != first  # another format is fine
    assert [b.format for b in _builds(app)] == ["pdf", "xlsx"]
    other = browser(app, ADMIN)  # and someone else may ask for the second PDF
    assert _ask(other, "/board/pack.pdf?quarter=2025-26-Q2") not in (first,)
    assert len(_builds(app)) == 3


def test_locking_a_quarter_builds_its_packs_ahead(app: Flask) -> None:
    admin = browser(app, ADMIN)
    locked = admin.post(f"/quarters/{Q1}/lock", data={"csrf_token": token_for(admin, "/quarters"),
                                                      "note": "The board met."})
    assert locked.status_code == 302
    ahead = _builds(app)
    assert sorted(b.format for b in ahead) == ["pdf", "xlsx"]
    assert all(b.quarter == Q1_LABEL and b.reason.startswith("built ahead") for b in ahead)
    assert builder.build_waiting(app) == 2
    with app.app_context():  # the PDF is laid out as the board's briefing book says
        book = layouts.for_board(get_session())
        assert book is not None
        book_id = book.id
    assert [b.layout.get("id") for b in ahead if b.format == "pdf"] == [book_id]
    board = browser(app, BOARD)
    assert _ask(board, f"/board/pack.pdf?quarter={Q1}&layout={book_id}").endswith(".pdf")
    assert _ask(board, f"/board/pack.xlsx?quarter={Q1}").endswith(".xlsx")
    # the whole pack, in no layout, was not built ahead: asking for it queues it
    assert _ask(board, f"/board/pack.pdf?quarter={Q1}").startswith("/board/packs/")


def test_a_failed_build_says_why_and_can_be_tried_again(app: Flask,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    board = browser(app, BOARD)
    status_page = _ask(board, f"/board/pack.csv?quarter={Q1}")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(builder, "render", broken)
    assert builder.build_waiting(app) == 0
    page = visible(board.get(status_page).get_data(as_text=True))
    assert "Sorry, your board pack could not be made" in page
    assert "RuntimeError: the disk is full" in page and "Try again" in page
    monkeypatch.undo()
    pin_today(monkeypatch)
    assert _ask(board, f"/board/pack.csv?quarter={Q1}") == status_page  # queued again
    assert builder.build_waiting(app) == 1
    assert "Your board pack is ready" in visible(board.get(status_page).get_data(as_text=True))


def test_builds_are_made_two_at_a_time_and_a_dead_builder_s_are_taken_over(app: Flask) -> None:
    board, lead, member = browser(app, BOARD), browser(app, LEAD), browser(app, MEMBER)
    for person in (board, lead, member):
        _ask(person, f"/board/pack.{'pdf' if person is board else 'csv'}?quarter="
                     f"{Q1 if person is not member else '2025-26-Q2'}")
    now = utcnow()
    with app.app_context():
        session = get_session()
        first, second = packs.claim(session, now), packs.claim(session, now)
        assert first is not None and second is not None
        assert packs.claim(session, now) is None  # two at a time, whoever builds them
        session.commit()
        # the builder holding them died: once their leases lapse, they are claimed again
        later = now + packs.LEASE + timedelta(seconds=1)
        again = packs.claim(session, later)
        assert again is not None and again.id == first.id and again.attempts == 2
        session.commit()
        for _ in range(packs.ATTEMPTS - 2):
            later += packs.LEASE + timedelta(seconds=1)
            packs.claim(session, later)
            session.commit()
        later += packs.LEASE + timedelta(seconds=1)
        packs.claim(session, later)  # a build that killed its builder 3 times has failed
        session.commit()
        states = {b.id: b.state for b in session.scalars(select(PackBuild))}
        assert states[first.id] == "failed"


def test_the_progress_can_be_followed_without_reloading(app: Flask) -> None:
    board = browser(app, BOARD)
    status_page = _ask(board, f"/board/pack.csv?quarter={Q1}")
    progress = board.get(status_page + "/status.json")
    assert progress.status_code == 200
    assert progress.json == {"state": "queued", "step": "Waiting to start", "progress": 0}
    builder.build_waiting(app)
    assert board.get(status_page + "/status.json").json["state"] == "ready"


def test_the_worker_command_builds_what_waits(app: Flask) -> None:
    board = browser(app, BOARD)
    _ask(board, f"/board/pack.xlsx?quarter={Q1}")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 board pack built." in result.output
    assert [b.state for b in _builds(app)] == ["ready"]


def test_old_builds_are_deleted(app: Flask) -> None:
    board = browser(app, BOARD)
    _ask(board, f"/board/pack.csv?quarter={Q1}")
    builder.build_waiting(app)
    with app.app_context():
        session = get_session()
        assert packs.purge(session, utcnow() + packs.KEEP - timedelta(hours=1)) == 0
        assert packs.purge(session, utcnow() + packs.KEEP + timedelta(hours=1)) == 1
        session.commit()
    assert count(app, PackBuild) == 0 and count(app, PackRequest) == 0
