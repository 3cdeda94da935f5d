"""The read API and its tokens: what a program holding a token (or not) is answered.

Tokens: a good one reads; none, a malformed one, a forged one, an expired one and a revoked
one are refused 401 with a JSON error and ``WWW-Authenticate``; a write is refused 405
whatever the token; the rate limit answers 429 with ``Retry-After``; every use is logged.
The API shows the board's view of people (names), never an email address or a secret.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import count, db_fingerprint
from tests.tracker.api_support import bearer, make_token
from tests.tracker.helpers import page as parsed
from tests.tracker.signing import ADMIN, BOARD, signed_in
from tracker.db import get_engine
from tracker.models import ActionStatus, ApiToken, ApiTokenUse, AuditEvent, Escalation, User
from tracker.services import api_tokens

PAGES = ("/api/v1/plan", "/api/v1/actions", "/api/v1/statuses", "/api/v1/updates",
         "/api/v1/kpis", "/api/v1/escalations", "/api/v1/feed/action-statuses.csv",
         "/api/v1/feed/kpi-values.json", "/api/v1/feed/escalations.csv")


def _refused(response, code: str, status: int = 401) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="tracker API"')


def _uses(app: Flask) -> list[tuple[int, str, str, int]]:
    with Session(get_engine(app)) as s:
        return [tuple(row) for row in s.execute(  # type: ignore[misc]
            select(ApiTokenUse.token_id, ApiTokenUse.method, ApiTokenUse.path,
                   ApiTokenUse.status).order_by(ApiTokenUse.id))]


# -- tokens ------------------------------------------------------------------------------------


def test_a_token_reads_every_page(demo_app: Flask) -> None:
    client = demo_app.test_client()
    headers = bearer(make_token(demo_app))
    for page in PAGES:
        response = client.get(page, headers=headers)
        assert response.status_code == 200, page
        assert response.headers["Cache-Control"] == "private, no-cache"


def test_without_a_token_or_with_a_malformed_one_nothing_is_read(demo_app: Flask) -> None:
    client = demo_app.test_client()
    _refused(client.get("/api/v1/plan"), "token_missing")
    _refused(client.get("/api/v1/plan", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
             "token_missing")
    _refused(client.get("/api/v1/plan", headers={"Authorization": "Bearer "}), "token_missing")
    _refused(client.get("/api/v1/plan", headers=bearer("not-a-token")), "token_invalid")
    _refused(client.get("/api/v1/feed/escalations.csv", headers=bearer("x" * 5000)),
             "token_invalid")
    assert _uses(demo_app) == []  # no token, nothing to log it against


def test_a_forged_token_is_refused(demo_app: Flask) -> None:
    """One of the right form and with a real token's prefix, but not a token made here."""
    real = make_token(demo_app)
    forged = real[:api_tokens.PREFIX_LENGTH] + "A" * (len(real) - api_tokens.PREFIX_LENGTH)
    assert forged != real
    client = demo_app.test_client()
    _refused(client.get("/api/v1/actions", headers=bearer(forged)), "token_invalid")
    _refused(client.get("/api/v1/actions", headers=bearer(real + "x")), "token_invalid")
    assert _uses(demo_app) == []


def test_an_expired_token_is_refused(demo_app: Flask) -> None:
    made = datetime.now(UTC) - timedelta(days=31)
    secret = make_token(demo_app, days=30, now=made)  # expired a day ago
    response = demo_app.test_client().get("/api/v1/plan", headers=bearer(secret))
    _refused(response, "token_expired")
    assert "expired" in response.get_json()["error"]["message"]
    token_id = _token_id(demo_app, secret)
    assert _uses(demo_app) == [(token_id, "GET", "/api/v1/plan", 401)]


def test_a_revoked_token_is_refused_from_then_on(demo_app: Flask) -> None:
    secret = make_token(demo_app)
    client = demo_app.test_client()
    assert client.get("/api/v1/plan", headers=bearer(secret)).status_code == 200
    with demo_app.app_context(), Session(get_engine(demo_app)) as s:
        token = s.get(ApiToken, _token_id(demo_app, secret))
        assert token is not None
        api_tokens.revoke(s, "command line", token)
        s.commit()
    _refused(client.get("/api/v1/plan", headers=bearer(secret)), "token_revoked")
    assert [status for *_, status in _uses(demo_app)] == [200, 401]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_token_cannot_write(demo_app: Flask, method: str) -> None:
    secret = make_token(demo_app)
    before = db_fingerprint(demo_app)
    client = demo_app.test_client()
    for page in ("/api/v1/plan", "/api/v1/statuses", "/api/v1/escalations"):
        response = client.open(page, method=method, headers=bearer(secret),
                               json={"colour": "green", "resolution": "done"})
        _refused(response, "method_not_allowed", 405)
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
        assert "POST" not in response.headers["Allow"]
    assert db_fingerprint(demo_app) == before  # not even the usage log: nothing was run


