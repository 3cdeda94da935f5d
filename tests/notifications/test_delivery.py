"""Delivering the outbox to a real SMTP server (aiosmtpd on 127.0.0.1), each email once.

The ``smtp_server`` fixture (conftest.py) records what arrives; tests read it back.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import delivery
from notifications.delivery import CLAIM_LEASE, deliver_pending, smtp_settings
from tests.tracker.signing import ADMIN, signed_in, text
from tracker.db import get_engine
from tracker.models import OutboxMessage
from tracker.models.base import utcnow
from tracker.services import outbox


def rows(app: Flask) -> list[OutboxMessage]:
    with Session(get_engine(app), expire_on_commit=False) as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def put(app: Flask, n: int = 1, **fields: object) -> None:
    with Session(get_engine(app)) as s:
        for i in range(n):
            values: dict[str, object] = {
                "kind": "reminder", "to": f"owner{i}@example.org",
                "subject": f"Your update {i} is due", "text": f"Please update {i}.",
                "html": f"<p>Please update {i}.</p>"}
            values.update(fields)
            outbox.queue(s, key=f"test|{i}|{values['to']}", **values)  # type: ignore[arg-type]
        s.commit()


def deliver(app: Flask, now: datetime) -> delivery.DeliveryResult:
    with Session(get_engine(app)) as s:
        return deliver_pending(s, now, smtp_settings(app.config))


def soon() -> datetime:
    return utcnow() + timedelta(seconds=1)


def test_an_email_arrives_multipart_with_its_headers(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(app)
    put(app, to="owner@example.org", cc=["lead@example.org", "cst@example.org"],
        subject="Your update for SKP-001 is due", text="Dear Ben,\n\nPlease update SKP-001.",
        html="<p>Dear Ben,</p><p>Please update <strong>SKP-001</strong>.</p>")
    result = deliver(app, soon())
    assert (result.sent, result.retry_later, result.failed) == (1, 0, 0)

    [received] = smtp_server.received
    assert received.mail_from == "tracker@kingston.example.org"
    assert received.rcpt_tos == ["owner@example.org", "lead@example.org", "cst@example.org"]
    email = received.message
    assert email["From"] == "Safer Kingston Partnership <tracker@kingston.example.org>"
    assert email["To"] == "owner@example.org"
    assert email["Cc"] == "lead@example.org, cst@example.org"
    assert email["Subject"] == "Your update for SKP-001 is due"
    assert email["X-Tracker-Key"] == "test|0|owner@example.org"
    assert re.fullmatch(r"<outbox\.\d+\.[0-9a-f]{20}@kingston\.example\.org>",
                        email["Message-ID"])
    assert email["Date"] and email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "multipart/alternative"
    plain = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().strip() == "Dear Ben,\n\nPlease update SKP-001."
    assert "<strong>SKP-001</strong>" in html.get_content()

    [row] = rows(app)
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None


def test_header_injection_in_a_subject_or_a_name_adds_no_header(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(app)
    put(app, subject="Reminder\r\nBcc: evil@example.net\r\nX-Injected: yes")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "eve@example.org", "--name",
                                 "Eve\r\nBcc: evil@example.net\nX-Injected: yes"])
    assert result.exit_code == 0, result.output
    assert deliver(app, soon()).sent == 2
    assert len(smtp_server.received) == 2
    for received in smtp_server.received:
        assert "evil@example.net" not in received.rcpt_tos
        assert received.message["Bcc"] is None and received.message["X-Injected"] is None
        assert "\n" not in received.message["Subject"]
    reminder, invitation = smtp_server.received
    assert reminder.message["Subject"] == \
        "Reminder Bcc: evil@example.net X-Injected: yes"  # one harmless line
    assert invitation.rcpt_tos == ["eve@example.org"]


def test_delivering_twice_sends_once(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(app)
    put(app, 3)
    now = soon()
    assert deliver(app, now).sent == 3
    again = deliver(app, now + timedelta(hours=1))
    assert (again.sent, again.retry_later, again.failed) == (0, 0, 0)
    assert sorted(r.message["To"] for r in smtp_server.received) == [
        "owner0@example.org", "owner1@example.org", "owner2@example.org"]


class Crash(BaseException):
    """The process dying mid-run (not an error delivery would catch)."""


def test_an_interrupted_delivery_sends_the_rest_once(app: Flask, smtp_server,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    smtp_server.configure(app)
    put(app, 5)
    real = delivery._transmit
    calls = []

    def crash_on_the_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise Crash("killed after two emails went out")
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "_transmit", crash_on_the_third)
    now = soon()
    with pytest.raises(Crash):
        deliver(app, now)
    assert len(smtp_server.received) == 2
    monkeypatch.setattr(delivery, "_transmit", real)

    # run again at once: the two sent are not sent again; the one being sent when the run
    # died is held by its claim until the lease ends, the other two go now
    result = deliver(app, now + timedelta(seconds=5))
    assert result.sent == 2
    assert len(smtp_server.received) == 4
    result = deliver(app, now + CLAIM_LEASE + timedelta(seconds=1))
    assert result.sent == 1
    addresses = [r.message["To"] for r in smtp_server.received]
    assert sorted(addresses) == [f"owner{i}@example.org" for i in range(5)]  # none twice
    assert deliver(app, now + timedelta(days=1)).sent == 0
    assert all(row.state == "sent" for row in rows(app))


def test_a_claimed_email_is_not_taken_by_a_second_deliverer(app: Flask) -> None:
    put(app)
    [row] = rows(app)
    now = soon()
    engine = get_engine(app)
    with Session(engine) as first, Session(engine) as second:
        assert delivery._claim(first, row.id, now) is True
        assert delivery._claim(second, row.id, now) is False
        assert delivery._claim(second, row.id, now + timedelta(minutes=1)) is False
    [claimed] = rows(app)
    assert claimed.attempts == 1 and claimed.last_attempt_at == now


def test_a_refusing_server_is_retried_with_backoff(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(app)
    put(app)
    smtp_server.refuse()
    now = soon()
    result = deliver(app, now)
    assert (result.sent, result.retry_later) == (0, 1)
    [row] = rows(app)
    assert row.state == "queued" and row.attempts == 1
    assert row.last_error and "451" in row.last_error
    assert row.send_after == now + timedelta(minutes=1)

    smtp_server.accept()
    early = deliver(app, now + timedelta(seconds=59))  # not before send_after
    assert early.sent == 0 and smtp_server.received == []
    assert deliver(app, now + timedelta(minutes=1)).sent == 1
    assert len(smtp_server.received) == 1
    [row] = rows(app)
    assert row.state == "sent" and row.attempts == 2 and row.last_error is None


def test_a_server_that_is_down_stops_the_run(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(app)
    put(app, 3)
    smtp_server.stop()
    now = soon()
    result = deliver(app, now)
    assert (result.sent, result.retry_later, result.skipped) == (0, 1, 2)
    assert "connection failed" in result.note
    assert [row.attempts for row in rows(app)] == [1, 0, 0]
    assert "ConnectionRefusedError" in (rows(app)[0].last_error or "")

    smtp_server.start()  # back on the same port
    result = deliver(app, now + timedelta(minutes=1))
    assert result.sent == 3
    assert sorted(r.message["To"] for r in smtp_server.received) == [
        "owner0@example.org", "owner1@example.org", "owner2@example.org"]


def test_after_the_last_try_an_email_fails_and_admins_see_it(kingston_app: Flask,  # type: ignore[no-untyped-def]
                                                             smtp_server) -> None:
    smtp_server.configure(kingston_app)
    put(kingston_app, to="owner@example.org", subject="Your update is due")
    smtp_server.refuse("554 5.7.1 Relay access denied")
    now = soon()
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        result = deliver(kingston_app, now)
        [row] = rows(kingston_app)
        assert row.attempts == attempt
        if attempt < outbox.MAX_ATTEMPTS:
            assert result.retry_later == 1 and row.state == "queued"
            assert row.send_after == now + outbox.backoff(attempt)
            now = row.send_after
        else:
            assert result.failed == 1 and row.state == "failed" and row.failed_at == now
    assert deliver(kingston_app, now + timedelta(days=1)).sent == 0  # no more tries

    client = signed_in(kingston_app, ADMIN)
    listing = text(client.get("/admin/outbox?state=failed"))
    assert "Failed emails: 1" in listing
    assert "Your update is due Reminder owner@example.org" in listing
    assert "SMTPDataError: (554, b'5.7.1 Relay access denied')" in listing
    page = client.get(f"/admin/outbox/{row.id}")
    assert "could not be delivered after 5 tries" in text(page)

    # the admin tries again once the server is fixed
    smtp_server.accept()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert token
    response = client.post(f"/admin/outbox/{row.id}/retry", data={"csrf_token": token.group(1)})
    assert response.status_code == 302
    assert deliver(kingston_app, utcnow() + timedelta(seconds=1)).sent == 1
    assert [r.message["To"] for r in smtp_server.received] == ["owner@example.org"]


def test_without_smtp_settings_nothing_is_sent(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    put(app, 2)  # SMTP_HOST is not set: the embedded default
    result = deliver(app, soon())
    assert (result.sent, result.skipped) == (0, 2)
    assert smtp_server.received == []
    assert all(row.state == "queued" and row.attempts == 0 for row in rows(app))


def test_an_invitation_arrives_with_a_link_that_works(kingston_app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(kingston_app)
    result = kingston_app.test_cli_runner().invoke(
        args=["users", "invite", "ben.carter@example.org"])
    assert result.exit_code == 0, result.output
    assert deliver(kingston_app, soon()).sent == 1
    [received] = smtp_server.received
    assert received.rcpt_tos == ["ben.carter@example.org"]
    assert received.message["Subject"] == \
        "Your invitation to the Safer Kingston Partnership tracker"
    plain = received.message.get_body(("plain",))
    html = received.message.get_body(("html",))
    assert plain is not None and html is not None
    found = re.search(r"http://127\.0\.0\.1:5000(/account/set-password/[\w-]+)",
                      plain.get_content())
    assert found and found.group(0) in result.output and found.group(0) in html.get_content()
    page = kingston_app.test_client().get(found.group(1))
    assert page.status_code == 200 and "Welcome, Ben Carter" in text(page)
