"""Pages only read: every GET (and HEAD) route, with every role, leaves the data as it was.

Walked on the demo's history on the day the next quarter's update window opens, when a page
that worked statuses out for the newly opened quarter would have stored them. Only the
bookkeeping a page may write (tracker.db.WRITABLE_ON_READ: sign-in sessions, held form
text, pack builds, board pages drawn) may change. The read API's usage log is the one
exception of the API: every request made with a token is logged, and nothing else is written.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from tests.conftest import db_fingerprint
from tests.tracker.api_support import bearer, make_token
from tests.tracker.helpers import pin_today
from tests.tracker.oidc import configure
from tests.tracker.servers import free_port
from tests.tracker.test_route_walk import ROLES, _client, _people, _url
from tracker.db import WRITABLE_ON_READ

NEXT_WINDOW = date(2026, 12, 17)  # 2026/27 Q3's update window opens today
QUERIES = ("", "?quarter=2025-26-Q2&group=communities&status=red&state=resolved&page=2")


def _data(app: Flask) -> dict[str, list[tuple[object, ...]]]:
    return {table: rows for table, rows in db_fingerprint(app).items()
            if table not in WRITABLE_ON_READ}


def test_no_page_writes_data_for_any_role(kingston_app: Flask,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    demo = kingston_app.test_cli_runner().invoke(args=["demo", "--today", "2026-11-25"])
    assert demo.exit_code == 0, demo.output
    people, action, update = _people(kingston_app)
    pin_today(monkeypatch, NEXT_WINDOW)
    # single sign-on set up (to a provider that does not answer), so that its two pages
    # answer as they do for real: a callback that is not a sign-in writes nothing but the
    # security log (a real sign-in's writes are in test_sso)
    configure(kingston_app, f"http://127.0.0.1:{free_port()}")
    rules = [r for r in kingston_app.url_map.iter_rules()
             if r.endpoint != "static" and "GET" in r.methods]
    clients = {role: _client(kingston_app, role, people)[0] for role in ROLES}  # signed in
    urls = [_url(kingston_app, rule, action, update, people) for rule in rules]  # (and samples)
    before = _data(kingston_app)
    answered = 0
    for role, client in clients.items():
        for base in urls:
            for query, method in [(q, "GET") for q in QUERIES] + [("", "HEAD")]:
                response = client.open(base + query, method=method)
                assert response.status_code < 500, (role, method, base + query)
                answered += 1
    assert answered > 500
    after = _data(kingston_app)
    changed = sorted(table for table in before if before[table] != after[table])
    assert changed == [], f"GET requests changed {changed}"

    # the read API with a token: it logs each use (an exception written down in
    # tracker.db.WRITABLE_ON_READ) and writes nothing else, not even to its token
    headers = bearer(make_token(kingston_app))
    kingston_app.config["API_RATE_LIMIT"] = 10_000
    api = [base for base in urls if base.startswith("/api/")]
    assert len(api) >= 12
    before = db_fingerprint(kingston_app)
    client = kingston_app.test_client()
    for base in api:
        for query, method in [(q, "GET") for q in QUERIES] + [("", "HEAD")]:
            response = client.open(base + query, method=method, headers=headers)
            assert response.status_code < 500, (method, base + query)
    after = db_fingerprint(kingston_app)
    changed = sorted(table for table in before if before[table] != after[table])
    assert changed == ["api_token_uses"]
    logged = [base for base in api if base != "/api/v1/openapi.json"]  # public: no token
    assert len(after["api_token_uses"]) == len(logged) * (len(QUERIES) + 1)
