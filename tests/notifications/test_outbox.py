"""The outbox: queuing is idempotent by key and refuses header injection; the settings; the
admin's outbox page (read, filter, retry); account emails land in the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.delivery import deliver_pending, smtp_settings
from tests.tracker.signing import ADMIN, MEMBER, signed_in, text, user
from tracker.config import ConfigError, load_config
from tracker.db import get_engine
from tracker.models import AuditEvent, OutboxMessage
from tracker.models.base import utcnow
from tracker.services import outbox


def rows(app: Flask) -> list[OutboxMessage]:
    with Session(get_engine(app), expire_on_commit=False) as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def put(app: Flask, key: str = "test|1|a@example.org", **fields: object) -> OutboxMessage | None:
    values: dict[str, object] = {"kind": "reminder", "to": "a@example.org",
                                 "subject": "Your update is due", "text": "Please update.",
                                 "html": "<p>Please update.</p>"}
    values.update(fields)
    with Session(get_engine(app), expire_on_commit=False) as s:
        message = outbox.queue(s, key=key, **values)  # type: ignore[arg-type]
        s.commit()
        return message


# -- queuing ---------------------------------------------------------------------------------


def test_queue_writes_each_key_once(app: Flask) -> None:
    first = put(app)
    assert first is not None and first.state == "queued" and first.attempts == 0
    assert put(app, subject="Something else") is None  # same key: nothing written
    assert put(app, "test|1|b@example.org", to="b@example.org") is not None
    assert [(m.key, m.subject) for m in rows(app)] == [
        ("test|1|a@example.org", "Your update is due"),
        ("test|1|b@example.org", "Your update is due")]


def test_queue_within_one_transaction_sees_its_own_rows(app: Flask) -> None:
    with Session(get_engine(app)) as s:
        kwargs = {"kind": "digest", "to": "a@example.org", "subject": "S", "text": "t",
                  "html": "<p>t</p>"}
        assert outbox.queue(s, key="k", **kwargs) is not None
        assert outbox.queue(s, key="k", **kwargs) is None
        s.rollback()  # queue never commits: the caller's rollback takes it away
    assert rows(app) == []


def test_queue_never_commits(app: Flask) -> None:
    with Session(get_engine(app)) as s:
        outbox.queue(s, key="k", kind="digest", to="a@example.org", subject="S", text="t",
                     html="<p>t</p>")
    assert rows(app) == []


@pytest.mark.parametrize("address", [
    "a@example.org, b@example.org", "a@example.org\r\nBcc: evil@example.net",
    "a@example.org\nX: y", "Ann <a@example.org>", "a@example.org;b@example.org", "",
    "not-an-address", "a b@example.org",
])
def test_queue_refuses_anything_but_one_plain_address(app: Flask, address: str) -> None:
    with pytest.raises(outbox.InvalidAddress):
        put(app, to=address)
    with pytest.raises(outbox.InvalidAddress):
        put(app, cc=["lead@example.org", address])
    assert rows(app) == []


def test_a_subject_loses_its_line_breaks(app: Flask) -> None:
    message = put(app, subject="Hello\r\nBcc: evil@example.net\n\tX-Evil: 1")
    assert message is not None
    assert message.subject == "Hello Bcc: evil@example.net X-Evil: 1"


def test_backoff_grows_then_repeats_and_tries_last_a_day() -> None:
    assert [outbox.backoff(n) / timedelta(minutes=1) for n in range(1, 9)] == [
        1, 5, 15, 30, 60, 180, 180, 180]
    assert outbox.RETRY_WINDOW == timedelta(hours=outbox.RETRY_HOURS) == timedelta(days=1)
    first = utcnow()
    assert outbox.next_try(first, 1, first) == first + timedelta(minutes=1)
    # never past the end of the day: the last try is made a day after the first
    late = first + timedelta(hours=23)
    assert outbox.next_try(first, 12, late) == first + timedelta(days=1)
    assert outbox.next_try(first, 13, first + timedelta(days=1)) is None  # failed


# -- settings ----------------------------------------------------------------------------------


def test_without_smtp_settings_delivery_leaves_email_in_the_outbox(app: Flask) -> None:
    assert smtp_settings(app.config) is None
    put(app)
    with Session(get_engine(app)) as s:
        result = deliver_pending(s, utcnow() + timedelta(seconds=1), None)
    assert (result.sent, result.skipped) == (0, 1)
    assert "stay in the outbox" in result.note
    [message] = rows(app)
    assert message.state == "queued" and message.attempts == 0


def test_smtp_settings_come_from_the_environment(tmp_path: object) -> None:
    config = load_config(str(tmp_path), {
        "TRACKER_SMTP_HOST": "smtp.example.org", "TRACKER_SMTP_SECURITY": "SSL",
        "TRACKER_SMTP_USER": "tracker", "TRACKER_SMTP_PASSWORD": "secret",
        "TRACKER_MAIL_FROM": "tracker@example.org"})
    settings = smtp_settings(config)
    assert settings is not None
    assert (settings.host, settings.port, settings.security, settings.user, settings.password,
            settings.mail_from) == ("smtp.example.org", 465, "ssl", "tracker", "secret",
                                    "tracker@example.org")
    assert "secret" not in repr(settings)
    starttls = load_config(str(tmp_path), {"TRACKER_SMTP_HOST": "smtp.example.org",
                                           "TRACKER_SMTP_PORT": "2525",
                                           "TRACKER_MAIL_FROM": "t@example.org"})
    assert (starttls["SMTP_SECURITY"], starttls["SMTP_PORT"]) == ("starttls", 2525)
    assert load_config(str(tmp_path), {})["SMTP_HOST"] == ""


@pytest.mark.parametrize(("environ", "problem"), [
    ({"TRACKER_SMTP_SECURITY": "tls"}, "TRACKER_SMTP_SECURITY='tls' is not known: use starttls"),
    ({"TRACKER_SMTP_HOST": "smtp.example.org"}, "TRACKER_MAIL_FROM must be set"),
    ({"TRACKER_SMTP_PORT": "smtp"}, "TRACKER_SMTP_PORT='smtp' must be a whole number"),
    ({"TRACKER_SMTP_PORT": "70000"}, "must be a port number"),
])
def test_bad_smtp_settings_stop_the_app_starting(tmp_path: object, environ: dict[str, str],
                                                 problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_config(str(tmp_path), environ)


# -- the outbox page --------------------------------------------------------------------------


HOSTILE_HTML = ('<p>Hello</p><script>alert("x")</script>'
                '<p>"quoted" &amp; <a href="javascript:alert(1)">link</a></p>')


def test_the_outbox_page_shows_each_email_rendered_as_sent(kingston_app: Flask) -> None:
    put(kingston_app, "test|page|1", subject="Your update for SKP-001 is due",
        cc=["lead@example.org"], html=HOSTILE_HTML, text="Please update SKP-001.\nThanks.")
    client = signed_in(kingston_app, ADMIN)
    listing = client.get("/admin/outbox")
    assert listing.status_code == 200
    page = text(listing)
    assert "Email delivery is not set up" in page
    assert "Your update for SKP-001 is due Reminder a@example.org Copy to lead@example.org" \
        in page
    assert "Queued" in page
    # reached from the admin's overview, whose place in the navigation it is
    assert 'href="/admin/outbox"' in client.get("/admin").get_data(as_text=True)
    assert re.search(r'--active">\s*<a class="govuk-service-navigation__link" href="/admin"',
                     listing.get_data(as_text=True))

    [message] = rows(kingston_app)
    shown = client.get(f"/admin/outbox/{message.id}")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    # the HTML body, escaped into a sandboxed frame: it cannot run scripts or break the page
    frame = re.search(r'<iframe id="email-html" sandbox srcdoc="([^"]*)"', html)
    assert frame, html
    assert "<script>" not in frame.group(1) and "&lt;script&gt;" in frame.group(1)
    assert "&#34;quoted&#34; &amp;amp;" in frame.group(1)
    assert "<script>alert" not in html and "alert(" not in html.replace(frame.group(1), "")
    assert "script-src 'self'" in shown.headers["Content-Security-Policy"]
    words = text(shown)
    for expected in ("From tracker@localhost", "To a@example.org", "Cc lead@example.org",
                     "Subject Your update for SKP-001 is due", "Sent Not sent",
                     "Tries 0", "Key test|page|1"):
        assert expected in words, expected
    as_text = client.get(f"/admin/outbox/{message.id}?view=text").get_data(as_text=True)
    assert '<pre class="app-json" id="email-text">Please update SKP-001.\nThanks.</pre>' \
        in as_text
    assert client.get("/admin/outbox/999999").status_code == 404


def test_the_outbox_is_for_admins_alone(kingston_app: Flask) -> None:
    put(kingston_app)
    [message] = rows(kingston_app)
    client = signed_in(kingston_app, MEMBER)
    assert client.get("/admin/outbox").status_code == 403
    assert client.get(f"/admin/outbox/{message.id}").status_code == 403
    anonymous = kingston_app.test_client().get("/admin/outbox")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


def test_the_outbox_filters_by_state_and_pages_by_fifty(kingston_app: Flask) -> None:
    now = utcnow()
    with Session(get_engine(kingston_app)) as s:
        for n in range(60):
            message = outbox.queue(s, key=f"bulk|{n:02}", kind="digest", to="a@example.org",
                                   subject=f"Digest {n:02}", text="t", html="<p>t</p>")
            assert message is not None
            if n < 3:
                message.sent_at = now
            elif n < 5:
                message.failed_at, message.attempts = now, 5
        s.commit()
    client = signed_in(kingston_app, ADMIN)
    first = text(client.get("/admin/outbox"))
    assert "All emails: 60, newest first (page 1 of 2)" in first
    assert "Digest 59" in first and "Digest 10" in first and "Digest 09" not in first
    assert "Digest 09" in text(client.get("/admin/outbox?page=2"))
    assert "All (60) Queued (55) Sent (3) Failed (2)" in first
    failed = text(client.get("/admin/outbox?state=failed"))
    assert "Failed emails: 2" in failed and "Digest 04" in failed and "Digest 05" not in failed
    sent = text(client.get("/admin/outbox?state=sent"))
    assert "Sent emails: 3" in sent and "Digest 02" in sent
    assert "All emails: 60" in text(client.get("/admin/outbox?state=nonsense"))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_an_admin_tries_a_failed_email_again(kingston_app: Flask) -> None:
    put(kingston_app)
    [message] = rows(kingston_app)
    with Session(get_engine(kingston_app)) as s:
        found = s.get(OutboxMessage, message.id)
        assert found is not None
        found.attempts, found.failed_at = 14, utcnow()
        found.first_attempt_at = found.failed_at - timedelta(days=1)
        found.last_error = "SMTPDataError: (451, b'busy')"
        s.commit()
    client = signed_in(kingston_app, ADMIN)
    page = client.get(f"/admin/outbox/{message.id}")
    assert "Failed" in text(page) and "Last error SMTPDataError: (451, b&#39;busy&#39;)" \
        not in text(page)
    assert "Last error SMTPDataError: (451, b'busy')" in text(page)
    assert "Tries 14" in text(page)
    assert "This email could not be delivered: it was tried from" in text(page)
    assert client.post(f"/admin/outbox/{message.id}/retry").status_code == 400  # no token
    response = client.post(f"/admin/outbox/{message.id}/retry",
                           data={"csrf_token": _csrf(page.get_data(as_text=True))})
    assert response.status_code == 302
    [again] = rows(kingston_app)
    assert again.state == "queued" and again.attempts == 0 and again.failed_at is None
    assert again.first_attempt_at is None  # a new day of tries, from the next one
    assert again.send_after <= utcnow()
    with Session(get_engine(kingston_app)) as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retried"))
        assert event.actor_label == ADMIN and event.object_ref == message.key
        assert event.old is not None and event.old["attempts"] == 14
    assert "will be tried again" in text(client.get(response.headers["Location"]))
    # a queued (or sent) email is not sent again by hand
    page = client.get(f"/admin/outbox/{message.id}")
    assert "Try sending it again" not in text(page)
    refused = client.post(f"/admin/outbox/{message.id}/retry",
                          data={"csrf_token": _csrf(page.get_data(as_text=True))},
                          follow_redirects=True)
    assert "Only a message that failed can be tried again: this one is queued" in text(refused)


# -- account emails ---------------------------------------------------------------------------


def _link(body: str) -> str:
    found = re.search(r"http://127\.0\.0\.1:5000(/account/set-password/[\w-]+)", body)
    assert found, body
    return found.group(1)


def test_tracker_users_add_and_reset_queue_emails_with_the_link(kingston_app: Flask) -> None:
    runner = kingston_app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "jo@example.org", "--name", "Jo Bloggs"])
    assert result.exit_code == 0, result.output
    assert "1 email with the link queued in the outbox" in result.output
    [invitation] = rows(kingston_app)
    assert invitation.kind == "invitation" and invitation.to_address == "jo@example.org"
    assert invitation.subject == "Your invitation to the Safer Kingston Partnership tracker"
    assert invitation.key.startswith("account|invitation|") and \
        invitation.key.endswith("|jo@example.org")
    printed = _link(result.output)
    assert _link(invitation.text_body) == printed
    assert f'<a href="http://127.0.0.1:5000{printed}">' in invitation.html_body
    assert "Dear Jo Bloggs," in invitation.text_body
    assert "Safer Kingston Partnership" in invitation.html_body

    result = runner.invoke(args=["users", "reset", "jo@example.org"])
    assert result.exit_code == 0, result.output
    reset = rows(kingston_app)[-1]
    assert reset.kind == "reset" and _link(reset.text_body) == _link(result.output)
    assert reset.subject == "Set a new password for the Safer Kingston Partnership tracker"


def test_inviting_everyone_queues_one_email_each(kingston_app: Flask) -> None:
    result = kingston_app.test_cli_runner().invoke(
        args=["users", "invite", "--all-without-password"])
    assert result.exit_code == 0, result.output
    printed = re.findall(r"^(\S+@\S+): ", result.output, flags=re.M)
    assert len(printed) > 5
    assert sorted(m.to_address for m in rows(kingston_app)) == sorted(printed)


def test_an_admin_link_is_emailed_too(kingston_app: Flask) -> None:
    client = signed_in(kingston_app, ADMIN)
    member = user(kingston_app, MEMBER)
    page = client.get(f"/admin/users/{member.id}")
    response = client.post(f"/admin/users/{member.id}/link",
                           data={"csrf_token": _csrf(page.get_data(as_text=True))})
    assert response.status_code == 200
    assert f"An email with this link to {MEMBER} is in the outbox" in text(response)
    [invitation] = rows(kingston_app)  # the member has no password yet: an invitation
    assert invitation.kind == "invitation" and invitation.to_address == MEMBER
    shown = re.search(r'id="new-link" href="http://127\.0\.0\.1:5000([^"]+)"',
                      response.get_data(as_text=True))
    assert shown and _link(invitation.text_body) == shown.group(1)
