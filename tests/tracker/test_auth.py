"""Signing in and out, sessions, throttling, account links, the password policy, and the
protections every page has (security headers, CSRF, safe redirects, error pages)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import itsdangerous
import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.conftest import count
from tests.tracker.signing import (
    ADMIN,
    BOARD,
    LEAD,
    MEMBER,
    PASSWORD,
    cookie,
    csrf,
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
from tracker.auth import token_hash
from tracker.config import ConfigError, load_config
from tracker.db import get_engine
from tracker.models import AccountToken, AuditEvent, LoginAttempt, User, UserSession, utcnow
from tracker.passwords import hash_password, problem_with, verify_password

WRONG = "Enter a correct email address and password"
TIMED_OUT = "You were signed out because you had not used the tracker for a while."
LINK_GONE = "This link has expired or has already been used"


def waited(page: str, words: str) -> int:
    """The seconds a throttled page asks for, in ``words`` (``{}`` the number): a second may
    pass on a busy machine between the failures written and the page drawn."""
    found = re.search(re.escape(words).replace(r"\{\}", r"(\d+)"), page)
    assert found, f"{words!r} not in {page!r}"
    return int(found.group(1))


def run(app: Flask, statement: Any) -> None:
    with Session(get_engine(app)) as s:
        s.execute(statement)
        s.commit()


def sessions_of(app: Flask, email: str) -> list[UserSession]:
    with Session(get_engine(app)) as s:
        return list(s.scalars(select(UserSession).join(User)
                              .where(User.email == email).order_by(UserSession.id)))


def session_token_in(app: Flask, cookie_value: str) -> str:
    """The sign-in token inside the (signed) session cookie."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    token: str = serializer.loads(cookie_value)["_user_id"]
    return token


# -- signing in and out ---------------------------------------------------------------------


