"""One unit of work per request: committed when the view returns, rolled back when anything
raises, run again when the database was busy; and the pages people see when it cannot be.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import tracker.db
from tests.conftest import _copy, _make_app, count
from tests.tracker.helpers import (
    PASSWORD,
    QUARTER,
    browser,
    cast,
    db,
    forms,
    pin_today,
    typed,
    update_form,
    update_url,
    visible,
)
from tracker.db import get_engine
from tracker.models import ActionUpdate, AuditEvent
from tracker.services import updates as update_service


@pytest.fixture
def impatient_app(kingston_db_template: Path, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Kingston, on a database that gives up waiting for its write lock after 50 ms."""
    monkeypatch.setattr(tracker.db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(tracker.db, "pause_before_retry", lambda attempt: None)
    app = _make_app(_copy(kingston_db_template, tmp_path))
    yield app
    get_engine(app).dispose()


def _hold_write_lock(app: Flask) -> sqlite3.Connection:
    """Another process's long write: it holds SQLite's write lock until rolled back."""
    path = get_engine(app).url.database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _updates(app: Flask, ref: str) -> list[str]:
    from tracker.models import Action

    with db(app) as s:
        return list(s.scalars(select(ActionUpdate.narrative).join(Action)
                              .where(Action.ref == ref, ActionUpdate.quarter == QUARTER)))


def test_a_busy_database_keeps_the_text_and_the_try_again_button_saves_it(
        impatient_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)
    people = cast(impatient_app)
    owner = browser(impatient_app, people.owner)
    form = update_form(owner.get(update_url(people.action)).get_data(as_text=True))
    text = "Six outreach sessions held; two more booked for January."
    sent = {**typed(narrative=text, next_steps="Book the venue.\nInvite partners."),
            "csrf_token": form.get("csrf_token"), "base_version": form.get("base_version")}

    other = _hold_write_lock(impatient_app)
    try:
        busy = owner.post(update_url(people.action), data=sent)
    finally:
        other.rollback()
        other.close()

    assert busy.status_code == 503
    assert busy.headers["Retry-After"].isdigit()
    html = busy.get_data(as_text=True)
    page = visible(html)
    assert "Sorry, the tracker is busy: nothing was saved yet" in page
    assert text in page and "Book the venue." in page  # what they typed, shown back
    assert _updates(impatient_app, people.action) == []  # and nothing half-written

    again = [f for f in forms(html) if f.get("narrative") is not None]
    assert len(again) == 1 and again[0].action == update_url(people.action)
    assert again[0].get("narrative") == text
    assert again[0].get("next_steps") == "Book the venue.\nInvite partners."
    saved = owner.post(update_url(people.action), data=again[0].as_data())
    assert saved.status_code == 302
    assert _updates(impatient_app, people.action) == [text]


def test_a_busy_database_is_waited_for_before_anyone_is_told(
        impatient_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first tries meet the lock; it is let go before the last: the update is saved."""
    pin_today(monkeypatch)
    people = cast(impatient_app)
    owner = browser(impatient_app, people.owner)
    other = _hold_write_lock(impatient_app)
    tries: list[int] = []

    def pause(attempt: int) -> None:
        tries.append(attempt)
        if attempt == tracker.db.BUSY_ATTEMPTS - 1:
            other.rollback()  # the other writer finishes before the last try

    monkeypatch.setattr(tracker.db, "pause_before_retry", pause)
    try:
        response = owner.post(update_url(people.action), data={
            **typed(narrative="Saved at the last try."),
            "csrf_token": update_form(owner.get(update_url(people.action)).get_data(
                as_text=True)).get("csrf_token"), "base_version": "0"})
    finally:
        other.close()
    assert response.status_code == 302
    assert tries == list(range(1, tracker.db.BUSY_ATTEMPTS))
    assert _updates(impatient_app, people.action) == ["Saved at the last try."]
    # the flash message is shown once, not once per try
    page = visible(owner.get(response.headers["Location"]).get_data(as_text=True))
    assert page.count(f"Your update for {QUARTER} has been saved") == 1


def test_a_refusal_undoes_what_was_written_before_it(kingston_app: Flask,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A service that wrote, then refused: the refusal is shown and nothing is kept."""
    pin_today(monkeypatch)
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    real = update_service.record_update

    def write_then_refuse(session, plan, user, action, quarter, data, base, today):  # type: ignore[no-untyped-def]
        real(session, plan, user, action, quarter, data, base, today)  # flushed, not committed
        raise update_service.UpdateRefused("the test refuses it after writing")

    monkeypatch.setattr(update_service, "record_update", write_then_refuse)
    audit_before = count(kingston_app, AuditEvent)
    form = update_form(owner.get(update_url(people.action)).get_data(as_text=True))
    response = owner.post(update_url(people.action), data={
        **typed(narrative="Never kept."), "csrf_token": form.get("csrf_token"),
        "base_version": form.get("base_version")})

    assert response.status_code == 400
    assert "the test refuses it after writing" in visible(response.get_data(as_text=True))
    assert "Never kept." in response.get_data(as_text=True)  # the form keeps the text
    assert _updates(kingston_app, people.action) == []
    assert count(kingston_app, AuditEvent) == audit_before


def test_an_update_that_meets_a_plan_load_runs_again_and_is_saved_once(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan loaded while an update's statuses were worked out (PostgreSQL lets both run):
    the update's unit of work is rolled back and run again, so the owner sees it saved."""
    from tracker.services import statuses

    pin_today(monkeypatch)
    monkeypatch.setattr(tracker.db, "pause_before_retry", lambda attempt: None)
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    real = statuses.store
    tries: list[int] = []

    def plan_loaded_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        tries.append(1)
        if len(tries) == 1:
            raise statuses.PlanChanged("a plan was loaded while the statuses were being "
                                       "worked out")
        return real(*args, **kwargs)

    monkeypatch.setattr(statuses, "store", plan_loaded_meanwhile)
    form = update_form(owner.get(update_url(people.action)).get_data(as_text=True))
    response = owner.post(update_url(people.action), data={
        **typed(narrative="Saved the second time."), "csrf_token": form.get("csrf_token"),
        "base_version": form.get("base_version")})

    assert response.status_code == 302
    assert len(tries) == 2
    assert _updates(kingston_app, people.action) == ["Saved the second time."]


def test_when_the_database_fails_the_error_page_still_draws(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error in a view: the app's own error page, not the server's plain text,
    drawn without reading the database again (the name is the one last seen)."""
    pin_today(monkeypatch)
    kingston_app.config["PROPAGATE_EXCEPTIONS"] = False
    people = cast(kingston_app)
    member = browser(kingston_app, people.owner)
    assert member.get("/my-actions").status_code == 200  # the name is seen once

    import tracker.views.updates as views

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("disk I/O error"))

    monkeypatch.setattr(views, "reporting", broken)
    response = member.get("/my-actions")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    page = visible(html)
    assert "Sorry, there is a problem with the service" in page
    assert "<title>Sorry, there is a problem with the service - Safer Kingston Partnership" in html
    assert "Sign out" in html  # still signed in


def test_a_post_takes_the_write_lock_and_a_get_does_not(kingston_app: Flask,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite: a request that may write begins with BEGIN IMMEDIATE; a page only reads."""
    pin_today(monkeypatch)
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    begun: list[str] = []
    from sqlalchemy import event

    engine = get_engine(kingston_app)

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        owner.get("/my-actions")
        gets = list(begun)
        begun.clear()
        form = update_form(owner.get(update_url(people.action)).get_data(as_text=True))
        begun.clear()
        owner.post(update_url(people.action), data={
            **typed(), "csrf_token": form.get("csrf_token"), "base_version": "0"})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert gets == ["BEGIN"]
    assert begun[0] == "BEGIN IMMEDIATE"
    assert PASSWORD  # the owner signed in with the shared test password


def test_a_get_may_not_write_data(kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages read: a view that tried to write plan or status data would fail loudly."""
    pin_today(monkeypatch)
    kingston_app.config["PROPAGATE_EXCEPTIONS"] = False
    people = cast(kingston_app)
    owner = browser(kingston_app, people.owner)
    import tracker.views.updates as views

    real = views.reporting

    def writes(plan, today):  # type: ignore[no-untyped-def]
        from tracker.db import get_session
        from tracker.services import audit

        audit.record(get_session(), None, "test.write", "test", "x")
        get_session().flush()
        return real(plan, today)

    monkeypatch.setattr(views, "reporting", writes)
    before = count(kingston_app, AuditEvent)
    assert owner.get("/my-actions").status_code == 500
    assert count(kingston_app, AuditEvent) == before
    with db(kingston_app) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "test.write")) == 0


def test_a_file_whose_answer_met_a_busy_database_is_closed_before_it_runs_again(
        impatient_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A signed-in person's request for the stylesheet notes when they were last seen; when
    that write meets another writer's lock, the request runs again, and the file the first
    try opened is closed, not left for the garbage collector (a leaked handle per retry)."""
    import gc
    import warnings
    from datetime import timedelta

    from sqlalchemy import update

    from tracker.models import UserSession, utcnow

    pin_today(monkeypatch)
    people = cast(impatient_app)
    owner = browser(impatient_app, people.owner)
    with db(impatient_app) as s:  # last seen long enough ago to be noted again
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
        s.commit()
    other = _hold_write_lock(impatient_app)
    tries: list[int] = []

    def pause(attempt: int) -> None:
        tries.append(attempt)
        other.rollback()  # the other writer finishes: the second try is saved

    monkeypatch.setattr(tracker.db, "pause_before_retry", pause)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            answer = owner.get("/static/css/app.css")
            body = answer.get_data()
            answer.close()
        finally:
            other.close()
        gc.collect()
    assert tries == [1]
    assert answer.status_code == 200 and b"govuk" in body
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
