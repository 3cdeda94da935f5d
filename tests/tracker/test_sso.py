"""Single sign-on through a real OpenID Connect provider process on 127.0.0.1.

A correct sign-in, a provider's refusal, an unverified email, no account, a disabled
account and a domain allowed to get accounts go through ``oidc-provider-mock``; the tokens
that must be wrong (audience, issuer, expiry, nonce, signature) come from a provider of
our own (:mod:`tests.tracker.oidc_provider`), since the mock only issues correct ones.
Each refusal shows a page saying what went wrong and what to do, and is in the security log.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import db_fingerprint
from tests.tracker import oidc
from tests.tracker.helpers import db
from tests.tracker.servers import free_port
from tests.tracker.signing import (
    ADMIN,
    MEMBER,
    PASSWORD,
    csrf,
    is_signed_in,
    set_password,
    text,
)
from tracker.config import ConfigError, load_config
from tracker.models import AuditEvent, OutboxMessage, SecurityEvent, User
from tracker.services import accounts
from tracker.services.outbox import MailTemplates

NAME = "Ben Carter"


@pytest.fixture(autouse=True)
def plain_http_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test providers speak plain HTTP on 127.0.0.1, which Authlib refuses otherwise."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oidc.Provider]:
    with oidc.provider(tmp_path_factory.mktemp("oidc-mock")) as started:
        yield started


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oidc.Provider]:
    with oidc.provider(tmp_path_factory.mktemp("oidc-ours"), ours=True) as started:
        yield started


@pytest.fixture
def app(kingston_app: Flask, mock: oidc.Provider) -> Flask:
    oidc.configure(kingston_app, mock.url)
    return kingston_app


def _events(app: Flask) -> list[tuple[str, str, str]]:
    with db(app) as s:
        return [(e.kind, e.email, e.detail) for e in
                s.scalars(select(SecurityEvent).order_by(SecurityEvent.id))]


def _audit(app: Flask, action: str) -> list[tuple[str, str]]:
    with db(app) as s:
        return [(e.object_ref, e.summary) for e in
                s.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def _refused(app: Flask, response: object, status: int, heading: str, *words: str
             ) -> str:
    """The refusal page: its status, heading and advice; nobody signed in; one event."""
    assert response.status_code == status, response.get_data(as_text=True)  # type: ignore[attr-defined]
    page = text(response)  # type: ignore[arg-type]
    assert f"{heading} " in page and "Traceback" not in page
    for word in words:
        assert word in page
    [(kind, _email, detail)] = _events(app)
    assert kind == "sso.failed"
    return detail


# -- signing in -------------------------------------------------------------------------


def test_the_sign_in_page_has_the_button_only_when_sso_is_set_up(kingston_app: Flask,
                                                                  mock: oidc.Provider) -> None:
    client = kingston_app.test_client()
    assert "organisation's account" not in text(client.get("/sign-in"))
    assert client.get("/sign-in/sso").status_code == 404
    assert client.get("/sign-in/sso/callback").status_code == 404
    oidc.configure(kingston_app, mock.url, OIDC_LABEL="Sign in with Kingston Council")
    page = client.get("/sign-in?next=/my-actions").get_data(as_text=True)
    assert 'href="/sign-in/sso?next=/my-actions"' in page
    assert "Sign in with Kingston Council" in page and 'name="password"' in page


def test_a_verified_email_signs_in_to_its_account_and_goes_where_it_was_going(
        app: Flask, mock: oidc.Provider) -> None:
    mock.user("ben", email=MEMBER.upper(), email_verified=True, name=NAME)
    client = app.test_client()
    response = oidc.sign_in(client, "ben", query="?next=/changes")
    assert response.status_code == 302 and response.headers["Location"] == "/changes"
    assert is_signed_in(client)
    assert _audit(app, "account.signed_in") == [(MEMBER, "through single sign-on")]
    assert _events(app) == []
    with client.session_transaction() as session:
        assert session["signed_in_with"] == "sso"
    # a next= to another site is not followed: the role's home instead
    other = app.test_client()
    response = oidc.sign_in(other, "ben", query="?next=//evil.example.org/")
    assert response.headers["Location"] == "/my-actions"


def test_a_replayed_callback_is_refused(app: Flask, mock: oidc.Provider) -> None:
    mock.user("ben", email=MEMBER, email_verified=True)
    client = app.test_client()
    back = oidc.back_from(oidc.start(client), "ben")
    with client.session_transaction() as session:
        before = dict(session)  # the cookie as it was when the provider sent them back
    assert client.get(back).status_code == 302
    # the same address again, in the same browser: the state was used up
    response = client.get(back)
    detail = _refused(app, response, 400, "This sign-in link has already been used",
                      "Each sign-in works once")
    assert "already used" in detail
    # ... and with a copy of the cookie from before: the provider will not take the code twice
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(before)
    response = thief.get(back)
    assert response.status_code == 400 and not is_signed_in(thief)
    assert "token exchange refused: invalid_grant" in _events(app)[-1][2]
    assert len(_audit(app, "account.signed_in")) == 1


def test_a_callback_without_a_state_of_this_browser_is_refused(app: Flask,
                                                               mock: oidc.Provider) -> None:
    mock.user("ben", email=MEMBER, email_verified=True)
    back = oidc.back_from(oidc.start(app.test_client()), "ben")
    stranger = app.test_client()  # login CSRF: someone else's sign-in sent to this browser
    response = stranger.get(back)
    _refused(app, response, 400, "This sign-in link has already been used")
    assert not is_signed_in(stranger)
    response = stranger.get("/sign-in/sso/callback")
    assert response.status_code == 400 and "Sign-in did not finish" in text(response)


def test_the_provider_saying_no_is_shown(app: Flask, mock: oidc.Provider) -> None:
    client = app.test_client()
    response = client.get(oidc.back_from(oidc.start(client), deny=True))
    detail = _refused(app, response, 400, "Your organisation's sign-in did not finish",
                      "because you cancelled it", "try again")
    assert "access_denied" in detail


def test_an_unverified_email_is_refused(app: Flask, mock: oidc.Provider) -> None:
    mock.user("ben", email=MEMBER, email_verified=False)
    client = app.test_client()
    response = oidc.sign_in(client, "ben")
    detail = _refused(app, response, 403, "Your email address is not verified",
                      f"says {MEMBER} has not been verified")
    assert detail == f"email {MEMBER} not verified by the provider"
    assert not is_signed_in(client)
    mock.user("ben", email=MEMBER)  # no email_verified claim at all
    assert oidc.sign_in(client, "ben").status_code == 403


def test_entra_ids_xms_edov_claim_counts_as_verified(app: Flask, mock: oidc.Provider) -> None:
    mock.user("ben", email=MEMBER, xms_edov=True)
    client = app.test_client()
    assert oidc.sign_in(client, "ben").status_code == 302 and is_signed_in(client)


def test_an_email_with_no_account_is_refused_and_told_whom_to_ask(
        app: Flask, mock: oidc.Provider) -> None:
    mock.user("newcomer", email="new.person@kingston.gov.uk", email_verified=True)
    client = app.test_client()
    response = oidc.sign_in(client, "newcomer")
    _refused(app, response, 403, "You do not have an account yet",
             "Ask the community safety team to add an account for new.person@kingston.gov.uk")
    assert not is_signed_in(client)
    with db(app) as s:
        assert s.scalars(select(User).where(User.email == "new.person@kingston.gov.uk")
                         ).first() is None


def test_a_disabled_account_is_refused(app: Flask, mock: oidc.Provider) -> None:
    with db(app) as s:
        user = s.scalars(select(User).where(User.email == MEMBER)).one()
        user.is_active = False
        s.commit()
    mock.user("ben", email=MEMBER, email_verified=True)
    client = app.test_client()
    response = oidc.sign_in(client, "ben")
    reason = _refused(app, response, 403, "Your account is disabled",
                      "ask the community safety team to enable it again")
    assert reason == f"account {MEMBER} is disabled"
    assert not is_signed_in(client)


def test_an_allowed_domain_gets_a_new_member_account_with_no_groups(
        app: Flask, mock: oidc.Provider) -> None:
    app.config["OIDC_ALLOWED_DOMAINS"] = ("kingston.gov.uk",)
    mock.user("newcomer", email="New.Person@Kingston.gov.uk", email_verified=True,
              name="New  Person")
    client = app.test_client()
    response = oidc.sign_in(client, "newcomer")
    assert response.status_code == 302 and response.headers["Location"] == "/my-actions"
    with db(app) as s:
        user = s.scalars(select(User).where(User.email == "new.person@kingston.gov.uk")).one()
        assert (user.name, user.role, user.groups, user.password_hash) == (
            "New Person", "member", [], None)
    [(ref, detail)] = _audit(app, "account.created")
    assert ref == "new.person@kingston.gov.uk" and "first sign-in" in detail
    # another domain still gets no account
    mock.user("outsider", email="someone@elsewhere.org", email_verified=True)
    refused = oidc.sign_in(app.test_client(), "outsider")
    assert refused.status_code == 403 and "You do not have an account yet" in text(refused)


def test_roles_stay_the_trackers(app: Flask, mock: oidc.Provider) -> None:
    mock.user("ben", email=MEMBER, email_verified=True, roles=["admin"], groups=["admins"])
    client = app.test_client()
    oidc.sign_in(client, "ben")
    assert client.get("/admin").status_code == 403


# -- tokens that must be refused (our own provider) -------------------------------------


@pytest.fixture
def ours_app(kingston_app: Flask, ours: oidc.Provider) -> Flask:
    oidc.configure(kingston_app, ours.url)
    ours.put("/test/key", {"foreign": False})
    return kingston_app


@pytest.mark.parametrize(("claims", "reason"), [
    ({"aud": "another-client"}, "ID token claim 'aud' is wrong or missing"),
    ({"aud": ["another-client"], "azp": oidc.CLIENT_ID}, "claim 'aud'"),
    ({"iss": "https://login.example.org"}, "ID token claim 'iss' is wrong or missing"),
    ({"exp": int(time.time()) - 3600}, "ID token expired"),
    ({"nonce": "not-the-nonce"}, "ID token claim 'nonce' is wrong or missing"),
    ({"nonce": None}, "claim 'nonce'"),
    ({"sub": None}, "claim 'sub'"),
])
def test_a_wrong_id_token_is_refused(ours_app: Flask, ours: oidc.Provider,
                                     claims: dict[str, object], reason: str) -> None:
    ours.claims(email=MEMBER, **claims)
    client = ours_app.test_client()
    response = oidc.sign_in(client)
    detail = _refused(ours_app, response, 400, "Your organisation's sign-in could not be "
                      "checked", "you have not been signed in")
    assert reason in detail
    assert not is_signed_in(client)


def test_an_id_token_a_little_past_its_expiry_is_accepted(ours_app: Flask,
                                                          ours: oidc.Provider) -> None:
    ours.claims(email=MEMBER, exp=int(time.time()) - 20)  # clocks differ by seconds
    client = ours_app.test_client()
    assert oidc.sign_in(client).status_code == 302 and is_signed_in(client)


def test_a_token_signed_with_another_key_is_refused(ours_app: Flask,
                                                    ours: oidc.Provider) -> None:
    ours.claims(email=MEMBER)
    ours.put("/test/key", {"foreign": True})
    response = oidc.sign_in(ours_app.test_client())
    assert "BadSignatureError" in _refused(ours_app, response, 400, "Your organisation's "
                                           "sign-in could not be checked")


def test_a_provider_that_cannot_be_reached_gives_a_page_not_an_error(
        kingston_app: Flask, tmp_path: Path) -> None:
    oidc.configure(kingston_app, f"http://127.0.0.1:{free_port()}")  # nobody listens there
    client = kingston_app.test_client()
    response = client.get("/sign-in/sso")
    detail = _refused(kingston_app, response, 400, "Your organisation's sign-in service "
                      "could not be reached", "Wait a few minutes")
    assert "discovery document" in detail
    # reachable at the start, gone by the token exchange
    with oidc.provider(tmp_path, ours=True) as going:
        oidc.configure(kingston_app, going.url)
        going.claims(email=MEMBER)
        back = oidc.back_from(oidc.start(client))
        going.process.terminate()
        going.process.wait(timeout=10)
    response = client.get(back)
    assert response.status_code == 400 and "could not be reached" in text(response)
    assert "at the token exchange" in _events(kingston_app)[-1][2]
    assert not is_signed_in(client)


def test_a_discovery_document_naming_another_issuer_is_refused(
        ours_app: Flask, ours: oidc.Provider) -> None:
    ours.put("/test/discovery", {"issuer": "https://login.example.org"})
    try:
        response = ours_app.test_client().get("/sign-in/sso")
    finally:
        ours.put("/test/discovery", {})
    reason = _refused(ours_app, response, 400, "Single sign-on is not set up correctly",
                      "TRACKER_OIDC_ISSUER")
    assert "discovery document names issuer 'https://login.example.org'" in reason


# -- what a GET of the callback writes ----------------------------------------------------


def test_the_callback_writes_only_the_sign_in(app: Flask, mock: oidc.Provider) -> None:
    mock.user("ben", email=MEMBER, email_verified=True)
    client = app.test_client()
    back = oidc.back_from(oidc.start(client), "ben")
    before = db_fingerprint(app)  # (without the security log)
    client.get("/sign-in/sso/callback?state=forged&code=forged")
    assert db_fingerprint(app) == before
    assert len(_events(app)) == 1
    before = db_fingerprint(app)
    assert client.get(back).status_code == 302
    after = db_fingerprint(app)
    changed = {t for t in before if before[t] != after[t]}
    assert changed == {"user_sessions", "audit_events", "users"}  # users: last signed in


# -- password sign-in turned off -----------------------------------------------------------


def test_with_password_sign_in_off_only_the_button_signs_in(app: Flask,
                                                            mock: oidc.Provider) -> None:
    set_password(app, MEMBER)
    client = app.test_client()
    token = csrf(client.get("/sign-in").get_data(as_text=True))  # a form opened before
    app.config["PASSWORD_SIGN_IN"] = False
    page = client.get("/sign-in")
    assert 'name="password"' not in page.get_data(as_text=True)
    assert "Sign in with your organisation's account" in text(page)
    response = client.post("/sign-in", data={"csrf_token": token, "email": MEMBER,
                                              "password": PASSWORD})
    assert response.status_code == 403
    assert "Password sign-in is turned off" in text(response)
    assert "Use the “Sign in with your organisation's account” button" in text(response)
    assert not is_signed_in(client)
    mock.user("ben", email=MEMBER, email_verified=True)
    assert oidc.sign_in(client, "ben").status_code == 302
    account = client.get("/account")
    assert "Change your password" not in text(account)
    assert "looked after by your organisation" in text(account)
    changed = client.post("/account", data={"csrf_token": csrf(account.get_data(as_text=True)),
                                            "current": PASSWORD, "password": "x" * 20,
                                            "confirm": "x" * 20})
    assert changed.status_code == 403 and "Password sign-in is turned off" in text(changed)


def test_with_password_sign_in_off_links_to_set_a_password_are_refused(
        app: Flask) -> None:
    with app.app_context(), db(app) as s:
        user = s.scalars(select(User).where(User.email == MEMBER)).one()
        url = accounts.email_link(s, user, "invite", MailTemplates.of(app)).url
        s.commit()
    app.config["PASSWORD_SIGN_IN"] = False
    response = app.test_client().get(url.removeprefix(app.config["BASE_URL"]))
    assert response.status_code == 403 and "Password sign-in is turned off" in text(response)


def test_with_password_sign_in_off_an_invitation_says_to_use_the_organisations_account(
        app: Flask) -> None:
    app.config["PASSWORD_SIGN_IN"] = False
    runner = app.test_cli_runner()
    added = runner.invoke(args=["users", "add", "new.person@kingston.gov.uk",
                                "--name", "New Person"])
    assert added.exit_code == 0, added.output
    assert "sign in with their organisation's account" in added.output
    assert "/account/set-password/" not in added.output
    with db(app) as s:
        message = s.scalars(select(OutboxMessage)
                            .where(OutboxMessage.to_address == "new.person@kingston.gov.uk")
                            ).one()
        assert "there is no password to set" in message.text_body
        assert "Sign in with your organisation's account" in message.text_body
        assert "/account/set-password/" not in message.text_body
    reset = runner.invoke(args=["users", "reset", "new.person@kingston.gov.uk"])
    assert reset.exit_code == 1 and "Password sign-in is turned off" in reset.output


def test_an_admin_invites_to_sign_in_with_the_organisations_account(app: Flask,
                                                                     mock: oidc.Provider
                                                                     ) -> None:
    mock.user("priya", email=ADMIN, email_verified=True)
    admin = app.test_client()
    oidc.sign_in(admin, "priya")
    app.config["PASSWORD_SIGN_IN"] = False
    with db(app) as s:
        member = s.scalars(select(User).where(User.email == MEMBER)).one().id
    page = admin.get(f"/admin/users/{member}")
    assert "Email an invitation to sign in" in text(page)
    response = admin.post(f"/admin/users/{member}/link",
                          data={"csrf_token": csrf(page.get_data(as_text=True))})
    assert response.status_code == 200
    assert "They sign in with their organisation's account" in text(response)
    assert _audit(app, "account.invited") == [
        (MEMBER, "invited to sign in with their organisation's account")]


# -- configuration ----------------------------------------------------------------------

ISSUER = "https://login.microsoftonline.com/tenant-id/v2.0"
SSO = {"TRACKER_OIDC_ISSUER": ISSUER, "TRACKER_OIDC_CLIENT_ID": "client-id",
       "TRACKER_OIDC_CLIENT_SECRET": "a-secret"}
PRODUCTION = {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY":
              "f3c9a1e07b5d4c28e6a9b0d1f47c3e825a6d9b0c1e2f3a4b5c6d7e8f9a0b1c2d"}


def test_sso_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    config = load_config(str(tmp_path), {**PRODUCTION, **SSO,
                                         "TRACKER_OIDC_ISSUER": ISSUER + "/",
                                         "TRACKER_OIDC_ALLOWED_DOMAINS":
                                             "Kingston.gov.uk, @rbkc.gov.uk",
                                         "TRACKER_PASSWORD_SIGN_IN": "0"})
    assert (config["OIDC_ISSUER"], config["OIDC_CLIENT_ID"], config["OIDC_CLIENT_SECRET"]) == (
        ISSUER, "client-id", "a-secret")
    assert config["OIDC_ALLOWED_DOMAINS"] == ("kingston.gov.uk", "rbkc.gov.uk")
    assert config["OIDC_LABEL"] == "Sign in with your organisation's account"
    assert config["PASSWORD_SIGN_IN"] is False
    plain = load_config(str(tmp_path), {})
    assert (plain["OIDC_ISSUER"], plain["PASSWORD_SIGN_IN"]) == ("", True)


@pytest.mark.parametrize(("environ", "message"), [
    ({"TRACKER_OIDC_ISSUER": ISSUER},
     "Single sign-on is half set up: set TRACKER_OIDC_CLIENT_ID and "
     "TRACKER_OIDC_CLIENT_SECRET too"),
    ({**SSO, "TRACKER_OIDC_CLIENT_SECRET": ""},
     "half set up: set TRACKER_OIDC_CLIENT_SECRET too"),
    ({**SSO, "TRACKER_OIDC_ISSUER": "http://login.example.org", **PRODUCTION},
     "must use https in production"),
    ({**SSO, "TRACKER_OIDC_ISSUER": "login.example.org"}, "must be the identity provider's"),
    ({"TRACKER_PASSWORD_SIGN_IN": "0"}, "TRACKER_PASSWORD_SIGN_IN=0 would leave nobody"),
    ({"TRACKER_PASSWORD_SIGN_IN": "maybe"}, "is not on or off"),
    ({**SSO, "TRACKER_OIDC_ALLOWED_DOMAINS": "kingston.gov.uk,,rbkc.gov.uk"},
     "TRACKER_OIDC_ALLOWED_DOMAINS has '', which is not an email domain"),
    ({**SSO, "TRACKER_OIDC_ALLOWED_DOMAINS": "kingston gov uk"}, "not an email domain"),
    ({**SSO, "TRACKER_OIDC_ALLOWED_DOMAINS": "name@kingston.gov.uk"}, "not an email domain"),
    ({"TRACKER_OIDC_ALLOWED_DOMAINS": "kingston.gov.uk"}, "needs single sign-on"),
])
def test_a_half_or_unsafe_sso_set_up_is_refused_in_one_line(
        tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as refused:
        load_config(str(tmp_path), environ)
    assert "\n" not in str(refused.value)


def test_an_http_issuer_is_allowed_outside_production(tmp_path: Path) -> None:
    config = load_config(str(tmp_path), {**SSO, "TRACKER_OIDC_ISSUER": "http://127.0.0.1:9400"})
    assert config["OIDC_ISSUER"] == "http://127.0.0.1:9400"
