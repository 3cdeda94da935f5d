"""What an attacker, or a careless setting, meets: production refuses guessable keys, plain
HTTP and the demo; addresses with impossible ids are pages not found; a refused
configuration is one line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.tracker.helpers import db
from tests.tracker.signing import ADMIN, signed_in
from tracker import create_app
from tracker.config import ConfigError, load_config
from tracker.db import get_engine
from tracker.models import ActionUpdate, User

KEY = secrets.token_hex(32)
PRODUCTION = {"TRACKER_ENV": "production", "TRACKER_SECRET_KEY": KEY}
TRACKER = str(Path(sys.executable).with_name("tracker"))


@pytest.mark.parametrize("address", [
    "/escalations/99999999999999999999999", "/admin/users/99999999999999999999999",
    "/admin/outbox/99999999999999999999999", "/escalations/9223372036854775808",
    "/admin/users/0",
])
def test_an_id_no_database_can_hold_is_a_page_not_found(kingston_app: Flask,
                                                         address: str) -> None:
    client = signed_in(kingston_app, ADMIN)
    response = client.get(address)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_the_largest_id_a_database_holds_is_looked_up(kingston_app: Flask) -> None:
    client = signed_in(kingston_app, ADMIN)
    assert client.get("/admin/users/9223372036854775807").status_code == 404


@pytest.mark.parametrize("secret", ["a" * 36, "ab" * 20, "password" * 5, "x" * 31 + "yz"])
def test_production_refuses_a_secret_key_that_is_easy_to_guess(tmp_path: Path,
                                                               secret: str) -> None:
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY is too easy to guess"):
        load_config(str(tmp_path), {**PRODUCTION, "TRACKER_SECRET_KEY": secret})


@pytest.mark.parametrize("secret", [secrets.token_hex(32), secrets.token_urlsafe(32),
                                    secrets.token_urlsafe(48)])
def test_production_takes_a_random_secret_key(tmp_path: Path, secret: str) -> None:
    config = load_config(str(tmp_path), {**PRODUCTION, "TRACKER_SECRET_KEY": secret})
    assert config["SECRET_KEY"] == secret


def test_production_is_https_with_a_host_only_cookie(tmp_path: Path) -> None:
    config = load_config(str(tmp_path), PRODUCTION)
    assert config["HTTPS"] is True and config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"] == "__Host-tracker_session"
    for off in ("0", "false", "off"):
        with pytest.raises(ConfigError, match="TRACKER_HTTPS=0 is refused in production"):
            load_config(str(tmp_path), {**PRODUCTION, "TRACKER_HTTPS": off})
    with pytest.raises(ConfigError, match="TRACKER_HTTPS='maybe' is not on or off"):
        load_config(str(tmp_path), {**PRODUCTION, "TRACKER_HTTPS": "maybe"})
    development = load_config(str(tmp_path), {})
    assert development["SESSION_COOKIE_NAME"] == "tracker_session"
    assert development["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(("environ", "says"), [
    ({"TRACKER_ENV": "production"}, "TRACKER_SECRET_KEY must be set in production"),
    ({**PRODUCTION, "TRACKER_SECRET_KEY": "a" * 36}, "TRACKER_SECRET_KEY is too easy"),
    ({**PRODUCTION, "TRACKER_HTTPS": "0"}, "TRACKER_HTTPS=0 is refused in production"),
])
@pytest.mark.parametrize("command", [["db", "upgrade"], ["--help"], ["users", "list"]])
def test_a_refused_configuration_is_one_line_not_a_traceback(
        tmp_path: Path, environ: dict[str, str], says: str, command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(environ, TRACKER_DATABASE_URL=f"sqlite:///{tmp_path / 'refused.db'}")
    done = subprocess.run([TRACKER, *command], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracker: the configuration was refused: ")
    assert says in lines[0]
    assert not (tmp_path / "refused.db").exists()  # nothing was created


def _production_app(kingston_app: Flask, **extra: Any) -> Flask:
    return create_app({"ENV_NAME": "production", "TESTING": True, "SECRET_KEY": KEY,
                       "DATABASE_URL": kingston_app.config["DATABASE_URL"], "HTTPS": True,
                       "SESSION_COOKIE_SECURE": True,
                       "SESSION_COOKIE_NAME": "__Host-tracker_session", **extra})


def test_production_answers_plain_http_with_a_page_saying_so(kingston_app: Flask) -> None:
    app = _production_app(kingston_app)
    try:
        client = app.test_client()
        plain = client.get("/sign-in")
        assert plain.status_code == 400
        assert "served over HTTPS only" in plain.get_data(as_text=True)
        assert not plain.headers.getlist("Set-Cookie")  # no session, no CSRF token
        assert plain.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        secure = client.get("/sign-in", base_url="https://localhost")
        assert secure.status_code == 200
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        get_engine(app).dispose()


def test_behind_a_trusted_proxy_its_https_counts(kingston_app: Flask) -> None:
    app = _production_app(kingston_app, PROXIES=1)
    try:
        client = app.test_client()
        proxied = client.get("/sign-in", headers={"X-Forwarded-Proto": "https"})
        assert proxied.status_code == 200
        assert client.get("/sign-in", headers={"X-Forwarded-Proto": "http"}).status_code == 400
    finally:
        get_engine(app).dispose()


def test_the_demo_refuses_to_run_in_production(kingston_app: Flask) -> None:
    with db(kingston_app) as s:
        before = (s.scalar(select(func.count()).select_from(ActionUpdate)),
                  s.scalars(select(User.password_hash).order_by(User.id)).all())
    kingston_app.config["ENV_NAME"] = "production"
    result = kingston_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 2
    assert "tracker demo refused" in result.output and "Nothing was changed" in result.output
    with db(kingston_app) as s:
        after = (s.scalar(select(func.count()).select_from(ActionUpdate)),
                 s.scalars(select(User.password_hash).order_by(User.id)).all())
    assert after == before
