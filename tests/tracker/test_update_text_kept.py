"""What someone typed into the update form is never lost.

Two things can go wrong between opening the form and submitting it: its security (CSRF)
token expires, or the sign-in session ends (idle timeout, the laptop slept, signed out
elsewhere). Nothing is saved in either case, and the text comes back: at once in the first
case; after signing in again, in the same browser only and once, in the second.
"""

from __future__ import annotations

from datetime import timedelta

import flask_wtf.csrf
import pytest
from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from tests.conftest import count, db_fingerprint
from tests.tracker.helpers import (
    banners,
    browser,
    cast,
    db,
    error_summary,
    pin_today,
    set_password,
    sign_in,
    typed,
    update_form,
    update_url,
    visible,
)
from tracker.models import Action, ActionUpdate, HeldSubmission, Milestone, User, UserSession
from tracker.models.base import utcnow

EXPIRED = ("Your form had expired, so nothing was saved yet. What you typed is below: check it "
           "and submit it again.")
KEPT = "We kept what you typed before you were signed out: check it and submit."


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


def _typing(app: Flask, ref: str) -> dict[str, object]:
    """Everything the form asks for, filled in, with text worth losing sleep over."""
    with db(app) as s:
        milestone = s.scalars(select(Milestone).join(Action).where(Action.ref == ref)
                              .order_by(Milestone.id)).first()
        assert milestone is not None
    return typed(
        rag="amber", percent_complete="55",
        narrative="Three sessions ran in October.\nAttendance: 41 residents <of 60> & rising.",
        next_steps="Run the fourth session at Tolworth library.",
        risks="The venue's lease ends in March.",
        corrective_action="A second venue is being found with the housing team.",
        is_concern="y", concern_reason="Attendance from older residents is falling.",
        evidence="https://example.org/attendance\nhttps://example.org/feedback",
        milestones=[str(milestone.id)],
    )


def assert_form_holds(html: str, sent: dict[str, object]) -> None:
    shown = update_form(html)
    for name, value in sent.items():
        if name == "milestones":
            assert shown.getlist(name) == value, name
        else:
            assert shown.get(name) == value, name


def _versions(app: Flask, ref: str) -> list[ActionUpdate]:
    with db(app) as s:
        return list(s.scalars(select(ActionUpdate).join(Action).where(Action.ref == ref)
                              .order_by(ActionUpdate.version)))


def _assert_saved(app: Flask, ref: str, sent: dict[str, object]) -> None:
    [saved] = _versions(app, ref)
    assert (saved.rag, saved.percent_complete, saved.narrative, saved.next_steps, saved.risks,
            saved.corrective_action, saved.is_concern, saved.concern_reason, saved.evidence) == (
        sent["rag"], int(str(sent["percent_complete"])), sent["narrative"], sent["next_steps"],
        sent["risks"], sent["corrective_action"], True, sent["concern_reason"],
        str(sent["evidence"]).splitlines())


# -- an expired form ------------------------------------------------------------------------


class _EarlierSigner(TimestampSigner):
    seconds_ago = 0

    def get_timestamp(self) -> int:
        return super().get_timestamp() - self.seconds_ago


class _Earlier(URLSafeTimedSerializer):
    """Flask-WTF's token serializer, signing as if it were ``seconds_ago`` earlier."""

    default_signer = _EarlierSigner


