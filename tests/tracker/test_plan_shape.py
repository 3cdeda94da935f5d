"""The plan's shape (priorities, commitments, actions, owners, themes) is read once per
process and kept while its stamp holds; a write to any of it renews the stamp, so the board
never shows a shape that was true before, and status or update writes leave it be."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tests.tracker.helpers import browser, counted_get, db, visible
from tests.tracker.signing import BOARD
from tracker.db import SHAPE_ROW, get_session, shape_stamp
from tracker.models import Action, ActionStatus, DataVersion, User
from tracker.reports import shape


def _current(app: Flask) -> shape.Shape:
    with app.app_context():
        return shape.current(get_session())


def _stamp(app: Flask) -> int:
    with db(app) as s:
        return s.scalar(select(DataVersion.number).where(DataVersion.id == SHAPE_ROW)) or 0


def _rename_first_account(app: Flask, name: str) -> None:
    """An account renamed: a write to the plan's shape."""
    with db(app) as s:
        user = s.scalars(select(User).order_by(User.id)).first()
        assert user is not None
        user.name = name
        s.commit()


def _change_first_status(app: Flask, **values: str) -> None:
    """A stored status changed: not a write to the shape."""
    with db(app) as s:
        status = s.scalars(select(ActionStatus).order_by(ActionStatus.id)).first()
        assert status is not None
        for name, value in values.items():
            setattr(status, name, value)
        s.commit()


def test_the_shape_is_kept_while_statuses_change_and_read_again_when_it_changes(
        demo_app: Flask) -> None:
    first = _current(demo_app)
    assert first.stamp == _stamp(demo_app) != 0
    assert _current(demo_app) is first

    _change_first_status(demo_app, reason="Reworded")  # a status written: the shape holds
    assert _current(demo_app) is first

    with db(demo_app) as s:  # an owner renamed: the shape is read again
        action = s.scalars(select(Action).order_by(Action.position)).first()
        assert action is not None
        owner = s.get(User, action.owner_id)
        assert owner is not None
        owner.name, ref = "Renamed Owner", action.ref
        s.commit()
    again = _current(demo_app)
    assert again is not first and again.stamp == _stamp(demo_app) != first.stamp
    row = next(a.row for a in again.actions if a.row[1] == ref)
    assert row[5] == "Renamed Owner"


def test_the_stamp_is_new_and_random_for_each_change(demo_app: Flask) -> None:
    stamps = {_stamp(demo_app)}
    for name in ("One", "Two", "Three"):
        _rename_first_account(demo_app, name)
        stamps.add(_stamp(demo_app))
    assert len(stamps) == 4  # never the same stamp again, even after a restore
    with demo_app.app_context():
        assert shape_stamp(get_session()) in stamps


def test_the_board_shows_a_renamed_owner_at_once(demo_app: Flask) -> None:
    board = browser(demo_app, BOARD)
    page = visible(board.get("/board/exceptions").get_data(as_text=True))
    with db(demo_app) as s:
        owners = s.scalars(select(User).where(User.id.in_(select(Action.owner_id)))).all()
        shown = next(u for u in owners if u.name in page)
        old, shown.name = shown.name, "Morgan Quill-Newname"
        s.commit()
    page = visible(board.get("/board/exceptions").get_data(as_text=True))
    assert "Morgan Quill-Newname" in page
    assert old not in page


def test_a_board_page_drawn_again_after_a_status_change_reads_no_shape(
        demo_app: Flask) -> None:
    board = browser(demo_app, BOARD)
    board.get("/board")  # the shape read, and kept
    _change_first_status(demo_app, reason="Changed for the test")
    kept, _ = counted_get(demo_app, board, "/board")
    _rename_first_account(demo_app, "Someone Else")
    read_again, _ = counted_get(demo_app, board, "/board")
    assert read_again > kept  # the shape's queries, only when the shape changed
