"""The admin pages: the audit trail (read-only) and accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bs4 import Tag
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tests.conftest import count, db_fingerprint
from tests.tracker.helpers import field_error
from tests.tracker.helpers import page as parsed
from tests.tracker.signing import (
    ADMIN,
    BOARD,
    LEAD,
    MEMBER,
    OTHER_ADMIN,
    PASSWORD,
    csrf,
    enrol,
    is_signed_in,
    sign_in,
    signed_in,
    text,
    user,
)
from tracker.db import get_engine
from tracker.models import AccountToken, AuditEvent, UserSession

ADMIN_PAGES = ("/admin", "/admin/audit", "/admin/security", "/admin/users",
               "/admin/users/{id}", "/admin/users/{id}/reset-two-factor", "/kpis/import-police",
               "/admin/api-tokens", "/stories")


def admin_client(app: Flask) -> FlaskClient:
    return signed_in(app, ADMIN)


def add_events(app: Flask, how_many: int, **fields: Any) -> None:
    """Events one minute apart, the last one a day ago: numbered so their order shows."""
    start = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    with Session(get_engine(app)) as s:
        for n in range(how_many):
            values: dict[str, Any] = {
                "at": start + timedelta(minutes=n), "actor_label": "command line",
                "action": "test.event", "object_type": "thing", "object_ref": f"T-{n:03d}",
                "summary": f"event number {n}"}
            values.update(fields)
            s.add(AuditEvent(**values))
        s.commit()


def _text(element: Tag) -> str:
    return " ".join(element.get_text(" ").split())


def _table_body(html: str) -> Tag:
    """The body of the page's first table."""
    body = parsed(html).select_one("tbody.govuk-table__body")
    assert body is not None, "no table on the page"
    return body


def rows(response: Any) -> list[str]:
    """The table's rows (the audit trail's events, the accounts), each as the text it reads on
    a wide screen: an event's row, then the full-width row of its old and new values under it."""
    body = _table_body(response.get_data(as_text=True))
    # each cell's own label is for narrow screens only, where the cells stack
    for label in body.select("span.app-audit__label"):
        label.decompose()
    events: list[str] = []
    for row in body.find_all("tr"):
        if "app-audit__values" in (row.get("class") or []):
            events[-1] += " " + _text(row)
        else:
            events.append(_text(row))
    return events


def values(response: Any) -> list[list[tuple[str, str]]]:
    """Each event's old and new values as listed (not the JSON): (label, value) pairs."""
    found = []
    for row in parsed(response.get_data(as_text=True)).select("tr.app-audit__values"):
        listed = row.find("dl")
        assert isinstance(listed, Tag)
        found.append([(_text(key), _text(value))
                      for key, value in zip(listed.find_all("dt"), listed.find_all("dd"),
                                            strict=True)])
    return found


def refs(response: Any) -> list[str]:
    return [text for strong in parsed(response.get_data(as_text=True)).find_all("strong")
            if re.fullmatch(r"T-\d+", text := strong.get_text().strip())]


@contextmanager
def counting_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


# -- who may see them -------------------------------------------------------------------------


