"""Delivering the outbox to a real SMTP server (aiosmtpd on 127.0.0.1), each email once.

The ``smtp_server`` fixture (conftest.py) records what arrives; tests read it back. Time is
driven by passing ``now`` to each run, as the scheduler's ``deliver`` job does every minute.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import delivery
from notifications.delivery import CLAIM_LEASE, deliver_pending, smtp_settings
from tests.tracker.signing import ADMIN, signed_in, text
from tracker.db import get_engine
from tracker.models import OutboxMessage, User
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


# a lease runs from the moment of its claim: a few seconds after a run's ``now`` at most
LATE = timedelta(seconds=10)


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
    assert row.first_attempt_at == row.last_attempt_at == row.sent_at


def test_header_injection_in_a_subject_or_a_name_adds_no_header(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(app)
    put(app, subject="Reminder\r\nBcc: evil@example.net\r\nX-Injected: yes")
    runner = app.test_cli_runner()
    injected = "Eve\r\nBcc: evil@example.net\nX-Injected: yes"
    refused = runner.invoke(args=["users", "add", "eve@example.org", "--name", injected])
    assert refused.exit_code == 1 and "A name must be one line of text" in refused.output
    # a name kept from before names were checked still cannot add a header to an email
    with Session(get_engine(app)) as s:
        s.add(User(email="eve@example.org", name=injected, role="member"))
        s.commit()
    result = runner.invoke(args=["users", "invite", "eve@example.org"])
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
    real = delivery.transmit
    calls = []

    def crash_on_the_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise Crash("killed after two emails went out")
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "transmit", crash_on_the_third)
    now = soon()
    with pytest.raises(Crash):
        deliver(app, now)
    assert len(smtp_server.received) == 2
    monkeypatch.setattr(delivery, "transmit", real)

    # run again at once: the two sent are not sent again; the one being sent when the run
    # died is held by its claim until the lease ends, the other two go now
    result = deliver(app, now + timedelta(seconds=5))
    assert result.sent == 2
    assert len(smtp_server.received) == 4
    result = deliver(app, now + CLAIM_LEASE + LATE)
    assert result.sent == 1
    addresses = [r.message["To"] for r in smtp_server.received]
    assert sorted(addresses) == [f"owner{i}@example.org" for i in range(5)]  # none twice
    assert deliver(app, now + timedelta(days=1)).sent == 0
    assert all(row.state == "sent" for row in rows(app))


def test_a_delivery_killed_after_claiming_is_retried_after_the_short_lease(  # type: ignore[no-untyped-def]
        app: Flask, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    smtp_server.configure(app)
    put(app)
    real = delivery.transmit

    def killed(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Crash("killed after claiming, before anything was sent")

    monkeypatch.setattr(delivery, "transmit", killed)
    now = soon()
    with pytest.raises(Crash):
        deliver(app, now)
    monkeypatch.setattr(delivery, "transmit", real)
    assert smtp_server.received == []
    [row] = rows(app)
    assert row.state == "queued" and row.attempts == 1

    # the deliver job runs every minute: the next run leaves the claim alone (its deliverer
    # might still be sending); once the lease of two minutes is over, the next run sends it
    # (LATE allows for the time the killed run took before its claim)
    assert CLAIM_LEASE <= timedelta(minutes=2)
    assert deliver(app, now + timedelta(minutes=1)).sent == 0
    assert deliver(app, now + CLAIM_LEASE + LATE).sent == 1
    assert [r.message["To"] for r in smtp_server.received] == ["owner0@example.org"]
    [row] = rows(app)
    assert row.state == "sent" and row.attempts == 2


def test_a_resend_after_a_crash_between_accept_and_commit_keeps_its_message_id(  # type: ignore[no-untyped-def]
        app: Flask, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    smtp_server.configure(app)
    put(app)
    real = delivery.transmit

    def accepted_then_killed(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)
        raise Crash("killed after the server accepted the email, before sent_at was saved")

    monkeypatch.setattr(delivery, "transmit", accepted_then_killed)
    now = soon()
    with pytest.raises(Crash):
        deliver(app, now)
    monkeypatch.setattr(delivery, "transmit", real)
    [row] = rows(app)
    assert row.state == "queued"  # the tracker never learnt that it went

    assert deliver(app, now + CLAIM_LEASE + LATE).sent == 1  # at least once: sent again
    first, again = smtp_server.received
    assert first.message["Message-ID"] == again.message["Message-ID"]
    assert first.message["X-Tracker-Key"] == again.message["X-Tracker-Key"]
    assert first.message["Subject"] == again.message["Subject"]
    [row] = rows(app)
    assert row.state == "sent" and row.attempts == 2


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
    assert claimed.first_attempt_at == now and claimed.send_after == now + CLAIM_LEASE


def test_a_refusing_server_is_retried_with_backoff(app: Flask, smtp_server) -> None:  # type: ignore[no-untyped-def]
    smtp_server.configure(app)
    put(app)
    smtp_server.refuse()
    now = soon()
    result = deliver(app, now)
    assert (result.sent, result.retry_later) == (0, 1)
    [row] = rows(app)
    assert row.state == "queued" and row.attempts == 1
    assert row.last_error and row.last_error.startswith("The SMTP server refused this email")
    assert "451" in row.last_error
    assert row.send_after == now + timedelta(minutes=1)

    smtp_server.accept()
    early = deliver(app, now + timedelta(seconds=59))  # not before send_after
    assert early.sent == 0 and smtp_server.received == []
    assert deliver(app, now + timedelta(minutes=1)).sent == 1
    assert len(smtp_server.received) == 1
    [row] = rows(app)
    assert row.state == "sent" and row.attempts == 2 and row.last_error is None


Handler = Callable[[Any, Any, Any], Awaitable[str]]


def answer_for(smtp_server, monkeypatch: pytest.MonkeyPatch, address: str,  # type: ignore[no-untyped-def]
               reply: str) -> None:
    """Make the server answer ``reply`` to any email for ``address``; take the others."""
    accept: Handler = smtp_server.handler.handle_DATA

    async def handle_DATA(server: Any, session: Any, envelope: Any) -> str:
        if address in envelope.rcpt_tos:
            return reply
        return await accept(server, session, envelope)

    monkeypatch.setattr(smtp_server.handler, "handle_DATA", handle_DATA)


def test_a_refused_email_does_not_hold_up_the_others(app: Flask, smtp_server,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    smtp_server.configure(app)
    put(app, 3)
    answer_for(smtp_server, monkeypatch, "owner0@example.org", "550 5.1.1 No such mailbox")
    now = soon()
    result = deliver(app, now)
    assert (result.sent, result.retry_later, result.skipped) == (2, 1, 0)
    assert sorted(r.message["To"] for r in smtp_server.received) == [
        "owner1@example.org", "owner2@example.org"]
    refused, *_ = rows(app)
    assert refused.state == "queued" and refused.send_after == now + timedelta(minutes=1)
    assert "550" in (refused.last_error or "")


def test_a_connection_lost_with_an_email_in_flight_counts_against_that_email(  # type: ignore[no-untyped-def]
        app: Flask, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    smtp_server.configure(app)
    put(app, 3)
    # 421: the server closes the connection; it still takes new ones, so the rest go out
    answer_for(smtp_server, monkeypatch, "owner1@example.org",
               "421 4.3.2 Closing the connection")
    now = soon()
    result = deliver(app, now)
    assert (result.sent, result.retry_later, result.skipped) == (2, 1, 0)
    assert sorted(r.message["To"] for r in smtp_server.received) == [
        "owner0@example.org", "owner2@example.org"]
    lost = rows(app)[1]
    assert lost.state == "queued" and lost.attempts == 1
    assert lost.send_after == now + timedelta(minutes=1)
    assert (lost.last_error or "").startswith(
        "The connection to the SMTP server was lost while this email was sent")


def test_during_an_outage_emails_stay_due_and_all_go_out_when_the_server_is_back(  # type: ignore[no-untyped-def]
        kingston_app: Flask, smtp_server) -> None:
    smtp_server.configure(kingston_app)
    put(kingston_app, 3)
    start = soon()
    smtp_server.refuse()  # each email is refused once before the outage
    assert deliver(kingston_app, start).retry_later == 3
    smtp_server.accept()
    smtp_server.stop()

    # an hour down, a run every minute: no email is pushed back, none counts a try
    for minute in range(1, 61):
        now = start + timedelta(minutes=minute)
        result = deliver(kingston_app, now)
        assert (result.sent, result.retry_later, result.failed, result.skipped) == (0, 0, 0, 3)
        assert "could not be used" in result.note
    for row in rows(kingston_app):
        assert row.state == "queued" and row.attempts == 1
        assert row.send_after == start + timedelta(minutes=1)  # still due, where it was
        assert row.first_attempt_at == start and row.last_attempt_at == now
        assert (row.last_error or "").startswith(
            f"The SMTP server could not be reached at {now.day} {now:%B %Y %H:%M} UTC: "
            "ConnectionRefusedError")

    # the admin sees why on the outbox page, and when each email was last tried
    client = signed_in(kingston_app, ADMIN)
    listing = text(client.get("/admin/outbox?state=queued"))
    assert "Queued emails: 3" in listing
    assert listing.count("The SMTP server could not be reached at") == 3
    stamp = f"{now.day} {now:%B %Y %H:%M} UTC"
    shown = text(client.get(f"/admin/outbox/{rows(kingston_app)[0].id}"))
    assert "Tries 1" in shown and f"Last tried {stamp}" in shown

    # the first run after the server is back sends every email due
    smtp_server.start()
    result = deliver(kingston_app, now + timedelta(minutes=1))
    assert (result.sent, result.skipped) == (3, 0)
    assert sorted(r.message["To"] for r in smtp_server.received) == [
        "owner0@example.org", "owner1@example.org", "owner2@example.org"]
    assert all(row.state == "sent" and row.last_error is None for row in rows(kingston_app))


def test_a_server_going_down_mid_run_leaves_the_rest_due(app: Flask, smtp_server,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    smtp_server.configure(app)
    put(app, 3)
    real = delivery.transmit
    calls = []

    def down_before_the_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            smtp_server.stop()
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "transmit", down_before_the_second)
    now = soon()
    result = deliver(app, now)
    assert (result.sent, result.retry_later, result.skipped) == (1, 0, 2)
    first, in_flight, waiting = rows(app)
    assert first.state == "sent"
    for row in (in_flight, waiting):
        assert row.state == "queued" and row.send_after <= now  # due at the next run
        assert "The SMTP server could not be reached" in (row.last_error or "")
    assert (in_flight.attempts, waiting.attempts) == (1, 0)

    smtp_server.start()
    assert deliver(app, now + timedelta(minutes=1)).sent == 2
    assert sorted(r.message["To"] for r in smtp_server.received) == [
        "owner0@example.org", "owner1@example.org", "owner2@example.org"]


def test_an_outage_of_more_than_a_day_fails_the_emails_due(kingston_app: Flask,  # type: ignore[no-untyped-def]
                                                           smtp_server) -> None:
    smtp_server.configure(kingston_app)
    put(kingston_app, 2)
    smtp_server.stop()
    now = soon()
    assert deliver(kingston_app, now).skipped == 2
    nearly = deliver(kingston_app, now + timedelta(hours=23, minutes=59))
    assert (nearly.failed, nearly.skipped) == (0, 2)
    day = deliver(kingston_app, now + outbox.RETRY_WINDOW)
    assert (day.failed, day.skipped) == (2, 0)
    for row in rows(kingston_app):
        assert row.state == "failed" and row.failed_at == now + outbox.RETRY_WINDOW
        assert "could not be reached" in (row.last_error or "")
    listing = text(signed_in(kingston_app, ADMIN).get("/admin/outbox?state=failed"))
    assert "Failed emails: 2" in listing


@pytest.mark.parametrize("reply", ["451 4.3.0 Mail server busy: please try again later",
                                   "554 5.7.1 Relay access denied"])
def test_a_refused_email_is_retried_for_a_day_then_fails_and_admins_see_it(  # type: ignore[no-untyped-def]
        kingston_app: Flask, smtp_server, reply: str) -> None:
    smtp_server.configure(kingston_app)
    put(kingston_app, to="owner@example.org", subject="Your update is due")
    smtp_server.refuse(reply)
    first = now = soon()
    waits = []
    while True:
        result = deliver(kingston_app, now)
        [row] = rows(kingston_app)
        if row.state == "failed":
            break
        assert result.retry_later == 1 and row.state == "queued"
        assert deliver(kingston_app, row.send_after - timedelta(seconds=1)).retry_later == 0
        waits.append(row.send_after - now)
        now = row.send_after
    minutes = [int(wait / timedelta(minutes=1)) for wait in waits]
    assert minutes[:7] == [1, 5, 15, 30, 60, 180, 180]  # then every 3 hours
    assert sum(minutes) == 24 * 60  # the last try is a day after the first
    assert result.failed == 1 and row.failed_at == now == first + timedelta(days=1)
    assert row.attempts == len(waits) + 1 == 14
    assert deliver(kingston_app, now + timedelta(days=1)).sent == 0  # no more tries

    client = signed_in(kingston_app, ADMIN)
    listing = text(client.get("/admin/outbox?state=failed"))
    assert "Failed emails: 1" in listing
    assert "Your update is due Reminder owner@example.org" in listing
    code, _, words = reply.partition(" ")
    assert f"The SMTP server refused this email, at {now.day} {now:%B %Y %H:%M} UTC: " \
        f"SMTPDataError: ({code}, b'{words}')" in listing
    page = client.get(f"/admin/outbox/{row.id}")
    assert f"This email could not be delivered: it was tried from {first.day} " in text(page)
    assert "it gets another 24 hours of tries" in text(page)

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