def test_sign_in_and_out_with_a_real_password(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    assert not is_signed_in(client)

    response = sign_in(client, MEMBER)
    assert response.status_code == 302 and response.headers["Location"] == "/my-actions"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Ben Carter" in text(page) and MEMBER in text(page) and "Sign out" in text(page)

    response = sign_out(client)
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "You have signed out." in text(client.get("/sign-in"))
    assert not is_signed_in(client)
    assert [s.ended_reason for s in sessions_of(kingston_app, MEMBER)] == ["signed out"]
    assert count(kingston_app, AuditEvent, AuditEvent.action == "account.signed_in") == 1
    assert count(kingston_app, AuditEvent, AuditEvent.action == "account.signed_out") == 1


def test_email_address_is_not_case_sensitive(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    assert sign_in(client, "Ben.Carter@Example.ORG").status_code == 302
    assert is_signed_in(client)


def _without_token(html: str) -> str:
    """The page without what changes on every request: the CSRF token and the CSP nonce."""
    return re.sub(r'(value|nonce)="[^"]*"', r'\1=""', html)


def test_wrong_password_gives_no_hint_whether_the_account_exists(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    pages = []
    for email in (MEMBER, "nobody.here@example.org"):
        client = kingston_app.test_client()
        response = sign_in(client, email, "not-the-password-at-all")
        assert response.status_code == 400
        page = text(response)
        assert page.startswith("Error: Sign in")
        assert "There is a problem" in page and WRONG in page
        assert "not-the-password-at-all" not in response.get_data(as_text=True)
        assert not is_signed_in(client)
        pages.append(_without_token(response.get_data(as_text=True)).replace(email, "EMAIL"))
    assert pages[0] == pages[1]


def test_an_unknown_email_costs_as_much_as_a_wrong_password(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Timing must not tell whether an account exists: every attempt checks a hash."""
    import tracker.passwords

    set_password(kingston_app, MEMBER)
    run(kingston_app, update(User).where(User.email == LEAD).values(is_active=False))
    set_password(kingston_app, LEAD)
    checks: list[str] = []
    real = tracker.passwords.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checks.append(password)
        return real(stored, password)

    monkeypatch.setattr(tracker.passwords, "check_password_hash", counting)
    # a wrong password, no such account, an account without a password, a disabled account
    for email in (MEMBER, "nobody.here@example.org", "aisha.khan@example.org", LEAD):
        checks.clear()
        response = sign_in(kingston_app.test_client(), email, "wrong-password-here")
        assert response.status_code == 400 and WRONG in text(response)
        assert checks == ["wrong-password-here"], email


def test_a_disabled_account_cannot_sign_in_even_with_its_password(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    run(kingston_app, update(User).where(User.email == MEMBER).values(is_active=False))
    client = kingston_app.test_client()
    response = sign_in(client, MEMBER)
    assert response.status_code == 400 and WRONG in text(response)
    assert not is_signed_in(client)


def test_empty_fields_are_errors_beside_each_field(kingston_app: Flask) -> None:
    client = kingston_app.test_client()
    response = client.post("/sign-in", data={"csrf_token": page_token(client), "email": "",
                                             "password": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'href="#email">Enter your email address' in html
    assert 'href="#password">Enter your password' in html
    assert 'id="email-error"' in html and 'id="password-error"' in html


def test_the_old_session_cookie_no_longer_works_after_sign_out(kingston_app: Flask) -> None:
    client = signed_in(kingston_app, MEMBER)
    stolen = cookie(client)
    assert stolen
    assert sign_out(client).status_code == 302

    thief = kingston_app.test_client()
    thief.set_cookie("tracker_session", stolen)
    assert not is_signed_in(thief)
    assert "Ben Carter" not in text(thief.get("/"))


def test_disabling_an_account_on_the_command_line_ends_its_sessions_at_once(
        kingston_app: Flask) -> None:
    first = signed_in(kingston_app, MEMBER)
    second = signed_in(kingston_app, MEMBER)
    assert is_signed_in(first) and is_signed_in(second)

    result = kingston_app.test_cli_runner().invoke(args=["users", "disable", MEMBER])
    assert result.exit_code == 0, result.output
    assert "2 sessions ended" in result.output
    assert not is_signed_in(first)
    assert not is_signed_in(second)
    assert {s.ended_reason for s in sessions_of(kingston_app, MEMBER)} == {"account disabled"}


def test_signing_in_starts_a_new_session(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    client.get("/sign-in")
    before = cookie(client)
    assert before is not None  # the anonymous session holds the form's CSRF token

    assert sign_in(client, MEMBER).status_code == 302
    after = cookie(client)
    assert after is not None and after != before
    rows = sessions_of(kingston_app, MEMBER)
    assert len(rows) == 1 and rows[0].ended_at is None
    token = session_token_in(kingston_app, after)
    assert rows[0].token_hash == token_hash(token)
    assert token not in (r.token_hash for r in rows)  # only its hash is stored

    # signing in again (another browser) makes another session with another token
    other = kingston_app.test_client()
    assert sign_in(other, MEMBER).status_code == 302
    assert session_token_in(kingston_app, cookie(other) or "") != token
    assert len(sessions_of(kingston_app, MEMBER)) == 2


def test_an_idle_session_ends_with_a_message(kingston_app: Flask) -> None:
    client = signed_in(kingston_app, MEMBER)
    run(kingston_app, update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=61)))
    response = client.get("/account")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert TIMED_OUT in text(client.get(response.headers["Location"]))
    assert [s.ended_reason for s in sessions_of(kingston_app, MEMBER)] == ["idle timeout"]
    # the session stays ended, whatever comes back in the cookie
    run(kingston_app, update(UserSession).values(last_seen_at=utcnow()))
    assert not is_signed_in(client)


def test_the_idle_timeout_comes_from_the_configuration(kingston_app: Flask) -> None:
    kingston_app.config["SESSION_IDLE_MINUTES"] = 5
    client = signed_in(kingston_app, MEMBER)
    run(kingston_app, update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=4)))
    assert is_signed_in(client)
    run(kingston_app, update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
    assert not is_signed_in(client)


def test_a_session_ends_after_the_absolute_limit_even_when_in_use(kingston_app: Flask) -> None:
    client = signed_in(kingston_app, MEMBER)
    run(kingston_app, update(UserSession).values(created_at=utcnow() - timedelta(hours=13)))
    response = client.get("/account")
    assert response.status_code == 302
    assert TIMED_OUT in text(client.get(response.headers["Location"]))
    assert [s.ended_reason for s in sessions_of(kingston_app, MEMBER)] == ["session too old"]


# -- throttling -------------------------------------------------------------------------------


def test_five_failures_make_that_address_wait_but_never_lock_the_owner_out(
        kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    attacker = kingston_app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(5):
        response = sign_in(attacker, MEMBER, "a-wrong-guess-here")
        assert response.status_code == 400 and WRONG in text(response)
    assert count(kingston_app, LoginAttempt, LoginAttempt.email == MEMBER,
                 LoginAttempt.is_success.is_(False)) == 5

    # from the guessing address, even the right password waits now
    response = sign_in(attacker, MEMBER)
    assert response.status_code == 400
    page = text(response)
    assert "too many failed attempts to sign in to this account from here" in page
    assert waited(page, "Wait {} seconds and try again") in {29, 30}
    assert WRONG not in page and not is_signed_in(attacker)
    # the owner, at their own desk, signs in as ever: guessing locks nobody out
    owner = kingston_app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(owner, MEMBER).status_code == 302

    # the count lives in the database: another web worker on the same database sees it
    worker = create_app({"TESTING": True, "SECRET_KEY": "another-worker-" + "y" * 32,
                         "DATABASE_URL": kingston_app.config["DATABASE_URL"]})
    try:
        elsewhere = worker.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        response = sign_in(elsewhere, MEMBER)
        assert response.status_code == 400 and "too many failed attempts" in text(response)
    finally:
        get_engine(worker).dispose()

    # after 30 seconds the address may try again; each further failure doubles its wait
    run(kingston_app, update(LoginAttempt).values(attempted_at=utcnow() - timedelta(seconds=31)))
    assert sign_in(attacker, MEMBER, "a-wrong-guess-here").status_code == 400
    assert waited(text(sign_in(attacker, MEMBER)), "Wait {} seconds and try again") in {59, 60}
    run(kingston_app, update(LoginAttempt).values(attempted_at=utcnow() - timedelta(seconds=61)))
    assert sign_in(attacker, MEMBER).status_code == 302


def test_failures_from_many_addresses_slow_an_account_a_little(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    with Session(get_engine(kingston_app)) as s:  # a guess spread over twenty addresses
        s.add_all(LoginAttempt(email=MEMBER, ip=f"203.0.113.{n}", is_success=False)
                  for n in range(20))
        s.commit()
    owner = kingston_app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    response = sign_in(owner, MEMBER)
    assert response.status_code == 400
    assert waited(text(response),
                  "each attempt waits a little. Wait {} seconds and try again") in {9, 10}
    run(kingston_app, update(LoginAttempt).values(attempted_at=utcnow() - timedelta(seconds=11)))
    assert sign_in(owner, MEMBER).status_code == 302


def test_failures_for_one_account_are_counted_whatever_the_case_of_the_email(
        kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    for variant in ("Ben.Carter@example.org", "BEN.CARTER@EXAMPLE.ORG", MEMBER, MEMBER,
                    "ben.CARTER@example.org"):
        sign_in(kingston_app.test_client(), variant, "a-wrong-guess-here")
    assert "too many failed attempts" in text(sign_in(kingston_app.test_client(), MEMBER))


def test_many_failures_from_one_address_lock_sign_in_from_it(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    address = "203.0.113.9"
    # 29 failures (each against a different account) already counted from this address ...
    with Session(get_engine(kingston_app)) as s:
        s.add_all(LoginAttempt(email=f"guess{n}@example.org", ip=address, is_success=False)
                  for n in range(29))
        s.commit()
    attacker = kingston_app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = address
    assert sign_in(attacker, "guess29@example.org", "a-wrong-guess-here").status_code == 400
    assert count(kingston_app, LoginAttempt, LoginAttempt.ip == address) == 30
    # ... now even the right password for an untouched account is refused from there
    response = sign_in(attacker, MEMBER)
    assert response.status_code == 400
    assert "too many failed attempts to sign in from this network" in text(response)
    # from another address it works
    elsewhere = kingston_app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(elsewhere, MEMBER).status_code == 302


# -- invitation and reset links ------------------------------------------------------------


def _link(output: str) -> str:
    found = re.search(r"http://127\.0\.0\.1:5000(/account/set-password/[\w-]+)", output)
    assert found, output
    return found.group(1)


def _set(client: Any, path: str, password: str, confirm: str | None = None) -> Any:
    token = csrf(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "password": password,
                                   "confirm": password if confirm is None else confirm})


def test_an_invitation_link_works_once(kingston_app: Flask) -> None:
    result = kingston_app.test_cli_runner().invoke(
        args=["users", "add", "new.person@example.org", "--name", "New Person"])
    assert result.exit_code == 0, result.output
    path = _link(result.output)

    client = kingston_app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "Welcome, New Person" in text(page)
    response = _set(client, path, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/my-actions"
    assert "Your password is set and you are signed in." in text(client.get("/my-actions"))
    assert is_signed_in(client)
    assert verify_password(user(kingston_app, "new.person@example.org").password_hash, PASSWORD)

    again = kingston_app.test_client().get(path)
    assert again.status_code == 404 and LINK_GONE in text(again)
    # and posting to it changes nothing
    stranger = kingston_app.test_client()
    token = page_token(stranger)
    refused = stranger.post(path, data={"csrf_token": token, "password": "another-pass-phrase",
                                        "confirm": "another-pass-phrase"})
    assert refused.status_code == 404
    assert verify_password(user(kingston_app, "new.person@example.org").password_hash, PASSWORD)


def test_an_expired_link_is_refused(kingston_app: Flask) -> None:
    result = kingston_app.test_cli_runner().invoke(args=["users", "reset", MEMBER])
    assert result.exit_code == 0, result.output
    path = _link(result.output)
    assert kingston_app.test_client().get(path).status_code == 200
    run(kingston_app, update(AccountToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    response = kingston_app.test_client().get(path)
    assert response.status_code == 404 and LINK_GONE in text(response)


def test_a_new_link_makes_the_older_one_stop_working(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    first = _link(runner.invoke(args=["users", "invite", MEMBER]).output)
    second = _link(runner.invoke(args=["users", "invite", MEMBER]).output)
    assert first != second
    assert LINK_GONE in text(kingston_app.test_client().get(first))
    assert "Welcome, Ben Carter" in text(kingston_app.test_client().get(second))


def test_a_link_for_a_disabled_account_does_not_work(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    path = _link(runner.invoke(args=["users", "invite", MEMBER]).output)
    assert runner.invoke(args=["users", "disable", MEMBER]).exit_code == 0
    assert kingston_app.test_client().get(path).status_code == 404


@pytest.mark.parametrize(("password", "message"), [
    ("short-pass", "Password must be 12 characters or more"),
    ("Password1234", "Password is too common and easy to guess"),
    ("ben.carter-rules-ok", "Password must not contain your email address"),
    ("Carter-family-home", "Password must not contain your name"),
])
def test_setting_a_password_applies_the_policy(kingston_app: Flask, password: str,
                                               message: str) -> None:
    path = _link(kingston_app.test_cli_runner().invoke(args=["users", "invite", MEMBER]).output)
    client = kingston_app.test_client()
    response = _set(client, path, password)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    assert 'href="#password"' in summary and message in summary
    beside = html.split('id="password-error"')[1].split("</p>")[0]
    assert message in beside
    assert text(response).startswith("Error: ")
    assert password not in html  # never echoed back
    assert user(kingston_app, MEMBER).password_hash is None
    assert not is_signed_in(client)
    # the link still works: a refused password does not use it up
    assert _set(client, path, PASSWORD).status_code == 302


def test_the_two_passwords_must_match(kingston_app: Flask) -> None:
    path = _link(kingston_app.test_cli_runner().invoke(args=["users", "invite", MEMBER]).output)
    response = _set(kingston_app.test_client(), path, PASSWORD, PASSWORD + "x")
    assert response.status_code == 400
    assert "The passwords do not match" in text(response)


def test_a_reset_signs_in_and_ends_every_other_session(kingston_app: Flask) -> None:
    laptop = signed_in(kingston_app, MEMBER)
    phone = signed_in(kingston_app, MEMBER)
    path = _link(kingston_app.test_cli_runner().invoke(args=["users", "reset", MEMBER]).output)

    browser = kingston_app.test_client()
    assert "Reset your password" in text(browser.get(path))
    assert _set(browser, path, "a-brand-new-pass-phrase").status_code == 302
    assert is_signed_in(browser)
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    # the old password no longer works, the new one does
    assert sign_in(kingston_app.test_client(), MEMBER, PASSWORD).status_code == 400
    assert sign_in(kingston_app.test_client(), MEMBER, "a-brand-new-pass-phrase"
                   ).status_code == 302


# -- the password policy ------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "refused"), [
    ("elevenchars", True),            # 11 characters
    ("twelve-chars", False),          # 12
    ("x" * 200, True),                # one character repeated
    ("abababababababab", True),       # two characters repeated
    ("Summer2024!!!!", True),         # a common word with digits and symbols around it
    ("!!Password123456", True),
    ("qwerty123456789", True),
    ("correct horse battery staple", False),
    ("kettle-orbit-marigold", False),
    ("y" * 201, True),                # too long
])
def test_password_policy(password: str, refused: bool) -> None:
    assert (problem_with(password) is not None) is refused, problem_with(password)


def test_password_length_messages() -> None:
    assert problem_with("a" * 11 + "b") is not None  # long enough, but two characters
    assert problem_with("kettle-orbi") == "Password must be 12 characters or more"
    assert problem_with("kettle-orbit") is None
    assert problem_with("kettle orbit " * 16) == "Password must be 200 characters or fewer"


def test_password_must_not_contain_the_email_or_name() -> None:
    email, name = "ben.carter@example.org", "Ben Carter"
    assert problem_with("my-ben.carter-pass", email, name) == \
        "Password must not contain your email address"
    assert problem_with("carter-kettle-orbit", email, name) == \
        "Password must not contain your name"
    assert problem_with("kettle-orbit-marigold", email, name) is None


def test_hashes_are_not_the_password_and_verify() -> None:
    hashed = hash_password(PASSWORD)
    assert PASSWORD not in hashed and hashed.startswith("scrypt:")
    assert hash_password(PASSWORD) != hashed  # salted
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)


# -- next= ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "https://evil.example.org", "//evil.example.org", "/\\evil.example.org",
    "javascript:alert(1)", "http:evil.example.org", "\t//evil.example.org",
    "/\t/evil.example.org", "evil.example.org",
])
def test_next_only_leads_to_local_paths(kingston_app: Flask, target: str) -> None:
    from urllib.parse import quote

    set_password(kingston_app, MEMBER)
    response = sign_in(kingston_app.test_client(), MEMBER, query="?next=" + quote(target))
    assert response.status_code == 302
    assert response.headers["Location"] == "/my-actions"  # their own home, never elsewhere


def test_next_leads_to_a_local_page(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    response = sign_in(kingston_app.test_client(), MEMBER, query="?next=/who")
    assert response.status_code == 302 and response.headers["Location"] == "/who"


def test_a_page_that_needs_signing_in_comes_back_after_it(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    response = client.get("/account")
    assert response.status_code == 302
    assert "Sign in to see this page." in text(client.get(response.headers["Location"]))
    query = response.headers["Location"].split("/sign-in", 1)[1]
    assert sign_in(client, MEMBER, query=query).headers["Location"] == "/account"


# -- headers, cookies, configuration -----------------------------------------------------------


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


def _assert_security_headers(response: Any) -> None:
    csp = _directives(response.headers["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_every_response_has_the_security_headers(kingston_app: Flask) -> None:
    anonymous = kingston_app.test_client()
    for response in (anonymous.get("/"), anonymous.get("/sign-in"), anonymous.get("/nope"),
                     anonymous.get("/account"), anonymous.get("/static/icons/favicon.svg"),
                     anonymous.post("/sign-out"), anonymous.get("/account/set-password/x")):
        _assert_security_headers(response)
        assert "Strict-Transport-Security" not in response.headers  # not over plain HTTP
        response.close()
    member = signed_in(kingston_app, MEMBER)
    for url in ("/", "/account", "/actions/SKP-001", "/admin/users"):
        response = member.get(url)
        _assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", url


def test_sign_in_pages_are_not_cached(kingston_app: Flask) -> None:
    client = kingston_app.test_client()
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_http_only_and_same_site(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    response = sign_in(client, MEMBER)
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("tracker_session="))
    attributes = [a.strip().lower() for a in header.split(";")[1:]]
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert "secure" not in attributes  # plain HTTP in development
    assert not header.lower().startswith("tracker_session=;")


def test_over_https_the_cookie_is_secure_and_hsts_is_sent(kingston_app: Flask) -> None:
    secure = create_app({"TESTING": True, "SECRET_KEY": "https-secret-" + "z" * 32,
                         "DATABASE_URL": kingston_app.config["DATABASE_URL"],
                         "HTTPS": True, "SESSION_COOKIE_SECURE": True,
                         "SESSION_COOKIE_NAME": "__Host-tracker_session"})
    try:
        set_password(secure, MEMBER)
        client = secure.test_client()
        https = "https://localhost"
        form = client.get("/sign-in", base_url=https)
        assert form.headers["Strict-Transport-Security"].startswith("max-age=")
        data = {"csrf_token": csrf(form.get_data(as_text=True)), "email": MEMBER,
                "password": PASSWORD}
        # over HTTPS, Flask-WTF also wants the form to come from this site
        refused = client.post("/sign-in", base_url=https, data=data,
                              headers={"Referer": "https://evil.example.org/"})
        assert refused.status_code == 400 and count(secure, UserSession) == 0
        response = client.post("/sign-in", base_url=https, data=data,
                               headers={"Referer": f"{https}/sign-in"})
        assert response.status_code == 302
        header = next(h for h in response.headers.getlist("Set-Cookie")
                      if h.startswith("__Host-tracker_session="))
        attributes = [a.strip().lower() for a in header.split(";")[1:]]
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(attributes)
        assert not any(a.startswith("domain=") for a in attributes)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert client.get("/account", base_url=https).status_code == 200
    finally:
        get_engine(secure).dispose()


# a key as secrets.token_hex(32) makes one
KEY = "3f9c2a7be1d04586a9c3e5f7b2d1a0c8e6f4b3a29d8c7e1f5a4b6c2d9e0f1a3b"


def test_tracker_https_turns_on_secure_cookies(tmp_path: Any) -> None:
    assert load_config(str(tmp_path), {"TRACKER_HTTPS": "1"})["SESSION_COOKIE_SECURE"] is True
    assert load_config(str(tmp_path), {})["SESSION_COOKIE_SECURE"] is False
    production = load_config(str(tmp_path), {"TRACKER_ENV": "production",
                                             "TRACKER_SECRET_KEY": KEY})
    assert production["SESSION_COOKIE_SECURE"] is True and production["HTTPS"] is True
    assert production["PUBLIC_READ"] is False and production["DEBUG"] is False


@pytest.mark.parametrize("environ", [
    {"TRACKER_ENV": "production"},
    {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": "too-short"},
    {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": KEY, "TRACKER_DEBUG": "1"},
    {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": KEY, "TRACKER_DEBUG": "true"},
])
def test_production_refuses_to_start_unsafely(tmp_path: Any, environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_config(str(tmp_path), environ)


# -- CSRF --------------------------------------------------------------------------------------


def test_sign_in_without_a_token_is_refused_and_keeps_the_email(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    response = client.post("/sign-in", data={"email": MEMBER, "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form had expired" in text(response)
    assert f'value="{MEMBER}"' in response.get_data(as_text=True)
    assert PASSWORD not in response.get_data(as_text=True)
    assert not is_signed_in(client)
    assert count(kingston_app, UserSession) == 0


def test_an_expired_sign_in_form_keeps_the_email_and_says_so(
        kingston_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    nine_hours_ago = int(time.time()) - 9 * 3600
    with monkeypatch.context() as m:  # the form was opened nine hours ago
        m.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                  lambda self: nine_hours_ago)
        token = page_token(client)
    response = client.post("/sign-in", data={"csrf_token": token, "email": MEMBER,
                                             "password": PASSWORD})
    assert response.status_code == 400
    page = text(response)
    assert "Your form had expired, so nothing was saved yet." in page
    assert f'value="{MEMBER}"' in response.get_data(as_text=True)
    assert not is_signed_in(client)
    # the page has a fresh token: sending it again works
    retry = client.post("/sign-in", data={"csrf_token": csrf(response.get_data(as_text=True)),
                                          "email": MEMBER, "password": PASSWORD})
    assert retry.status_code == 302


def test_a_tampered_token_is_refused(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    client = kingston_app.test_client()
    token = page_token(client)
    response = client.post("/sign-in", data={"csrf_token": token[:-2] + "xx", "email": MEMBER,
                                             "password": PASSWORD})
    assert response.status_code == 400 and not is_signed_in(client)


def test_sign_out_without_a_token_is_refused(kingston_app: Flask) -> None:
    client = signed_in(kingston_app, MEMBER)
    response = client.post("/sign-out")
    assert response.status_code == 400
    assert "Sorry, there is a problem with your request" in text(response)
    assert is_signed_in(client)


def test_a_token_from_another_browser_is_refused(kingston_app: Flask) -> None:
    victim = signed_in(kingston_app, MEMBER)
    attacker = kingston_app.test_client()
    response = victim.post("/sign-out", data={"csrf_token": page_token(attacker)})
    assert response.status_code == 400 and is_signed_in(victim)


# -- error pages --------------------------------------------------------------------------------


def test_a_server_error_shows_no_traceback(kingston_app: Flask) -> None:
    from tracker import access

    app = create_app({"TESTING": False, "PROPAGATE_EXCEPTIONS": False, "DEBUG": False,
                      "SECRET_KEY": "errors-" + "e" * 32,
                      "DATABASE_URL": kingston_app.config["DATABASE_URL"]})

    @access.public
    def explode() -> str:
        raise RuntimeError("secret detail: password=hunter2 at /srv/tracker/app.py")

    app.add_url_rule("/explode", "explode", explode)
    try:
        response = app.test_client().get("/explode")
        assert response.status_code == 500
        html = response.get_data(as_text=True)
        assert "Sorry, there is a problem with the service" in html
        for leak in ("Traceback", "RuntimeError", "secret detail", "hunter2", "app.py"):
            assert leak not in html
        _assert_security_headers(response)
    finally:
        get_engine(app).dispose()


@pytest.mark.parametrize(("url", "status", "heading"), [
    ("/no-such-page", 404, "Page not found"),
    ("/sign-out", 405, "Sorry, you cannot do that on this page"),
])
def test_error_pages_are_plain(kingston_app: Flask, url: str, status: int, heading: str) -> None:
    response = kingston_app.test_client().get(url)
    assert response.status_code == status
    assert heading in text(response) and "Traceback" not in text(response)


# -- who can see what ----------------------------------------------------------------------------


@pytest.mark.parametrize("email", [BOARD, LEAD, MEMBER])
def test_only_admins_reach_admin_pages(kingston_app: Flask, email: str) -> None:
    client = signed_in(kingston_app, email)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "You do not have permission to see this page" in text(response)


def test_an_admin_reaches_admin_pages(kingston_app: Flask) -> None:
    assert signed_in(kingston_app, ADMIN).get("/admin/users").status_code == 200


def test_sign_ins_are_audited(kingston_app: Flask) -> None:
    signed_in(kingston_app, MEMBER)
    with Session(get_engine(kingston_app)) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "account.signed_in")
                          ).one()
        assert event.actor_label == MEMBER and event.object_ref == MEMBER
        member_id = s.scalar(select(User.id).where(func.lower(User.email) == MEMBER))
        assert event.actor_id == member_id
