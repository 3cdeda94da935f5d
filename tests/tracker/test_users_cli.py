"""``tracker users ...``: accounts from the command line, each change in the audit trail."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import count, db_fingerprint
from tests.tracker.signing import (
    MEMBER,
    PASSWORD,
    csrf,
    is_signed_in,
    set_password,
    signed_in,
    text,
    user,
)
from tracker.db import get_engine
from tracker.models import AccountToken, AuditEvent, User


def cli(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def events(app: Flask, action: str) -> list[AuditEvent]:
    with Session(get_engine(app)) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)))


def link_path(output: str) -> str:
    found = re.search(r"http://127\.0\.0\.1:5000(/account/set-password/[\w-]+)", output)
    assert found, output
    return found.group(1)


def test_add_makes_an_account_with_an_invitation(kingston_app: Flask) -> None:
    result = cli(kingston_app).invoke(args=[
        "users", "add", "Jo.Bloggs@Example.org", "--name", "Jo Bloggs", "--role", "lead",
        "--group", "vawg", "--group", "hate-crime"])
    assert result.exit_code == 0, result.output
    assert "Added Jo Bloggs <jo.bloggs@example.org> as lead." in result.output
    assert "Invitation link (works once, for 7 days): http://127.0.0.1:5000/account/" \
        "set-password/" in result.output
    person = user(kingston_app, "jo.bloggs@example.org")
    assert person.role == "lead" and person.is_active and person.password_hash is None
    with Session(get_engine(kingston_app)) as s:
        groups = {g.ref for g in s.get(User, person.id).groups}  # type: ignore[union-attr]
    assert groups == {"vawg", "hate-crime"}

    [event] = events(kingston_app, "account.created")
    assert event.actor_label == "command line" and event.actor_id is None
    assert event.object_type == "account" and event.object_ref == "jo.bloggs@example.org"
    assert event.new == {"name": "Jo Bloggs", "role": "lead", "groups": ["vawg", "hate-crime"]}
    # the printed link is the way in
    page = kingston_app.test_client().get(link_path(result.output))
    assert page.status_code == 200 and "Welcome, Jo Bloggs" in text(page)


def test_add_refuses_a_duplicate_whatever_its_case(kingston_app: Flask) -> None:
    before = db_fingerprint(kingston_app)
    result = cli(kingston_app).invoke(args=["users", "add", "Ben.Carter@example.org",
                                            "--name", "Another Ben"])
    assert result.exit_code == 1
    assert "There is already an account for ben.carter@example.org" in result.output
    assert db_fingerprint(kingston_app) == before


def test_add_refuses_an_unknown_group_and_adds_nothing(kingston_app: Flask) -> None:
    before = db_fingerprint(kingston_app)
    result = cli(kingston_app).invoke(args=["users", "add", "new@example.org", "--name", "New",
                                            "--group", "vawg", "--group", "knitting-circle"])
    assert result.exit_code == 1
    assert "No such group: knitting-circle." in result.output
    assert db_fingerprint(kingston_app) == before


def test_add_refuses_something_that_is_not_an_email_address(kingston_app: Flask) -> None:
    result = cli(kingston_app).invoke(args=["users", "add", "not-an-email", "--name", "X"])
    assert result.exit_code == 1 and "is not an email address" in result.output
    assert count(kingston_app, User, User.email == "not-an-email") == 0


def test_add_refuses_an_unknown_role(kingston_app: Flask) -> None:
    result = cli(kingston_app).invoke(args=["users", "add", "x@example.org", "--name", "X",
                                            "--role", "wizard"])
    assert result.exit_code == 2 and "wizard" in result.output
    assert count(kingston_app, User, User.email == "x@example.org") == 0


def test_the_first_admin_on_an_empty_database(app: Flask) -> None:
    result = cli(app).invoke(args=["users", "add", "cst@council.example.org", "--name",
                                   "Community Safety Team", "--role", "admin"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    path = link_path(result.output)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get(path).get_data(as_text=True))
    assert token
    response = client.post(path, data={"csrf_token": token.group(1), "password": PASSWORD,
                                       "confirm": PASSWORD})
    # an admin sets up two-factor before anything else, reading the key from the page
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/set-up-two-factor"
    page = client.get("/sign-in/set-up-two-factor").get_data(as_text=True)
    key = re.search(r'id="secret-key">([A-Z2-7 ]+)</code>', page)
    assert key
    done = client.post("/sign-in/set-up-two-factor", data={
        "csrf_token": csrf(page), "code": pyotp.TOTP(key.group(1).replace(" ", "")).now()})
    assert "Your recovery codes" in text(done)
    assert client.get("/admin/users").status_code == 200


def test_invite_everyone_without_a_password(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    runner = cli(kingston_app)
    assert runner.invoke(args=["users", "disable", "aisha.khan@example.org"]).exit_code == 0
    with Session(get_engine(kingston_app)) as s:
        expected = sorted(s.scalars(select(User.email).where(User.password_hash.is_(None),
                                                             User.is_active)))
    assert MEMBER not in expected and "aisha.khan@example.org" not in expected

    result = runner.invoke(args=["users", "invite", "--all-without-password"])
    assert result.exit_code == 0, result.output
    invited = re.findall(r"^(\S+@\S+): http://127\.0\.0\.1:5000/account/set-password/\S+$",
                         result.output, re.M)
    assert invited == expected
    assert f"{len(expected)} invitation links (each works once, for 7 days)." in result.output
    assert count(kingston_app, AccountToken, AccountToken.used_at.is_(None)) == len(expected)
    audited = events(kingston_app, "account.invited")
    assert sorted(e.object_ref for e in audited) == expected
    assert {e.actor_label for e in audited} == {"command line"}


def test_invite_needs_an_email_or_the_flag(kingston_app: Flask) -> None:
    result = cli(kingston_app).invoke(args=["users", "invite"])
    assert result.exit_code == 1
    assert "Give an email address, or --all-without-password." in result.output


def test_an_unknown_email_is_refused_with_a_hint(kingston_app: Flask) -> None:
    for command in ("invite", "reset", "disable", "enable"):
        result = cli(kingston_app).invoke(args=["users", command, "nobody@example.org"])
        assert result.exit_code == 1, command
        assert "There is no account for nobody@example.org" in result.output
    assert events(kingston_app, "account.invited") == []


def test_reset_prints_a_link_that_sets_a_new_password(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    result = cli(kingston_app).invoke(args=["users", "reset", "BEN.CARTER@example.org"])
    assert result.exit_code == 0, result.output
    assert f"Reset link for {MEMBER} (works once, for 24 hours): http://" in result.output
    client = kingston_app.test_client()
    path = link_path(result.output)
    assert "Reset your password" in text(client.get(path))
    [event] = events(kingston_app, "account.reset_link")
    assert event.actor_label == "command line" and event.object_ref == MEMBER


def test_disable_and_enable(kingston_app: Flask) -> None:
    browser = signed_in(kingston_app, MEMBER)
    runner = cli(kingston_app)
    result = runner.invoke(args=["users", "disable", MEMBER])
    assert result.exit_code == 0, result.output
    assert f"Disabled {MEMBER}; 1 session ended." in result.output
    assert not user(kingston_app, MEMBER).is_active
    assert not is_signed_in(browser)
    listed = runner.invoke(args=["users", "list", "--role", "member"]).output
    assert re.search(rf"^{re.escape(MEMBER)}\s+member\s+disabled\s+Ben Carter$", listed, re.M)

    result = runner.invoke(args=["users", "enable", MEMBER])
    assert result.exit_code == 0 and f"Enabled {MEMBER}." in result.output
    assert user(kingston_app, MEMBER).is_active
    assert not is_signed_in(browser)  # an ended session stays ended
    assert is_signed_in(signed_in(kingston_app, MEMBER))

    [disabled] = events(kingston_app, "account.disabled")
    [enabled] = events(kingston_app, "account.enabled")
    assert disabled.actor_label == enabled.actor_label == "command line"
    assert (disabled.old, disabled.new) == ({"is_active": True}, {"is_active": False})
    assert (enabled.old, enabled.new) == ({"is_active": False}, {"is_active": True})


def test_set_role(kingston_app: Flask) -> None:
    result = cli(kingston_app).invoke(args=["users", "set-role", MEMBER, "lead"])
    assert result.exit_code == 0, result.output
    assert f"{MEMBER} is now lead (was member)." in result.output
    assert user(kingston_app, MEMBER).role == "lead"
    [event] = events(kingston_app, "account.role_changed")
    assert event.actor_label == "command line"
    assert (event.old, event.new) == ({"role": "member"}, {"role": "lead"})

    refused = cli(kingston_app).invoke(args=["users", "set-role", MEMBER, "emperor"])
    assert refused.exit_code == 2
    assert user(kingston_app, MEMBER).role == "lead"


def test_list_shows_every_account_and_its_state(kingston_app: Flask) -> None:
    set_password(kingston_app, MEMBER)
    runner = cli(kingston_app)
    assert runner.invoke(args=["users", "disable", "aisha.khan@example.org"]).exit_code == 0
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == count(kingston_app, User)
    assert re.search(rf"^{re.escape(MEMBER)}\s+member\s+active\s+Ben Carter$", result.output,
                     re.M)
    assert re.search(r"^aisha\.khan@example\.org\s+member\s+disabled\s+Aisha Khan$",
                     result.output, re.M)
    assert re.search(r"^priya\.shah@example\.org\s+admin\s+no password yet\s+Priya Shah$",
                     result.output, re.M)

    admins = runner.invoke(args=["users", "list", "--role", "admin"]).output.splitlines()
    assert [line.split()[0] for line in admins] == ["priya.shah@example.org",
                                                    "tom.hughes@example.org"]