@pytest.mark.parametrize("token", ["expired", "invalid", "missing"])
def test_an_expired_form_comes_back_with_everything_typed(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    if token == "expired":  # the form was opened an hour longer ago than a token lasts
        with monkeypatch.context() as m:
            m.setattr(_EarlierSigner, "seconds_ago",
                      kingston_app.config["WTF_CSRF_TIME_LIMIT"] + 3600)
            m.setattr(flask_wtf.csrf, "URLSafeTimedSerializer", _Earlier)
            form = update_form(client.get(update_url(people.action)).get_data(as_text=True))
    else:
        form = update_form(client.get(update_url(people.action)).get_data(as_text=True))
    sent = _typing(kingston_app, people.action)
    data = {**sent, "base_version": form.get("base_version")}
    if token == "expired":
        data["csrf_token"] = form.get("csrf_token")
    elif token == "invalid":
        data["csrf_token"] = "IjA5YTk0ZDQ2Ig.not-a-real-token.x"
    before = db_fingerprint(kingston_app)

    response = client.post(update_url(people.action), data=data)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_summary(html) == [EXPIRED]
    assert_form_holds(html, sent)
    assert db_fingerprint(kingston_app) == before  # nothing at all was written
    assert count(kingston_app, ActionUpdate) == 0

    again = update_form(html)
    assert again.get("csrf_token"), "the re-shown form must carry a fresh token"
    resubmitted = client.post(update_url(people.action), data=again.as_data())

    assert resubmitted.status_code == 302
    assert resubmitted.headers["Location"] == f"/actions/{people.action}"
    _assert_saved(kingston_app, people.action, sent)


def test_an_expired_form_with_mistakes_shows_them_too(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    client.get(update_url(people.action))

    response = client.post(update_url(people.action), data={
        **typed(rag="red", narrative="Typed while the token expired."),
        "base_version": "0", "csrf_token": "stale"})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_summary(html) == [
        EXPIRED, "Enter the corrective action: it is required when the action is Red"]
    assert update_form(html).get("narrative") == "Typed while the token expired."
    assert count(kingston_app, ActionUpdate) == 0


# -- a session that ended while typing ------------------------------------------------------


def _end_session(app: Flask, email: str, how: str) -> None:
    with db(app) as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
        if how == "ended":  # signed out elsewhere, or an admin disabled and enabled the account
            values = {"ended_at": utcnow(), "ended_reason": "signed out"}
        else:  # the laptop slept past the idle timeout
            values = {"last_seen_at": utcnow() - timedelta(hours=2)}
        done = s.execute(update(UserSession).where(UserSession.user_id == user_id,
                                                   UserSession.ended_at.is_(None))
                         .values(**values))
        assert done.rowcount == 1  # type: ignore[attr-defined]
        s.commit()


@pytest.mark.parametrize("how", ["ended", "idle"])
def test_text_typed_when_the_session_ended_waits_for_signing_in_again(
        kingston_app: Flask, how: str) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    path = update_url(people.action)
    form = update_form(client.get(path).get_data(as_text=True))
    sent = _typing(kingston_app, people.action)
    _end_session(kingston_app, people.owner, how)

    response = client.post(path, data={**sent, "base_version": form.get("base_version"),
                                       "csrf_token": form.get("csrf_token")})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next={path}"
    assert count(kingston_app, ActionUpdate) == 0
    assert count(kingston_app, HeldSubmission) == 1
    sign_in_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("info: You were signed out before your form was saved. We have kept what you "
            "typed: sign in again and it will be waiting for you.") in banners(sign_in_page)

    signed_in = sign_in(client, people.owner, next_path=path)

    assert signed_in.status_code == 302 and signed_in.headers["Location"] == path
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"info: {KEPT}" in banners(html)
    assert_form_holds(html, sent)
    assert count(kingston_app, ActionUpdate) == 0  # kept, not saved behind their back

    # given back once: opening the form again shows what is saved (nothing yet)
    later = client.get(path).get_data(as_text=True)
    assert KEPT not in visible(later)
    assert update_form(later).get("narrative") == ""

    saved = client.post(path, data=update_form(html).as_data())

    assert saved.status_code == 302
    _assert_saved(kingston_app, people.action, sent)


def test_the_held_text_goes_only_to_the_browser_that_typed_it(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    laptop = browser(kingston_app, people.owner)
    path = update_url(people.action)
    form = update_form(laptop.get(path).get_data(as_text=True))
    sent = _typing(kingston_app, people.action)
    _end_session(kingston_app, people.owner, "idle")
    assert laptop.post(path, data={**sent, "base_version": form.get("base_version"),
                                   "csrf_token": form.get("csrf_token")}).status_code == 302

    phone = browser(kingston_app, people.owner)  # the same person, another browser
    html = phone.get(path).get_data(as_text=True)

    assert KEPT not in visible(html)
    assert update_form(html).get("narrative") == ""
    assert str(sent["narrative"]).splitlines()[0] not in html

    set_password(kingston_app, people.owner)
    assert sign_in(laptop, people.owner, next_path=path).status_code == 302
    other_form = laptop.get(update_url(people.other_action))  # not theirs: refused, not spent
    assert other_form.status_code == 403
    assert_form_holds(laptop.get(path).get_data(as_text=True), sent)


def test_held_text_is_not_given_to_another_form(kingston_app: Flask) -> None:
    """The text held for one action's form does not turn up in another action's form."""
    people = cast(kingston_app)
    with db(kingston_app) as s:
        owner_id = s.scalar(select(User.id).where(User.email == people.owner))
        second = next(a.ref for a in s.scalars(select(Action).where(
            Action.owner_id == owner_id, Action.ref != people.action,
            Action.retired_at.is_(None))) if "2026/27" in a.years)
    client = browser(kingston_app, people.owner)
    path = update_url(people.action)
    form = update_form(client.get(path).get_data(as_text=True))
    sent = _typing(kingston_app, people.action)
    _end_session(kingston_app, people.owner, "ended")
    assert client.post(path, data={**sent, "base_version": form.get("base_version"),
                                   "csrf_token": form.get("csrf_token")}).status_code == 302
    assert sign_in(client, people.owner).status_code == 302

    elsewhere = client.get(update_url(second)).get_data(as_text=True)

    assert KEPT not in visible(elsewhere)
    assert update_form(elsewhere).get("narrative") == ""
    assert_form_holds(client.get(path).get_data(as_text=True), sent)


def test_held_text_is_given_back_only_to_the_person_who_typed_it(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    shared_pc = browser(kingston_app, people.owner)
    path = update_url(people.action)
    form = update_form(shared_pc.get(path).get_data(as_text=True))
    _end_session(kingston_app, people.owner, "ended")
    assert shared_pc.post(path, data={
        **typed(narrative="The owner's unsaved draft."), "base_version": "0",
        "csrf_token": form.get("csrf_token")}).status_code == 302

    set_password(kingston_app, people.lead)
    assert sign_in(shared_pc, people.lead, next_path=path).status_code == 302
    html = shared_pc.get(path).get_data(as_text=True)

    assert KEPT not in visible(html)
    assert "The owner's unsaved draft." not in html