def test_a_signed_in_session_does_not_open_the_api(demo_app: Flask) -> None:
    """The API reads tokens alone: a board member's browser, signed in, is refused, so no
    other site can make that browser read the API (and there is nothing to forge)."""
    client = signed_in(demo_app, BOARD)
    assert client.get("/board").status_code == 200  # signed in indeed
    _refused(client.get("/api/v1/plan"), "token_missing")


def test_the_rate_limit_is_kept_per_token_in_the_database(demo_app: Flask) -> None:
    demo_app.config["API_RATE_LIMIT"] = 3
    first, second = make_token(demo_app, "one"), make_token(demo_app, "two")
    client = demo_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/plan", headers=bearer(first)).status_code == 200
    response = client.get("/api/v1/plan", headers=bearer(first))
    _refused(response, "rate_limited", 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    # another token is counted on its own; and another app (a second worker) sees the count
    assert client.get("/api/v1/plan", headers=bearer(second)).status_code == 200
    from tests.conftest import _make_app

    worker = _make_app(get_engine(demo_app).url.database)  # type: ignore[arg-type]
    worker.config["API_RATE_LIMIT"] = 3
    _refused(worker.test_client().get("/api/v1/plan", headers=bearer(first)),
             "rate_limited", 429)
    get_engine(worker).dispose()
    # uses older than the window no longer count
    with Session(get_engine(demo_app)) as s:
        for use in s.scalars(select(ApiTokenUse)):
            use.used_at -= api_tokens.RATE_WINDOW
        s.commit()
    assert client.get("/api/v1/plan", headers=bearer(first)).status_code == 200


def test_every_use_is_logged(demo_app: Flask) -> None:
    secret = make_token(demo_app)
    client = demo_app.test_client()
    client.get("/api/v1/statuses?quarter=2025-26-Q1&page=2", headers=bearer(secret))
    client.head("/api/v1/kpis", headers=bearer(secret))
    client.get("/api/v1/statuses?quartr=x", headers=bearer(secret))
    token_id = _token_id(demo_app, secret)
    assert _uses(demo_app) == [
        (token_id, "GET", "/api/v1/statuses?quarter=2025-26-Q1&page=2", 200),
        (token_id, "HEAD", "/api/v1/kpis", 200),
        (token_id, "GET", "/api/v1/statuses?quartr=x", 400)]


def test_the_usage_log_is_kept_a_year(demo_app: Flask) -> None:
    secret = make_token(demo_app)
    client = demo_app.test_client()
    client.get("/api/v1/plan", headers=bearer(secret))
    client.get("/api/v1/kpis", headers=bearer(secret))
    with Session(get_engine(demo_app)) as s:
        old = s.scalars(select(ApiTokenUse).order_by(ApiTokenUse.id)).first()
        assert old is not None
        old.used_at -= timedelta(days=366)
        s.commit()
    result = demo_app.test_cli_runner().invoke(args=["jobs", "run", "purge"])
    assert result.exit_code == 0 and "1 API token uses" in result.output, result.output
    assert [path for _, _, path, _ in _uses(demo_app)] == ["/api/v1/kpis"]


# -- what the API answers -----------------------------------------------------------------------


def _token_id(app: Flask, secret: str) -> int:
    with Session(get_engine(app)) as s:
        found = s.scalar(select(ApiToken.id).where(
            ApiToken.token_hash == api_tokens.token_hash(secret)))
        assert found is not None
        return found


def test_lists_are_paged_with_headers_that_say_where(demo_app: Flask) -> None:
    headers = bearer(make_token(demo_app))
    client = demo_app.test_client()
    statuses = count(demo_app, ActionStatus, ActionStatus.quarter == "2025/26 Q1")
    assert statuses > 20
    response = client.get("/api/v1/statuses?quarter=2025-26-Q1&page=2&page_size=10",
                          headers=headers)
    rows = response.get_json()
    assert len(rows) == 10 and {row["quarter"] for row in rows} == {"2025/26 Q1"}
    meta = json.loads(response.headers["X-Pagination"])
    assert meta["total"] == statuses and meta["page"] == 2 and meta["previous_page"] == 1
    assert '</api/v1/statuses?quarter=2025-26-Q1&page_size=10&page=3>; rel="next"' in \
        response.headers["Link"]
    seen = set()
    for page in range(1, meta["total_pages"] + 1):
        seen |= {row["action_ref"] for row in client.get(
            f"/api/v1/statuses?quarter=2025/26 Q1&page={page}&page_size=10",
            headers=headers).get_json()}
    assert len(seen) == statuses  # every action once, across the pages
    too_big = client.get("/api/v1/statuses?page_size=5000", headers=headers)
    _refused(too_big, "unprocessable_entity", 422)
    assert "page_size" in too_big.get_json()["error"]["details"]["query"]
    _refused(client.get("/api/v1/escalations?state=sideways", headers=headers),
             "unprocessable_entity", 422)
    _refused(client.get("/api/v1/kpis?page=2", headers=headers), "unknown_parameter", 400)


def test_an_etag_answers_304_until_the_data_changes(demo_app: Flask) -> None:
    headers = bearer(make_token(demo_app))
    client = demo_app.test_client()
    first = client.get("/api/v1/escalations", headers=headers)
    tag = first.headers["ETag"]
    again = client.get("/api/v1/escalations", headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/api/v1/escalations?page=2",
                      headers={**headers, "If-None-Match": tag}).status_code == 200
    admin = signed_in(demo_app, ADMIN)  # an escalation resolved: the data changed
    with Session(get_engine(demo_app)) as s:
        open_id = s.scalar(select(Escalation.id).where(Escalation.resolved_at.is_(None))
                           .order_by(Escalation.id))
    page = admin.get(f"/escalations/{open_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    resolved = admin.post(f"/escalations/{open_id}",
                          data={"csrf_token": token.group(1), "note": "Agreed at the board"})
    assert resolved.status_code in (200, 302)
    after = client.get("/api/v1/escalations", headers={**headers, "If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag
    assert any(row["id"] == open_id and not row["is_open"] for row in after.get_json())


def test_people_are_shown_by_name_never_by_email_or_secret(demo_app: Flask) -> None:
    headers = bearer(make_token(demo_app))
    client = demo_app.test_client()
    with Session(get_engine(demo_app)) as s:
        people = list(s.execute(select(User.email, User.name, User.password_hash,
                                       User.totp_secret)))
    names = {name for _email, name, *_ in people}
    every = ""
    for page in PAGES:
        every += client.get(page + ("?page_size=1000" if "feed" not in page and page not in (
            "/api/v1/plan", "/api/v1/kpis") else ""), headers=headers).get_data(as_text=True)
    for email, _name, password_hash, totp_secret in people:
        assert email not in every
        assert not password_hash or password_hash not in every
        assert not totp_secret or totp_secret not in every
    assert "@" not in every.replace("@example", "")  # no address of any other form either
    assert sum(name in every for name in names) >= 5  # owners and authors, by name


def test_the_number_of_queries_does_not_grow_with_the_plan(demo_app: Flask) -> None:
    headers = bearer(make_token(demo_app))
    client = demo_app.test_client()
    client.get("/api/v1/plan", headers=headers)  # the plan's shape, read once per process
    counts = {}
    for page in PAGES:
        for size in ("1", "1000"):
            url = page + (f"?page_size={size}" if page in (
                "/api/v1/actions", "/api/v1/statuses", "/api/v1/updates",
                "/api/v1/escalations") else "")
            queries, response = _counted(demo_app, client, url, headers)
            assert response.status_code == 200, url
            counts[url] = queries
    # a page of one row and a page of every row cost the same: no query per row
    for page in ("/api/v1/actions", "/api/v1/statuses", "/api/v1/updates",
                 "/api/v1/escalations"):
        assert counts[f"{page}?page_size=1"] == counts[f"{page}?page_size=1000"], counts
    assert max(counts.values()) <= 12, counts


def _counted(app: Flask, client, url: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    seen: list[str] = []

    def note(*_args: object) -> None:
        seen.append("q")

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(url, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen), response


def test_the_document_is_openapi_3_1_and_public(demo_app: Flask) -> None:
    response = demo_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "An API token made on /admin/api-tokens"}
    paths = set(document["paths"])
    assert {"/api/v1/plan", "/api/v1/statuses", "/api/v1/feed/kpi-values.csv"} <= paths
    assert all(set(ops) <= {"get", "parameters"} for ops in document["paths"].values())


# -- admin pages and the command line -----------------------------------------------------------


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_an_admin_makes_a_token_that_is_shown_once(demo_app: Flask) -> None:
    admin = signed_in(demo_app, ADMIN)
    assert 'href="/admin/api-tokens"' in admin.get("/admin").get_data(as_text=True)
    page = admin.get("/admin/api-tokens")
    assert page.status_code == 200 and "There are no API tokens yet" in page.get_data(
        as_text=True)
    made = admin.post("/admin/api-tokens", data={
        "csrf_token": _csrf(page.get_data(as_text=True)), "purpose": "Power BI board report",
        "days": "90"})
    assert made.status_code == 200
    secret = parsed(made.get_data(as_text=True)).find("code", id="api-token")
    assert secret is not None
    token = secret.get_text().strip()
    assert demo_app.test_client().get("/api/v1/plan", headers=bearer(token)).status_code == 200
    listing = admin.get("/admin/api-tokens").get_data(as_text=True)
    assert token not in listing  # never shown again
    assert token[:api_tokens.PREFIX_LENGTH] + "…" in listing
    assert "Power BI board report" in listing and "Active" in listing
    with Session(get_engine(demo_app)) as s:
        row = s.scalars(select(ApiToken)).one()
        assert row.token_hash == api_tokens.token_hash(token) and token not in repr(row)
        assert row.expires_at - row.created_at == timedelta(days=90)
        assert row.created_by_label == ADMIN
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "api_token.created", AuditEvent.actor_label == ADMIN)) == 1


@pytest.mark.parametrize(("purpose", "days", "problem"), [
    ("", "30", "Enter what the token is for"),
    ("Excel", "0", "A token lasts from 1 to 366 days"),
    ("Excel", "400", "A token lasts from 1 to 366 days"),
    ("Excel", "soon", "Enter how many days the token lasts"),
])
def test_a_token_needs_a_purpose_and_a_bounded_expiry(demo_app: Flask, purpose: str, days: str,
                                                      problem: str) -> None:
    admin = signed_in(demo_app, ADMIN)
    token = _csrf(admin.get("/admin/api-tokens").get_data(as_text=True))
    response = admin.post("/admin/api-tokens", data={"csrf_token": token, "purpose": purpose,
                                                     "days": days})
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert count(demo_app, ApiToken) == 0


def test_an_admin_revokes_a_token(demo_app: Flask) -> None:
    secret = make_token(demo_app)
    token_id = _token_id(demo_app, secret)
    admin = signed_in(demo_app, ADMIN)
    listing = admin.get("/admin/api-tokens").get_data(as_text=True)
    assert admin.post(f"/admin/api-tokens/{token_id}/revoke").status_code == 400  # no CSRF
    assert demo_app.test_client().get("/api/v1/plan", headers=bearer(secret)).status_code \
        == 200
    done = admin.post(f"/admin/api-tokens/{token_id}/revoke",
                      data={"csrf_token": _csrf(listing)}, follow_redirects=True)
    assert done.status_code == 200 and "is revoked" in done.get_data(as_text=True)
    assert "Revoked" in done.get_data(as_text=True)
    _refused(demo_app.test_client().get("/api/v1/plan", headers=bearer(secret)),
             "token_revoked")
    assert count(demo_app, AuditEvent, AuditEvent.action == "api_token.revoked") == 1


def test_the_command_line_makes_lists_and_revokes_tokens(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    made = runner.invoke(args=["api-token", "create", "--purpose", "Data warehouse",
                               "--expires-in-days", "30"])
    assert made.exit_code == 0, made.output
    secret = re.search(r"(cspt_\S+)", made.output)
    assert secret is not None
    assert demo_app.test_client().get("/api/v1/plan", headers=bearer(secret.group(1))
                                      ).status_code == 200
    listed = runner.invoke(args=["api-token", "list"])
    assert listed.exit_code == 0 and "Data warehouse" in listed.output
    assert secret.group(1) not in listed.output
    prefix = secret.group(1)[:api_tokens.PREFIX_LENGTH]
    assert prefix in listed.output and "active" in listed.output
    revoked = runner.invoke(args=["api-token", "revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(args=["api-token", "list"]).output
    refused = runner.invoke(args=["api-token", "create", "--purpose", "Too long",
                                  "--expires-in-days", "400"])
    assert refused.exit_code != 0 and "1 to 366 days" in refused.output
    assert runner.invoke(args=["api-token", "revoke", "cspt_nothing"]).exit_code != 0
