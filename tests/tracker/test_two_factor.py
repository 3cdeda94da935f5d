"""Two-factor sign-in: setting up from the page, codes and recovery codes (each used once),
the pending step between password and code, who must use it, and resetting it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.conftest import db_fingerprint
from tests.tracker.helpers import page as parsed
from tests.tracker.signing import (
    ADMIN,
    BOARD,
    CODE_PAGE,
    MEMBER,
    OTHER_ADMIN,
    TOTP_SECRET,
    code_for,
    csrf,
    enrol,
    enrol_in,
    is_signed_in,
    page_token,
    set_password,
    sign_in,
    sign_out,
    signed_in,
    text,
    user,
)
from tracker import create_app
from tracker.config import ConfigError, load_config
from tracker.db import get_engine, transaction
from tracker.models import AuditEvent, LoginAttempt, RecoveryCode, SecurityEvent, User, UserSession
from tracker.services import two_factor

SET_UP = "/sign-in/set-up-two-factor"


@pytest.fixture
def app(kingston_app: Flask) -> Iterator[Flask]:
    for email in (ADMIN, OTHER_ADMIN, BOARD, MEMBER):
        set_password(kingston_app, email)
    yield kingston_app


def password_step(client: FlaskClient, email: str, query: str = "") -> TestResponse:
    return sign_in(client, email, query=query, code=False)


def post_code(client: FlaskClient, typed: str, path: str = CODE_PAGE) -> TestResponse:
    return client.post(path, data={"csrf_token": page_token(client, path), "code": typed})


def events(app: Flask, kind: str) -> list[SecurityEvent]:
    with Session(get_engine(app)) as s:
        return list(s.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)
                              .order_by(SecurityEvent.id)))


def open_sessions(app: Flask, email: str) -> int:
    with Session(get_engine(app)) as s:
        return s.scalar(select(func.count()).select_from(UserSession).join(User).where(
            User.email == email, UserSession.ended_at.is_(None))) or 0


def recovery_codes(app: Flask, email: str) -> list[str]:
    """``email`` sets up two-factor and is given recovery codes, as the set-up page does."""
    enrol(app, email)
    with app.app_context(), transaction() as db:
        found = db.scalars(select(User).where(User.email == email)).one()
        return two_factor.new_recovery_codes(db, found)


def typed_key(html: str) -> str:
    found = re.search(r'id="secret-key">([A-Z2-7 ]+)</code>', html)
    assert found, "no key to type on the page"
    return found.group(1)


def shown_codes(html: str) -> list[str]:
    return [code.get_text() for code in parsed(html).select("li > code")
            if re.fullmatch(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}", code.get_text())]


def flashed(client: FlaskClient, path: str = "/sign-in") -> str:
    return text(client.get(path))


# -- setting up ----------------------------------------------------------------------------


def test_an_admin_sets_up_two_factor_from_the_page_and_keeps_ten_recovery_codes(
        app: Flask) -> None:
    client = app.test_client()
    response = password_step(client, ADMIN)
    assert response.status_code == 302 and response.headers["Location"] == SET_UP
    assert open_sessions(app, ADMIN) == 0  # not signed in yet
    page = client.get(SET_UP)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Set up two-factor authentication" in text(page)
    assert "<svg" in html and 'aria-label="QR code' in html
    key = typed_key(html)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", key)  # 32 characters, fours
    assert client.get(SET_UP).get_data(as_text=True).count(key) == 1  # a reload: same key

    wrong = post_code(client, "000000", SET_UP)
    assert wrong.status_code == 400 and "The code is not right" in text(wrong)
    assert open_sessions(app, ADMIN) == 0
    shown = post_code(client, pyotp.TOTP(key.replace(" ", "")).now(), SET_UP)
    assert shown.status_code == 200
    codes = shown_codes(shown.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "This is the only time these codes are shown" in text(shown)
    assert is_signed_in(client) and open_sessions(app, ADMIN) == 1
    with Session(get_engine(app)) as s:
        stored = s.scalars(select(User).where(User.email == ADMIN)).one()
        assert stored.totp_secret is not None and key.replace(" ", "") not in stored.totp_secret
        hashes = set(s.scalars(select(RecoveryCode.code_hash).where(
            RecoveryCode.user_id == stored.id)))
        assert len(hashes) == 10 and not hashes & set(codes)  # kept only hashed
        assert s.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "account.two_factor_enrolled")) is not None
    assert [e.email for e in events(app, "mfa.enrolled")] == [ADMIN]
    assert [e.email for e in events(app, "mfa.failed")] == [ADMIN]


def test_an_admin_and_a_board_member_reach_no_page_before_setting_up(app: Flask) -> None:
    for email, pages in ((ADMIN, ["/admin", "/admin/users", "/board", "/account", "/"]),
                         (BOARD, ["/board", "/board/exceptions", "/my-actions", "/account"])):
        client = app.test_client()
        assert password_step(client, email).headers["Location"] == SET_UP
        for path in pages:
            response = client.get(path)
            assert response.status_code in (200, 302), path
            if path == "/":  # the published plan, as anyone sees it, signed out
                assert "Sign out" not in text(response)
            else:
                assert "/sign-in" in response.headers["Location"], path
        assert open_sessions(app, email) == 0
        assert client.get("/sign-in/code").headers["Location"] == SET_UP


def test_a_member_is_not_asked_unless_everyone_must(app: Flask) -> None:
    response = password_step(app.test_client(), MEMBER)
    assert response.status_code == 302 and response.headers["Location"] == "/my-actions"
    everyone = create_app({"TESTING": True, "MFA_REQUIRED": "everyone",
                           "DATABASE_URL": app.config["DATABASE_URL"],
                           "SECRET_KEY": app.config["SECRET_KEY"]})
    client = everyone.test_client()
    assert password_step(client, MEMBER).headers["Location"] == SET_UP
    assert client.get("/my-actions").headers["Location"].startswith("/sign-in")


def test_the_setting_takes_two_values_and_refuses_others_in_one_line() -> None:
    assert load_config("/tmp")["MFA_REQUIRED"] == "admin,board"
    assert load_config("/tmp", {"TRACKER_MFA_REQUIRED": "Everyone"})["MFA_REQUIRED"] == "everyone"
    assert load_config("/tmp", {"TRACKER_MFA_REQUIRED": "board, admin"})["MFA_REQUIRED"] \
        == "admin,board"
    with pytest.raises(ConfigError) as refused:
        load_config("/tmp", {"TRACKER_MFA_REQUIRED": "admins"})
    assert str(refused.value) == ("TRACKER_MFA_REQUIRED='admins' is not known: use admin,board "
                                  "(the default: administrators and board members) or "
                                  "everyone.")


# -- signing in with a code ----------------------------------------------------------------


def test_sign_in_with_a_code_keeps_where_they_were_going(app: Flask) -> None:
    enrol(app, ADMIN)
    client = app.test_client()
    response = password_step(client, ADMIN, "?next=/admin/users")
    assert response.headers["Location"] == CODE_PAGE
    assert open_sessions(app, ADMIN) == 0
    page = client.get(CODE_PAGE)
    assert page.status_code == 200 and "Enter your security code" in text(page)
    done = post_code(client, code_for(app, ADMIN))
    assert done.status_code == 302 and done.headers["Location"] == "/admin/users"
    assert is_signed_in(client) and open_sessions(app, ADMIN) == 1


def test_a_wrong_code_is_refused_counted_and_logged(app: Flask) -> None:
    enrol(app, ADMIN)
    client = app.test_client()
    password_step(client, ADMIN)
    refused = post_code(client, "123456" if code_for(app, ADMIN) != "123456" else "654321")
    assert refused.status_code == 400
    assert "The code is not right" in text(refused)
    assert open_sessions(app, ADMIN) == 0
    assert [e.email for e in events(app, "mfa.failed")] == [ADMIN]
    with Session(get_engine(app)) as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.email == ADMIN, LoginAttempt.is_success.is_(False))) == 1


def test_a_code_works_once(app: Flask) -> None:
    enrol(app, ADMIN)
    client = app.test_client()
    code = code_for(app, ADMIN)
    password_step(client, ADMIN)
    assert post_code(client, code).status_code == 302
    sign_out(client)
    password_step(client, ADMIN)
    again = post_code(client, code)
    assert again.status_code == 400
    assert "That code has been used already" in text(again)
    assert not is_signed_in(client)


def test_a_recovery_code_signs_in_once(app: Flask) -> None:
    codes = recovery_codes(app, ADMIN)
    client = app.test_client()
    password_step(client, ADMIN)
    typed = codes[3].upper().replace("-", " ").replace("0", "O").replace("1", "l")
    done = post_code(client, typed)  # as read and typed: any case, O for 0 and l for 1
    assert done.status_code == 302 and done.headers["Location"] == "/admin"
    assert "You have 9 left" in text(client.get("/admin"))
    assert [e.detail for e in events(app, "mfa.recovery_used")] == ["9 recovery codes left"]
    sign_out(client)
    password_step(client, ADMIN)
    again = post_code(client, codes[3])
    assert again.status_code == 400 and "The code is not right" in text(again)
    assert not is_signed_in(client)
    assert post_code(client, codes[4]).status_code == 302  # another one still works


def test_the_pending_sign_in_expires_after_five_minutes(app: Flask) -> None:
    enrol(app, ADMIN)
    client = app.test_client()
    password_step(client, ADMIN)
    token = page_token(client, CODE_PAGE)
    with client.session_transaction() as state:
        pending = state["two_factor_pending"]
        state["two_factor_pending"] = {**pending, "at": pending["at"] - 301}
    late = client.post(CODE_PAGE, data={"csrf_token": token, "code": code_for(app, ADMIN)})
    assert late.status_code == 302 and late.headers["Location"] == "/sign-in"
    assert "You took longer than 5 minutes" in flashed(client)
    assert not is_signed_in(client) and open_sessions(app, ADMIN) == 0


def test_starting_the_password_step_again_forgets_what_was_pending(app: Flask) -> None:
    enrol(app, ADMIN)
    client = app.test_client()
    password_step(client, ADMIN)
    client.get("/sign-in")
    assert client.get(CODE_PAGE).headers["Location"] == "/sign-in"


def test_wrong_codes_end_the_pending_sign_in_and_count_against_the_throttle(
        app: Flask) -> None:
    enrol(app, ADMIN)
    client = app.test_client()
    password_step(client, ADMIN)
    right = code_for(app, ADMIN)
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(4):
        assert post_code(client, wrong).status_code == 400
    ended = post_code(client, wrong)
    assert ended.status_code == 302 and ended.headers["Location"] == "/sign-in"
    assert "Too many wrong codes" in flashed(client)
    assert len(events(app, "mfa.failed")) == 5
    throttled = password_step(client, ADMIN)  # the right password, from the same place
    assert throttled.status_code == 400
    assert "too many failed attempts to sign in to this account" in text(throttled)


def test_the_code_page_is_throttled_too(app: Flask) -> None:
    enrol(app, ADMIN)
    client = app.test_client()
    password_step(client, ADMIN)
    with Session(get_engine(app)) as s:  # five failures from here meanwhile
        s.add_all(LoginAttempt(email=ADMIN, ip="127.0.0.1", is_success=False)
                  for _ in range(5))
        s.commit()
    refused = post_code(client, code_for(app, ADMIN))
    assert refused.status_code == 400 and "too many failed attempts" in text(refused)
    assert not is_signed_in(client)


def test_the_code_pages_write_nothing_on_a_get(app: Flask) -> None:
    enrol(app, BOARD)
    board, admin = app.test_client(), app.test_client()
    password_step(board, BOARD)
    password_step(admin, ADMIN)
    before = db_fingerprint(app)
    assert board.get(CODE_PAGE).status_code == 200
    assert admin.get(SET_UP).status_code == 200
    assert db_fingerprint(app) == before


# -- who must have it, and when it is checked ---------------------------------------------


def test_a_role_changed_to_admin_ends_the_session_and_set_up_is_then_needed(
        app: Flask) -> None:
    member = signed_in(app, MEMBER)
    admin = signed_in(app, ADMIN)
    member_id = user(app, MEMBER).id
    changed = admin.post(f"/admin/users/{member_id}/role",
                         data={"csrf_token": page_token(admin, f"/admin/users/{member_id}"),
                               "role": "admin"})
    assert changed.status_code == 302
    assert open_sessions(app, MEMBER) == 0
    assert member.get("/my-actions").headers["Location"].startswith("/sign-in")
    assert password_step(member, MEMBER).headers["Location"] == SET_UP
    with Session(get_engine(app)) as s:
        summary = s.scalars(select(AuditEvent.summary).where(
            AuditEvent.action == "account.role_changed")).one()
    assert "two-factor is needed and not set up: 1 session ended" in summary


def test_the_command_line_role_change_ends_the_sessions_too(app: Flask) -> None:
    member = signed_in(app, MEMBER)
    result = app.test_cli_runner().invoke(args=["users", "set-role", MEMBER, "board"])
    assert result.exit_code == 0, result.output
    assert not is_signed_in(member)


def test_a_session_that_must_have_two_factor_and_has_none_is_ended_at_its_next_request(
        app: Flask) -> None:
    member = signed_in(app, MEMBER)
    with Session(get_engine(app)) as s:  # made a board member behind the session's back
        s.execute(update(User).where(User.email == MEMBER).values(role="board"))
        s.commit()
    response = member.get("/board")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert "needs two-factor authentication" in flashed(member)
    with Session(get_engine(app)) as s:
        assert s.scalars(select(UserSession.ended_reason).join(User)
                         .where(User.email == MEMBER)).one() == "two-factor required"


def test_a_single_sign_on_session_is_exempt(app: Flask) -> None:
    admin = signed_in(app, ADMIN)
    with Session(get_engine(app)) as s:  # no second factor here any more ...
        s.execute(update(User).where(User.email == ADMIN).values(totp_secret=None))
        s.commit()
    with admin.session_transaction() as state:  # ... but signed in through the council's
        state["signed_in_with"] = "sso"
    assert admin.get("/admin").status_code == 200
    assert "single sign-on" in text(admin.get("/account"))
    with admin.session_transaction() as state:
        state["signed_in_with"] = "password"
    assert admin.get("/admin").headers["Location"].startswith("/sign-in")


def test_a_new_password_from_a_link_still_needs_the_second_factor(app: Flask) -> None:
    with app.app_context(), transaction() as db:
        found = db.scalars(select(User).where(User.email == BOARD)).one()
        from tracker import auth

        url = auth.issue_link(db, found, "reset", "http://localhost")
    path = url.removeprefix("http://localhost")
    client = app.test_client()
    new = "a-fresh-harbour-kettle-pine"
    response = client.post(path, data={"csrf_token": page_token(client, path),
                                       "password": new, "confirm": new})
    assert response.status_code == 302 and response.headers["Location"] == SET_UP
    assert not is_signed_in(client) and open_sessions(app, BOARD) == 0


# -- the account page ----------------------------------------------------------------------


def test_the_account_page_shows_two_factor_and_makes_new_recovery_codes(app: Flask) -> None:
    old = recovery_codes(app, ADMIN)
    client = signed_in(app, ADMIN)
    page = text(client.get("/account"))
    assert "Status On (your role needs it)" in page
    assert "Recovery codes left 10 of 10" in page
    assert "Turn off two-factor authentication" not in page  # required for admins
    assert client.get("/account/two-factor/turn-off").status_code == 403
    path = "/account/two-factor/recovery-codes"
    assert client.get(path).status_code == 200
    assert post_code(client, "999999" if code_for(app, ADMIN) != "999999" else "888888",
                     path).status_code == 400
    made = post_code(client, code_for(app, ADMIN), path)
    assert made.status_code == 200
    new = shown_codes(made.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "your earlier recovery codes no longer work" in text(made)
    sign_out(client)
    password_step(client, ADMIN)
    assert post_code(client, old[0]).status_code == 400
    assert post_code(client, new[0]).status_code == 302


def test_setting_up_again_on_a_new_phone_needs_a_current_code(app: Flask) -> None:
    client = signed_in(app, ADMIN)
    path = "/account/two-factor/set-up"
    key = typed_key(client.get(path).get_data(as_text=True)).replace(" ", "")
    new_code = pyotp.TOTP(key).now()
    refused = client.post(path, data={"csrf_token": page_token(client, path),
                                      "current": "000000", "code": new_code})
    assert refused.status_code == 400 and "The code is not right" in text(refused)
    moved = client.post(path, data={"csrf_token": page_token(client, path),
                                    "current": code_for(app, ADMIN), "code": new_code})
    assert moved.status_code == 302
    assert "now uses your new app" in text(client.get("/account"))
    sign_out(client)
    password_step(client, ADMIN)
    assert post_code(client, code_for(app, ADMIN, TOTP_SECRET)).status_code == 400  # old app
    assert post_code(client, pyotp.TOTP(key).at(
        (two_factor.current_step() + 1) * 30)).status_code == 302


def test_a_member_may_choose_two_factor_and_turn_it_off(app: Flask) -> None:
    client = signed_in(app, MEMBER)
    assert "Set up two-factor authentication" in text(client.get("/account"))
    path = "/account/two-factor/set-up"
    key = typed_key(client.get(path).get_data(as_text=True)).replace(" ", "")
    shown = client.post(path, data={"csrf_token": page_token(client, path),
                                    "code": pyotp.TOTP(key).now()})
    assert len(shown_codes(shown.get_data(as_text=True))) == 10
    sign_out(client)
    assert password_step(client, MEMBER).headers["Location"] == CODE_PAGE  # asked from now on
    assert post_code(client, pyotp.TOTP(key).at(
        (two_factor.current_step() + 1) * 30)).status_code == 302
    off = "/account/two-factor/turn-off"
    assert "Turn off two-factor authentication" in text(client.get(off))
    assert post_code(client, shown_codes(shown.get_data(as_text=True))[0], off).status_code \
        == 302
    assert "Two-factor authentication Status Off" in text(client.get("/account"))
    assert [e.email for e in events(app, "mfa.turned_off")] == [MEMBER]
    sign_out(client)
    assert password_step(client, MEMBER).headers["Location"] == "/my-actions"


# -- resetting -----------------------------------------------------------------------------


def test_an_admin_resets_a_persons_two_factor(app: Flask) -> None:
    recovery_codes(app, OTHER_ADMIN)
    other = signed_in(app, OTHER_ADMIN)
    admin = signed_in(app, ADMIN)
    other_id, admin_id = user(app, OTHER_ADMIN).id, user(app, ADMIN).id
    path = f"/admin/users/{other_id}/reset-two-factor"
    assert "Reset two-factor authentication" in text(admin.get(f"/admin/users/{other_id}"))
    confirm = admin.get(path)
    assert confirm.status_code == 200
    assert "They are signed out everywhere now" in text(confirm)
    assert admin.post(path).status_code == 400  # no CSRF token: nothing happens
    assert is_signed_in(other)
    done = admin.post(path, data={"csrf_token": csrf(confirm.get_data(as_text=True))})
    assert done.status_code == 302 and done.headers["Location"] == f"/admin/users/{other_id}"
    assert "two-factor authentication is reset" in text(admin.get(f"/admin/users/{other_id}"))
    assert not is_signed_in(other)
    with Session(get_engine(app)) as s:
        found = s.get(User, other_id)
        assert found is not None and found.totp_secret is None
        assert s.scalar(select(func.count()).select_from(RecoveryCode)) == 0
        audited = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "account.two_factor_reset")).one()
        assert audited.object_ref == OTHER_ADMIN and "1 session ended" in audited.summary
    assert [(e.email, e.detail) for e in events(app, "mfa.reset")] == [
        (OTHER_ADMIN, f"by {ADMIN}; 1 session ended")]
    assert password_step(other, OTHER_ADMIN).headers["Location"] == SET_UP
    mine = admin.get(f"/admin/users/{admin_id}/reset-two-factor")  # never their own
    assert mine.status_code == 400 and "cannot reset your own" in text(mine)


@pytest.mark.parametrize("email", [BOARD, MEMBER])
def test_only_an_admin_may_reset_two_factor(app: Flask, email: str) -> None:
    enrol(app, OTHER_ADMIN)
    client = signed_in(app, email)
    path = f"/admin/users/{user(app, OTHER_ADMIN).id}/reset-two-factor"
    assert client.get(path).status_code == 403
    token = page_token(client, "/account")
    assert client.post(path, data={"csrf_token": token}).status_code == 403
    assert user(app, OTHER_ADMIN).totp_secret is not None


def test_the_command_line_resets_two_factor(app: Flask) -> None:
    enrol(app, ADMIN)
    client = signed_in(app, ADMIN)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-two-factor", ADMIN.upper()])
    assert result.exit_code == 0, result.output
    assert result.output == (f"Two-factor authentication reset for {ADMIN}; 1 session ended; "
                             "they set it up again when they next sign in.\n")
    assert not is_signed_in(client) and user(app, ADMIN).totp_secret is None
    assert [(e.email, e.source) for e in events(app, "mfa.reset")] == [(ADMIN, "command line")]
    again = runner.invoke(args=["users", "reset-two-factor", ADMIN])
    assert again.exit_code == 1 and "Nothing was changed" in again.output
    unknown = runner.invoke(args=["users", "reset-two-factor", "nobody@example.org"])
    assert unknown.exit_code == 1 and "There is no account" in unknown.output


# -- forms and the log ---------------------------------------------------------------------


def test_every_two_factor_form_needs_its_csrf_token(app: Flask) -> None:
    enrol(app, BOARD)
    pending = app.test_client()
    password_step(pending, BOARD)
    setting_up = app.test_client()
    password_step(setting_up, ADMIN)
    member = signed_in(app, MEMBER)
    board = signed_in(app, BOARD)
    admin = signed_in(app, OTHER_ADMIN)
    before = db_fingerprint(app)
    posts = [(pending, CODE_PAGE, {"code": code_for(app, BOARD)}),
             (setting_up, SET_UP, {"code": "123456"}),
             (member, "/account/two-factor/set-up", {"code": "123456"}),
             (board, "/account/two-factor/recovery-codes", {"code": code_for(app, BOARD)}),
             (board, "/account/two-factor/turn-off", {"code": code_for(app, BOARD)}),
             (admin, f"/admin/users/{user(app, BOARD).id}/reset-two-factor", {})]
    for client, path, data in posts:
        response = client.post(path, data=data)
        assert response.status_code == 400, path
    assert db_fingerprint(app) == before


def test_the_security_log_shows_and_filters_two_factor_events(app: Flask) -> None:
    enrol(app, BOARD)
    client = app.test_client()
    password_step(client, BOARD)
    post_code(client, "000000" if code_for(app, BOARD) != "000000" else "111111")
    admin = signed_in(app, ADMIN)
    page = text(admin.get("/admin/security?kind=mfa.failed"))
    assert "Two-factor code refused" in page and BOARD in page
    html = admin.get("/admin/security").get_data(as_text=True)
    for label in ("Two-factor set up", "Recovery code used", "Two-factor reset"):
        assert label in html


# -- a new secret key ----------------------------------------------------------------------


def test_a_secret_set_up_under_another_secret_key_is_refused_and_says_why(app: Flask) -> None:
    enrol_in(get_engine(app), "an-earlier-secret-key-" + "z" * 32, ADMIN)
    client = app.test_client()
    password_step(client, ADMIN)
    refused = post_code(client, pyotp.TOTP(TOTP_SECRET).now())
    assert refused.status_code == 400
    assert "can no longer be read" in text(refused)
    assert "Ask an administrator to reset your two-factor authentication" in text(refused)
    assert not is_signed_in(client)


def test_the_demo_sets_up_again_a_demo_second_factor_it_cannot_read(app: Flask) -> None:
    enrol_in(get_engine(app), "an-earlier-secret-key-" + "z" * 32, ADMIN)
    enrol(app, BOARD)  # readable with this key: kept
    result = app.test_cli_runner().invoke(args=["demo", "--today", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert user(app, ADMIN).totp_secret is None
    assert user(app, BOARD).totp_secret is not None