def test_admins_see_the_admin_pages(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    member_id = user(kingston_app, MEMBER).id
    enrol(kingston_app, MEMBER)  # a second factor an admin could reset
    for page in ADMIN_PAGES:
        response = client.get(page.format(id=member_id))
        assert response.status_code == 200, page
        assert response.headers["Cache-Control"] == "no-store"
    html = client.get("/").get_data(as_text=True)
    assert '<a class="govuk-service-navigation__link" href="/admin">' in html
    assert '<a class="govuk-service-navigation__link" href="/admin/users">' in html
    overview = client.get("/admin").get_data(as_text=True)  # and the rest from the overview
    for page in ("/admin/audit", "/admin/outbox", "/quarters", "/kpis/import"):
        assert f'href="{page}"' in overview, page


@pytest.mark.parametrize("email", [BOARD, LEAD, MEMBER])
def test_other_roles_are_forbidden(kingston_app: Flask, email: str) -> None:
    client = signed_in(kingston_app, email)
    member_id = user(kingston_app, MEMBER).id
    for page in ADMIN_PAGES:
        response = client.get(page.format(id=member_id))
        assert response.status_code == 403, page
        assert "You do not have permission to see this page" in text(response)
    assert "/admin/" not in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(kingston_app: Flask) -> None:
    client = kingston_app.test_client()
    member_id = user(kingston_app, MEMBER).id
    for page in ADMIN_PAGES:
        url = page.format(id=member_id)
        response = client.get(url)
        assert response.status_code == 302, page
        assert response.headers["Location"].endswith("/sign-in?next=" + url.replace("/", "%2F"))
    # and come back to the page after signing in
    from tests.tracker.signing import set_password

    set_password(kingston_app, ADMIN)
    response = sign_in(client, ADMIN, query="?next=%2Fadmin%2Faudit")
    assert response.headers["Location"] == "/admin/audit"


def test_admin_posts_are_forbidden_to_others(kingston_app: Flask) -> None:
    target = user(kingston_app, MEMBER).id
    client = signed_in(kingston_app, LEAD)
    token = csrf(client.get("/account").get_data(as_text=True))
    before = db_fingerprint(kingston_app)
    for change in ("disable", "enable", "link", "role"):
        response = client.post(f"/admin/users/{target}/{change}",
                               data={"csrf_token": token, "role": "admin"})
        assert response.status_code == 403, change
    after = db_fingerprint(kingston_app)
    # only the lead's own session moved (last seen); no account, link or event changed
    for table in ("users", "account_tokens", "audit_events"):
        assert after[table] == before[table], table


# -- the audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_is_newest_first_with_who_what_and_when(kingston_app: Flask) -> None:
    add_events(kingston_app, 3)
    response = admin_client(kingston_app).get("/admin/audit?object_type=thing")
    assert response.status_code == 200
    assert refs(response) == ["T-002", "T-001", "T-000"]
    first = rows(response)[0]
    assert first.startswith("1 January 2026 09:02 UTC command line test.event thing T-002 "
                            "event number 2")
    html = response.get_data(as_text=True)
    assert '<caption class="govuk-table__caption govuk-table__caption--m">' in html
    assert "Matching events: 1 to 3 of 3, newest first" in text(response)


def test_the_audit_trail_shows_who_by_name_and_the_old_and_new_values(
        kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    member_id = user(kingston_app, MEMBER).id
    page = client.get(f"/admin/users/{member_id}")
    client.post(f"/admin/users/{member_id}/role",
                data={"csrf_token": csrf(page.get_data(as_text=True)), "role": "lead"})
    response = client.get("/admin/audit?action=account.role_changed")
    [row] = rows(response)
    assert "Priya Shah priya.shah@example.org account.role_changed account " \
        "ben.carter@example.org Action owner to Group lead" in row
    # an arrow for the eye, "changed to" for a screen reader; the roles by their names
    assert "Old and new values Role Action owner → changed to Group lead" in row


def test_values_are_escaped_and_long_ones_are_pretty_printed(kingston_app: Flask) -> None:
    add_events(kingston_app, 1, old={"narrative": "<b>old</b>", "n": 1},
               new={"narrative": "<script>alert('x')</script>", "n": 2,
                    "items": {"a": [1, 2]}})
    response = admin_client(kingston_app).get("/admin/audit?object_type=thing")
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "<b>old</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    [row] = rows(response)
    assert "N 1 → changed to 2" in row
    assert "Progress <b>old</b> → changed to <script>alert('x')</script>" in row
    # structured values, and the whole event, as indented JSON inside <details>
    assert '<pre class="app-json">{\n  &#34;a&#34;: [\n    1,\n    2\n  ]\n}</pre>' in html
    assert "<details" in html and "&#34;old&#34;: {" in html


def test_fields_and_values_read_as_words(kingston_app: Flask) -> None:
    add_events(kingston_app, 1, old={
        "rag": "green", "percent_complete": 40, "is_concern": False, "next_steps": "",
        "due": "2026-12-01", "review": "pending", "role": "member", "colour": "grey"},
        new={"rag": "red", "percent_complete": 35, "is_concern": True,
             "next_steps": "Book the hall.", "due": "2027-03-31", "review": "returned",
             "role": "lead", "colour": "blue", "failed_at": "2026-12-03T09:14:05+00:00"})

    [listed] = values(admin_client(kingston_app).get("/admin/audit?object_type=thing"))

    assert listed == [
        ("RAG", "Green → changed to Red"),
        ("Complete", "40% → changed to 35%"),
        ("Area of concern", "No → changed to Yes"),
        ("Next steps", "Blank → changed to Book the hall."),
        ("Due", "1 December 2026 → changed to 31 March 2027"),
        ("Approval", "Awaiting approval → changed to Sent back"),
        ("Role", "Action owner → changed to Group lead"),
        ("Status", "No update → changed to Complete"),
        ("Failed", "- → changed to 3 December 2026 09:14 UTC"),
    ]


def test_a_field_one_side_did_not_have_reads_as_a_dash(kingston_app: Flask) -> None:
    add_events(kingston_app, 1, old={"version": 1, "risks": "Staff turnover."},
               new={"risks": "Staff turnover.", "evidence": ["https://example.org/a"]})

    response = admin_client(kingston_app).get("/admin/audit?object_type=thing")

    [listed] = values(response)
    assert listed == [("Risks and issues", "Staff turnover."),  # unchanged: said once
                      ("Evidence links", "- → changed to https://example.org/a"),
                      ("Version", "1 → changed to -")]
    assert "(removed)" not in response.get_data(as_text=True)
    [row] = rows(response)  # the values follow the event they belong to
    assert row.startswith("1 January 2026 09:00 UTC command line test.event thing T-000 "
                          "event number 0 Old and new values Risks and issues Staff turnover. "
                          "Evidence links - → changed to https://example.org/a Version 1 → "
                          "changed to - As JSON")


def test_values_have_a_full_width_row_under_their_event(kingston_app: Flask) -> None:
    add_events(kingston_app, 1, new={"narrative": "A long account. " * 20})
    add_events(kingston_app, 1, summary="no values")  # nothing to show: no row for them

    html = admin_client(kingston_app).get("/admin/audit?object_type=thing").get_data(
        as_text=True)

    table = parsed(html).select_one("table.govuk-table.app-audit")
    assert table is not None
    headers = [_text(th) for th in table.select('thead th.govuk-table__header[scope="col"]')]
    assert headers == ["When", "Who", "What", "Item", "Summary"]
    body = _table_body(html)
    kinds = [next(c for c in row["class"] if c.startswith("app-audit__"))
             for row in body.select("tr.govuk-table__row")]
    assert kinds == ["app-audit__event", "app-audit__event", "app-audit__values"]
    [cell] = body.select("tr.app-audit__values > td")
    assert cell.get("colspan") == str(len(headers))
    assert "New values Progress A long account." in _text(body)


def test_the_date_filters_take_dates_as_people_write_them(kingston_app: Flask) -> None:
    with Session(get_engine(kingston_app)) as s:
        for n, day in enumerate((30, 1, 2)):
            s.add(AuditEvent(at=datetime(2026, 11 if day == 30 else 12, day, 12, tzinfo=UTC),
                             actor_label="command line", action="test.event",
                             object_type="thing", object_ref=f"T-{n:03d}"))
        s.commit()
    client = admin_client(kingston_app)

    for written in ("2026-12-01", "01/12/2026", "1/12/2026", "1 December 2026", "1 Dec 2026"):
        response = client.get(f"/admin/audit?object_type=thing&date_from={written}"
                              f"&date_to={written}")
        assert response.status_code == 200, written
        assert refs(response) == ["T-001"], written

    html = client.get("/admin/audit").get_data(as_text=True)
    assert html.count("For example, 1/12/2026 or 2026-12-01") == 2
    wrong = client.get("/admin/audit?date_from=2026-13-01&date_to=1/12/2026")
    assert wrong.status_code == 400
    assert field_error(wrong.get_data(as_text=True), "date_from") == (
        "Date from must be a real date, for example 1/12/2026 or 2026-12-01")
    assert field_error(wrong.get_data(as_text=True), "date_to") is None


@pytest.mark.parametrize(("query", "expected"), [
    ("actor=PRIYA", ["T-004", "T-002", "T-000"]),             # email contains, any case
    ("actor=command+line", ["T-003", "T-001"]),
    ("action=test.other", ["T-003", "T-001"]),
    ("object_ref=t-00", ["T-004", "T-003", "T-002", "T-001", "T-000"]),
    ("object_ref=T-002", ["T-002"]),
    ("date_from=2026-01-03&date_to=2026-01-04", ["T-003", "T-002"]),  # whole days, inclusive
    ("date_from=3/1/2026&date_to=03/01/2026", ["T-002"]),
    ("date_from=2026-01-04", ["T-004", "T-003"]),
    ("date_to=2026-01-01", ["T-000"]),
    ("actor=priya&date_from=2026-01-02", ["T-004", "T-002"]),
    ("object_ref=%25", []),                                     # % is a character, not a pattern
])
def test_audit_filters(kingston_app: Flask, query: str, expected: list[str]) -> None:
    admin_id = user(kingston_app, ADMIN).id
    with Session(get_engine(kingston_app)) as s:
        for n in range(5):
            by_admin = n % 2 == 0
            s.add(AuditEvent(at=datetime(2026, 1, 1 + n, 23, 59, tzinfo=UTC),
                             actor_id=admin_id if by_admin else None,
                             actor_label=ADMIN if by_admin else "command line",
                             action="test.event" if by_admin else "test.other",
                             object_type="thing", object_ref=f"T-{n:03d}"))
        s.commit()
    response = admin_client(kingston_app).get(f"/admin/audit?object_type=thing&{query}")
    assert response.status_code == 200
    assert refs(response) == expected
    if not expected:
        assert "No events match these filters." in text(response)


def test_filters_stay_in_the_form_and_the_action_list_offers_every_action(
        kingston_app: Flask) -> None:
    add_events(kingston_app, 2)
    response = admin_client(kingston_app).get(
        "/admin/audit?actor=command&action=test.event&date_from=2026-01-01")
    html = response.get_data(as_text=True)
    assert 'name="actor" type="text" spellcheck="false" value="command"' in html
    assert '<option value="test.event" selected>' in html
    assert '<option value="plan.loaded">' in html  # every distinct action is offered
    assert 'value="2026-01-01"' in html
    assert 'href="/admin/audit">Clear filters' in html
    for field in ("actor", "action", "object_type", "object_ref", "date_from", "date_to"):
        assert f'<label class="govuk-label" for="{field}">' in html, field


def test_a_wrong_date_is_an_error_beside_the_field(kingston_app: Flask) -> None:
    response = admin_client(kingston_app).get("/admin/audit?date_from=31/02/2026&date_to=x")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'href="#date_from">Date from must be a real date' in html
    assert 'href="#date_to">Date to must be a real date' in html
    assert 'id="date_from-error"' in html
    assert text(response).startswith("Error: Audit trail")


def test_dates_the_wrong_way_round_are_an_error(kingston_app: Flask) -> None:
    response = admin_client(kingston_app).get(
        "/admin/audit?date_from=2026-02-01&date_to=2026-01-01")
    assert response.status_code == 400
    assert "Date to must be the same as or after date from" in text(response)


def test_the_audit_trail_is_paginated_fifty_a_page(kingston_app: Flask) -> None:
    add_events(kingston_app, 120)
    client = admin_client(kingston_app)
    first = client.get("/admin/audit?object_type=thing")
    assert refs(first) == [f"T-{n:03d}" for n in range(119, 69, -1)]
    assert "Matching events: 1 to 50 of 120, newest first" in text(first)
    html = first.get_data(as_text=True)
    assert 'class="govuk-pagination' in html
    # the links keep the filters
    assert 'href="/admin/audit?object_type=thing&amp;page=2" rel="next"' in html
    assert 'aria-current="page"' in html

    third = client.get("/admin/audit?object_type=thing&page=3")
    assert refs(third) == [f"T-{n:03d}" for n in range(19, -1, -1)]
    assert "101 to 120 of 120" in text(third)
    assert 'rel="next"' not in third.get_data(as_text=True)
    assert 'href="/admin/audit?object_type=thing&amp;page=2" rel="prev"' in \
        third.get_data(as_text=True)
    # a page past the end shows the last one; nonsense shows the first
    assert refs(client.get("/admin/audit?object_type=thing&page=99")) == refs(third)
    assert refs(client.get("/admin/audit?object_type=thing&page=abc")) == refs(first)


def test_the_audit_trail_loads_in_a_fixed_number_of_queries(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    admin_id = user(kingston_app, ADMIN).id
    add_events(kingston_app, 3, actor_id=admin_id, actor_label=ADMIN)
    client.get("/admin/audit")
    with counting_queries(kingston_app) as few:
        assert client.get("/admin/audit").status_code == 200
    add_events(kingston_app, 200, actor_id=admin_id, actor_label=ADMIN,
               old={"x": 1}, new={"x": 2})
    with Session(get_engine(kingston_app)) as s:  # actors that are not the admin, too
        for member in ("ben.carter@example.org", "aisha.khan@example.org"):
            s.add(AuditEvent(actor_id=user(kingston_app, member).id, actor_label=member,
                             action="test.event", object_type="thing", object_ref="T"))
        s.commit()
    with counting_queries(kingston_app) as many:
        assert client.get("/admin/audit").status_code == 200
    assert len(many) == len(few) <= 8, many


def test_there_is_no_way_to_change_the_audit_trail(kingston_app: Flask) -> None:
    for rule in kingston_app.url_map.iter_rules():
        if rule.rule.startswith("/admin/audit"):
            assert rule.methods is not None
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    add_events(kingston_app, 1)
    client = admin_client(kingston_app)
    token = csrf(client.get("/account").get_data(as_text=True))
    before = count(kingston_app, AuditEvent)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/admin/audit", data={"csrf_token": token})
        assert response.status_code == 405, method
    assert count(kingston_app, AuditEvent) == before


# -- accounts -----------------------------------------------------------------------------------


def test_the_accounts_table(kingston_app: Flask) -> None:
    from tests.tracker.signing import set_password

    client = admin_client(kingston_app)
    set_password(kingston_app, MEMBER)
    kingston_app.test_cli_runner().invoke(args=["users", "disable", "aisha.khan@example.org"])
    response = client.get("/admin/users")
    assert response.status_code == 200
    table = {row.split(" ")[0] + " " + row.split(" ")[1]: row for row in rows(response)}
    assert len(table) == 54
    assert re.search(r"Ben Carter ben.carter@example.org Action owner Safe Communities .* "
                     r"Active Never$", table["Ben Carter"])
    assert table["Aisha Khan"].endswith("Disabled Never")
    assert table["Helen Marsh"].endswith("No password yet Never")
    assert re.search(r"Priya Shah .* Active \d+ \w+ 20\d\d \d\d:\d\d UTC$", table["Priya Shah"])
    html = response.get_data(as_text=True)
    assert f'href="/admin/users/{user(kingston_app, MEMBER).id}">Ben Carter</a>' in html
    assert '<strong class="govuk-tag govuk-tag--grey">Disabled</strong>' in html
    assert '<caption class="govuk-table__caption govuk-table__caption--m">54 accounts' in html


def test_the_accounts_table_filters_by_role(kingston_app: Flask) -> None:
    response = admin_client(kingston_app).get("/admin/users?role=admin")
    assert [r.split(" Administrator")[0] for r in rows(response)] == [
        "Priya Shah priya.shah@example.org", "Tom Hughes tom.hughes@example.org"]
    assert "2 accounts with the role administrator" in text(response)
    assert '<label class="govuk-label" for="role">' in response.get_data(as_text=True)
    # an unknown role shows everyone rather than an error
    assert len(rows(admin_client(kingston_app).get("/admin/users?role=wizard"))) == 54


def _post(client: FlaskClient, user_id: int, change: str, **data: str) -> Any:
    token = csrf(client.get(f"/admin/users/{user_id}").get_data(as_text=True))
    return client.post(f"/admin/users/{user_id}/{change}", data={"csrf_token": token, **data})


def test_an_admin_creates_an_invitation_link_shown_once(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    member = user(kingston_app, MEMBER)
    response = _post(client, member.id, "link")
    assert response.status_code == 200
    page = text(response)
    assert "Invitation link for Ben Carter" in page
    found = re.search(r"Copy this link and send it to them: "
                      r"http://127\.0\.0\.1:5000(/account/set-password/[\w-]+)", page)
    assert found, page
    assert response.headers["Cache-Control"] == "no-store"
    # shown once: the account page does not show it again
    assert found.group(1) not in client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    # it works
    assert "Welcome, Ben Carter" in text(kingston_app.test_client().get(found.group(1)))

    [event] = [e for e in _events(kingston_app) if e.action == "account.invited"]
    assert event.actor_label == ADMIN and event.actor_id == user(kingston_app, ADMIN).id
    assert event.object_ref == MEMBER
    # a second link replaces the first
    second = re.search(r"(/account/set-password/[\w-]+)",
                       text(_post(client, member.id, "link")))
    assert second and second.group(1) != found.group(1)
    assert kingston_app.test_client().get(found.group(1)).status_code == 404
    assert count(kingston_app, AccountToken, AccountToken.used_at.is_(None)) == 1


def test_an_account_with_a_password_gets_a_reset_link(kingston_app: Flask) -> None:
    from tests.tracker.signing import set_password

    set_password(kingston_app, MEMBER)
    client = admin_client(kingston_app)
    response = _post(client, user(kingston_app, MEMBER).id, "link")
    assert "Password reset link for Ben Carter" in text(response)
    path = re.search(r"(/account/set-password/[\w-]+)", text(response))
    assert path
    assert "Reset your password" in text(kingston_app.test_client().get(path.group(1)))
    assert [e.action for e in _events(kingston_app)][-1] == "account.reset_link"


def _events(app: Flask) -> list[AuditEvent]:
    with Session(get_engine(app)) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.object_type == "account",
                                                       AuditEvent.action != "account.signed_in")
                              .order_by(AuditEvent.id)))


def test_an_admin_disables_and_enables_an_account(kingston_app: Flask) -> None:
    member_browser = signed_in(kingston_app, MEMBER)
    client = admin_client(kingston_app)
    member = user(kingston_app, MEMBER)

    response = _post(client, member.id, "disable")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Ben Carter's account is disabled" in text(page)
    assert "State Disabled" in text(page)
    assert not user(kingston_app, MEMBER).is_active
    assert not is_signed_in(member_browser)  # their session ended at once
    assert sign_in(kingston_app.test_client(), MEMBER).status_code == 400

    response = _post(client, member.id, "enable")
    assert response.status_code == 302
    assert "Ben Carter's account is enabled again." in text(client.get(f"/admin/users/{member.id}"))
    assert user(kingston_app, MEMBER).is_active
    assert sign_in(kingston_app.test_client(), MEMBER, PASSWORD).status_code == 302

    disabled, enabled = [e for e in _events(kingston_app)
                         if e.action in ("account.disabled", "account.enabled")]
    assert (disabled.action, disabled.actor_label, disabled.object_ref) == (
        "account.disabled", ADMIN, MEMBER)
    assert disabled.summary == "1 session ended"
    assert (disabled.old, disabled.new) == ({"is_active": True}, {"is_active": False})
    assert (enabled.action, enabled.actor_label) == ("account.enabled", ADMIN)
    # the change and its audit event are one transaction: both or neither
    with Session(get_engine(kingston_app)) as s:
        reasons = set(s.scalars(select(UserSession.ended_reason)
                                .where(UserSession.user_id == member.id)))
    assert "account disabled" in reasons


def test_an_admin_changes_a_role(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    member = user(kingston_app, MEMBER)
    page = client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert 'name="role" type="radio" value="member" checked' in page
    response = _post(client, member.id, "role", role="board")
    assert response.status_code == 302
    assert "Ben Carter is now: Board member." in text(client.get(response.headers["Location"]))
    assert user(kingston_app, MEMBER).role == "board"
    [changed] = [e for e in _events(kingston_app) if e.action == "account.role_changed"]
    assert changed.actor_label == ADMIN
    assert (changed.old, changed.new) == ({"role": "member"}, {"role": "board"})


def test_a_role_must_be_chosen(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    member = user(kingston_app, MEMBER)
    before = db_fingerprint(kingston_app)["users"]
    for data in ({}, {"role": "emperor"}):
        response = _post(client, member.id, "role", **data)
        assert response.status_code == 400
        assert "There is a problem" in text(response)
        assert 'id="role-error"' in response.get_data(as_text=True)
    assert db_fingerprint(kingston_app)["users"] == before


def test_an_admin_cannot_disable_themselves(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    me = user(kingston_app, ADMIN)
    page = text(client.get(f"/admin/users/{me.id}"))
    assert "You cannot disable your own account" in page and "Disable Priya" not in page
    events_before = count(kingston_app, AuditEvent)

    response = _post(client, me.id, "disable")
    assert response.status_code == 400
    page = text(response)
    assert "There is a problem" in page
    assert "You cannot disable your own account: ask another administrator to do it" in page
    assert user(kingston_app, ADMIN).is_active and is_signed_in(client)
    assert count(kingston_app, AuditEvent) == events_before


def test_an_admin_cannot_remove_their_own_admin_role(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    me = user(kingston_app, ADMIN)
    response = _post(client, me.id, "role", role="board")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    message = "You cannot remove your own administrator role: ask another administrator"
    assert f'href="#role">{message}' in html  # in the error summary ...
    assert message in html.split('id="role-error"')[1].split("</p>")[0]  # ... and beside it
    assert user(kingston_app, ADMIN).role == "admin"
    assert client.get("/admin/users").status_code == 200
    # another admin can
    other = signed_in(kingston_app, OTHER_ADMIN)
    assert _post(other, me.id, "role", role="board").status_code == 302
    assert user(kingston_app, ADMIN).role == "board"
    assert client.get("/admin/users").status_code == 403


def test_admin_forms_without_a_token_are_refused(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    member = user(kingston_app, MEMBER)
    client.get("/admin/users")
    before = db_fingerprint(kingston_app)
    for change in ("disable", "enable", "link", "role"):
        response = client.post(f"/admin/users/{member.id}/{change}", data={"role": "admin"})
        assert response.status_code == 400, change
        assert "Sorry, there is a problem with your request" in text(response)
    after = db_fingerprint(kingston_app)
    for table in ("users", "account_tokens", "audit_events", "user_sessions"):
        assert after[table] == before[table], table


def test_an_unknown_account_is_not_found(kingston_app: Flask) -> None:
    client = admin_client(kingston_app)
    assert client.get("/admin/users/9999").status_code == 404
    token = csrf(client.get("/admin/users/1").get_data(as_text=True))
    assert client.post("/admin/users/9999/disable", data={"csrf_token": token}
                       ).status_code == 404
