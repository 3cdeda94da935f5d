"""The security log as an admin reads it: failed and throttled sign-ins and refused pages,
each with the account, the address it came from and the reference the person was shown."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests.tracker.helpers import db, table
from tests.tracker.signing import ADMIN, MEMBER, set_password, sign_in, signed_in, text
from tracker.models import (
    HeldSubmission,
    LoginAttempt,
    SecurityEvent,
    User,
    UserSession,
    utcnow,
)
from tracker.services import security_log


def _events(app: Flask) -> list[SecurityEvent]:
    with db(app) as s:
        found = list(s.scalars(select(SecurityEvent).order_by(SecurityEvent.id)))
        s.expunge_all()
        return found


def test_a_failed_sign_in_is_logged_with_where_it_came_from(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    guesser = kingston_app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    response = sign_in(guesser, MEMBER.upper(), "a-wrong-guess-here")
    assert response.status_code == 400
    [event] = _events(kingston_app)
    assert (event.kind, event.email, event.source, event.method, event.path) == (
        "sign_in.failed", MEMBER, "203.0.113.9", "POST", "/sign-in")
    assert event.request_id == response.headers["X-Request-Id"] and len(event.request_id) == 16

    admin = signed_in(kingston_app, ADMIN)
    page = admin.get("/admin/security")
    assert page.status_code == 200
    rows = table(page.get_data(as_text=True), "Events: 1 to 1 of 1, newest first")
    assert rows[1][1].startswith("Sign-in failed")
    assert rows[1][2:] == [MEMBER, "203.0.113.9", "POST /sign-in", event.request_id]


def test_throttled_sign_ins_and_refused_pages_are_logged_and_filtered(
        kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    guesser = kingston_app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(6):
        sign_in(guesser, MEMBER, "a-wrong-guess-here")
    member = signed_in(kingston_app, MEMBER)
    refused = member.get("/admin/users")
    assert refused.status_code == 403
    reference = refused.headers["X-Request-Id"]
    assert f"give this reference: {reference}" in text(refused)
    kinds = [e.kind for e in _events(kingston_app)]
    assert kinds == ["sign_in.failed"] * 5 + ["sign_in.throttled", "access.forbidden"]
    forbidden = _events(kingston_app)[-1]
    assert (forbidden.email, forbidden.path, forbidden.request_id) == (
        MEMBER, "/admin/users", reference)
    assert forbidden.detail == "member: admin.users"

    admin = signed_in(kingston_app, ADMIN)
    only = admin.get("/admin/security?kind=sign_in.throttled")
    rows = table(only.get_data(as_text=True), "Matching events: 1 to 1 of 1, newest first")
    assert rows[1][1].startswith("Sign-in throttled") and "Wait 30 seconds" in rows[1][1]
    by_account = admin.get("/admin/security?account=ben.carter")
    assert "Matching events: 1 to 7 of 7" in text(by_account)
    by_source = admin.get("/admin/security?source=203.0.113.9")
    assert "Matching events: 1 to 6 of 6" in text(by_source)
    assert admin.get("/admin/security?kind=nonsense").status_code == 400


def test_only_admins_read_the_security_log(kingston_app: Flask) -> None:
    assert signed_in(kingston_app, MEMBER).get("/admin/security").status_code == 403
    anonymous = kingston_app.test_client().get("/admin/security")
    assert anonymous.status_code in (302, 403)


def test_the_purge_job_deletes_what_is_kept_no_longer(kingston_app: Flask) -> None:
    long_ago, lately, now = (utcnow() - timedelta(days=400), utcnow() - timedelta(days=40),
                             utcnow())
    with db(kingston_app) as s:
        admin = s.scalars(select(User).where(User.email == ADMIN)).one()
        s.query(UserSession).delete()
        s.add_all([SecurityEvent(kind="sign_in.failed", email="old@example.org", at=long_ago),
                   SecurityEvent(kind="sign_in.failed", email="new@example.org", at=lately),
                   LoginAttempt(email="old@example.org", ip="x", attempted_at=lately),
                   LoginAttempt(email="new@example.org", ip="x"),
                   UserSession(token_hash="a" * 64, user_id=admin.id, last_seen_at=lately,
                               ended_at=lately, ended_reason="signed out"),
                   UserSession(token_hash="b" * 64, user_id=admin.id, last_seen_at=now),
                   HeldSubmission(token_hash="c" * 64, path="/old", form={},
                                  expires_at=lately),
                   HeldSubmission(token_hash="d" * 64, path="/new", form={},
                                  expires_at=now + timedelta(days=1))])
        s.commit()
    result = kingston_app.test_cli_runner().invoke(args=["jobs", "run", "purge"])
    assert result.exit_code == 0, result.output
    assert ("deleted 1 security events, 1 sign-in attempts, 1 ended sessions, "
            "1 held form text") in result.output
    with db(kingston_app) as s:
        assert s.scalars(select(SecurityEvent.email)).all() == ["new@example.org"]
        assert s.scalars(select(LoginAttempt.email)).all() == ["new@example.org"]
        assert s.scalars(select(UserSession.token_hash)).all() == ["b" * 64]
        assert s.scalars(select(HeldSubmission.path)).all() == ["/new"]


def test_typed_text_cannot_forge_a_line_of_the_log(kingston_app: Flask,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    forged = "x@example.org\n2026-12-02 INFO tracker: admin signed in"
    seen = security_log.Seen(source="203.0.113.9", request_id="r1", method="GET",
                             path="/a\r\nb")
    with caplog.at_level(logging.WARNING, logger="tracker.security"):
        security_log.keep(kingston_app, "access.forbidden", seen, forged, "x\ny")
    [line] = [r.getMessage() for r in caplog.records if r.name == "tracker.security"]
    assert "\n" not in line and "\r" not in line
    assert "account=x@example.org?2026-12-02 info" in line and "/a??b x?y" in line
    [event] = _events(kingston_app)
    assert event.email == forged.lower()  # kept as typed; the page escapes it
