"""Request ids and the request log: each answer carries an id (a proxy's, when it is safe,
else one made here) in its header, on its error page and in the security log, and is
written as one line, text or JSON, with no query string and no token in it.

The first tests run in this process on the Kingston plan; the last start real ``tracker
serve`` processes (waitress, then gunicorn with two workers) with ``TRACKER_LOG_FORMAT=json``
and read what they wrote to standard error.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from tests.tracker.helpers import db, forms
from tests.tracker.servers import TRACKER, environment, free_port, run_tracker
from tests.tracker.signing import MEMBER, set_password, sign_in, signed_in, text, user
from tracker import access as access_levels
from tracker import logs
from tracker.config import ConfigError, load_config
from tracker.models import SecurityEvent

MADE = re.compile(r"[0-9a-f]{16}")
TODAY = date(2026, 11, 25)


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="tracker.requests")
    caplog.set_level(logging.INFO, logger="tracker.security")
    return caplog


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tracker.requests"]


def test_each_answer_has_an_id_of_its_own(kingston_app: Flask) -> None:
    client = kingston_app.test_client()
    first, second = client.get("/healthz"), client.get("/")
    assert MADE.fullmatch(first.headers["X-Request-ID"])
    assert MADE.fullmatch(second.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize("sent", ["abc123", "7f9c2ba4-e88f-11e4-a1b2-0800200c9a66",
                                  "1-67891233.abcdef_012345", "x" * 64])
def test_a_proxys_safe_id_is_kept(kingston_app: Flask, sent: str) -> None:
    response = kingston_app.test_client().get("/healthz", headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", ["", "x" * 65, "two words", "<script>", "id;drop",
                                  "tab\there", "caf\u00e9", "a/b", "100%", "Root=1-abc"])
def test_an_unsafe_id_is_replaced(kingston_app: Flask, sent: str) -> None:
    response = kingston_app.test_client().get("/healthz", headers={"X-Request-ID": sent})
    assert MADE.fullmatch(response.headers["X-Request-ID"])


def test_a_page_not_found_shows_its_reference(kingston_app: Flask,
                                              access: pytest.LogCaptureFixture) -> None:
    response = kingston_app.test_client().get("/no-such-page")
    assert response.status_code == 404
    reference = response.headers["X-Request-ID"]
    assert f"give this reference: {reference}" in text(response)
    [line] = _access_lines(access)
    assert line.getMessage().startswith("GET /no-such-page 404 ")
    assert f"request={reference} user=-" in line.getMessage()


def test_a_failed_page_shows_its_reference(kingston_app: Flask,
                                           access: pytest.LogCaptureFixture) -> None:
    def fails() -> str:
        raise RuntimeError("a fault in the page")

    kingston_app.add_url_rule("/test-fails", "test_fails", access_levels.public(fails))
    kingston_app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as production answers
    response = kingston_app.test_client().get("/test-fails",
                                              headers={"X-Request-ID": "proxy-500"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "proxy-500"
    assert "give this reference: proxy-500" in text(response)
    [line] = _access_lines(access)
    assert line.access["status"] == 500 and line.access["request_id"] == "proxy-500"


def test_the_security_log_line_has_the_id(kingston_app: Flask,
                                          access: pytest.LogCaptureFixture) -> None:
    set_password(kingston_app, MEMBER)
    guesser = kingston_app.test_client()
    guesser.environ_base["HTTP_X_REQUEST_ID"] = "edge-42"
    assert sign_in(guesser, MEMBER, "a-wrong-guess-here").status_code == 400
    [security] = [r for r in access.records if r.name == "tracker.security"]
    assert "sign_in.failed" in security.getMessage()
    assert "request=edge-42 " in security.getMessage()
    posted = [r for r in _access_lines(access) if r.access["method"] == "POST"]
    assert [r.access["request_id"] for r in posted] == ["edge-42"]

    longer = "a" * 40 + "-" + "b" * 20  # longer than the table's column: kept in the detail
    guesser.environ_base["HTTP_X_REQUEST_ID"] = longer
    sign_in(guesser, MEMBER, "another-wrong-guess")
    with db(kingston_app) as s:
        event = s.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc())).first()
        assert event is not None
        assert event.request_id == longer[:32] and longer in event.detail
    assert any(f"request={longer} " in r.getMessage() for r in access.records
               if r.name == "tracker.security")


def test_one_line_per_request_without_secrets(kingston_app: Flask,
                                              access: pytest.LogCaptureFixture) -> None:
    client = kingston_app.test_client()
    client.get("/?token=s3cret-in-the-query&page=2")
    client.get("/account/set-password/s3cret-in-the-path")
    client.get("/sign-in/sso/callback?code=s3cret-code&state=s3cret-state")
    lines = _access_lines(access)
    assert len(lines) == 3
    assert [r.access["path"] for r in lines] == [
        "/", "/account/set-password/<token>", "/sign-in/sso/callback"]
    for record in lines:
        assert "s3cret" not in record.getMessage()
        assert "s3cret" not in json.dumps(record.access)
        assert set(record.access) == set(logs.ACCESS_KEYS)
        assert record.access["duration_ms"] >= 0


def test_the_line_names_the_signed_in_user(kingston_app: Flask,
                                           access: pytest.LogCaptureFixture) -> None:
    member = signed_in(kingston_app, MEMBER)
    access.clear()
    assert member.get("/").status_code == 200
    [line] = _access_lines(access)
    assert line.access["user_id"] == user(kingston_app, MEMBER).id
    assert line.getMessage().endswith(f"user={line.access['user_id']}")


def test_json_lines_have_stable_keys(kingston_app: Flask,
                                     access: pytest.LogCaptureFixture) -> None:
    kingston_app.test_client().get("/healthz", headers={"X-Request-ID": "json-1"})
    [record] = _access_lines(access)
    line = json.loads(logs.JsonLines().format(record))
    assert list(line) == [*logs.JSON_KEYS, *logs.ACCESS_KEYS]
    assert (line["logger"], line["level"], line["status"], line["request_id"]) == (
        "tracker.requests", "INFO", 200, "json-1")


def test_a_log_format_not_known_is_refused(tmp_path: Path) -> None:
    assert load_config(str(tmp_path), {"TRACKER_LOG_FORMAT": "JSON"})["LOG_FORMAT"] == "json"
    assert load_config(str(tmp_path), {})["LOG_FORMAT"] == "text"
    with pytest.raises(ConfigError, match="TRACKER_LOG_FORMAT='xml' is not known: use text"):
        load_config(str(tmp_path), {"TRACKER_LOG_FORMAT": "xml"})
    refused = subprocess.run(
        [str(TRACKER), "serve", "--port", str(free_port())],
        env=environment(f"sqlite:///{tmp_path / 'refused.db'}", TODAY,
                        TRACKER_LOG_FORMAT="xml"),
        capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "TRACKER_LOG_FORMAT='xml' is not known" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.fixture
def json_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    done = run_tracker(url, TODAY, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    return url


def _json_server(database: str, folder: Path, *args: str) -> Iterator[tuple[str, Path]]:
    port = free_port()
    errors, output = folder / f"stderr-{port}.log", folder / f"stdout-{port}.log"
    with open(errors, "wb") as err, open(output, "wb") as out:
        process = subprocess.Popen(
            [str(TRACKER), "serve", "--port", str(port), *args],
            env=environment(database, TODAY, TRACKER_LOG_FORMAT="json"), stdout=out,
            stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, errors.read_text(errors="replace")
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet
                pass
            assert time.monotonic() < deadline, errors.read_text(errors="replace")
            time.sleep(0.1)
        yield url, errors
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _lines_once_written(log: Path, wanted: set[str]) -> list[dict[str, object]]:
    """Every line of the log as JSON, once a line for each of the ``wanted`` request ids
    is there (the server writes each as its request ends)."""
    deadline = time.monotonic() + 30
    while True:
        raw = [line for line in log.read_text(encoding="utf-8").splitlines() if line]
        lines = [json.loads(line) for line in raw]  # every line is one JSON object
        seen = {str(line.get("request_id")) for line in lines}
        if wanted <= seen:
            return lines
        assert time.monotonic() < deadline, f"no lines for {wanted - seen} in:\n{raw}"
        time.sleep(0.1)


def test_a_served_tracker_writes_json_lines(json_database: str, tmp_path: Path) -> None:
    for url, log in _json_server(json_database, tmp_path):
        http = requests.Session()
        assert http.get(url + "/healthz?token=s3cret-token",
                        headers={"X-Request-ID": "json-health"}).status_code == 200
        assert http.get(url + "/no-such-page",
                        headers={"X-Request-ID": "json-404"}).status_code == 404
        page = http.get(url + "/sign-in")
        [token] = [f.get("csrf_token") for f in forms(page.text) if f.get("csrf_token")]
        refused = http.post(url + "/sign-in", headers={"X-Request-ID": "json-sign-in"},
                            data={"csrf_token": token, "email": "nobody@example.org",
                                  "password": "s3cret-password-guess"})
        assert refused.status_code == 400
        lines = _lines_once_written(log, {"json-health", "json-404", "json-sign-in"})
    for line in lines:
        assert list(line)[:4] == list(logs.JSON_KEYS)
    access = {line["request_id"]: line for line in lines if line["logger"] == "tracker.requests"}
    assert set(logs.ACCESS_KEYS) <= set(access["json-health"])
    assert (access["json-health"]["path"], access["json-health"]["status"]) == ("/healthz", 200)
    assert (access["json-404"]["path"], access["json-404"]["status"]) == ("/no-such-page", 404)
    assert access["json-sign-in"]["method"] == "POST"
    [security] = [line for line in lines if line["logger"] == "tracker.security"]
    assert security["request_id"] == "json-sign-in"
    assert "request=json-sign-in" in str(security["message"])
    assert "s3cret" not in log.read_text(encoding="utf-8")


def test_gunicorn_writes_each_request_once(json_database: str, tmp_path: Path) -> None:
    for url, log in _json_server(json_database, tmp_path, "--workers", "2", "--threads", "2"):
        for number in range(4):
            answer = requests.get(url + "/healthz", headers={"X-Request-ID": f"once-{number}"})
            assert answer.headers["X-Request-ID"] == f"once-{number}"
        lines = _lines_once_written(log, {f"once-{n}" for n in range(4)})
    ids = [line["request_id"] for line in lines if line["logger"] == "tracker.requests"
           and str(line["request_id"]).startswith("once-")]
    assert sorted(ids) == [f"once-{n}" for n in range(4)]
