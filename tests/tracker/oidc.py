"""OpenID Connect providers for the single sign-on tests, each a real process on 127.0.0.1:
``oidc-provider-mock`` (the package), and :mod:`tests.tracker.oidc_provider` (ours, for
tokens that must be wrong). Each listens on a port picked by binding to port 0; every wait
is bounded."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.tracker.servers import free_port, wait_until_up

MOCK = Path(sys.executable).parent / "oidc-provider-mock"
OURS = Path(__file__).with_name("oidc_provider.py")
START_SECONDS = 30
CLIENT_ID = "tracker-tests"
CLIENT_SECRET = "client-secret-for-tests-only"


@dataclass
class Provider:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def put(self, path: str, data: Any) -> None:
        answer = requests.put(self.url + path, json=data, timeout=10)
        assert answer.status_code in (200, 204), answer.text

    def user(self, sub: str, **claims: Any) -> None:
        """(oidc-provider-mock) the claims its next sign-in as ``sub`` carries."""
        self.put(f"/users/{sub}", claims)

    def claims(self, **claims: Any) -> None:
        """(ours) claims to change in the ID tokens it issues next (None removes one)."""
        self.put("/test/claims", claims)


@contextmanager
def provider(folder: Path, ours: bool = False) -> Iterator[Provider]:
    port = free_port()
    log = folder / f"oidc-{port}.log"
    args = [sys.executable, str(OURS), str(port)] if ours else [str(MOCK), "--port", str(port)]
    with open(log, "wb") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log, path="/.well-known/openid-configuration",
                      seconds=START_SECONDS)
        yield Provider(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def sso_settings(issuer: str, **more: Any) -> dict[str, Any]:
    """The app's configuration for single sign-on to ``issuer``."""
    return {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_LABEL": "Sign in with your organisation's account",
            "OIDC_ALLOWED_DOMAINS": (), "PASSWORD_SIGN_IN": True, **more}


def configure(app: Flask, issuer: str, **more: Any) -> None:
    app.config.update(sso_settings(issuer, **more))


def start(client: FlaskClient, query: str = "") -> str:
    """Press the button: the provider's authorize address the tracker redirects to."""
    response = client.get("/sign-in/sso" + query)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    asked = parse_qs(urlsplit(location).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"]
    assert asked["state"] and asked["nonce"] and asked["client_id"] == [CLIENT_ID]
    return location


def back_from(authorize_url: str, sub: str | None = None, deny: bool = False) -> str:
    """The provider's redirect back (path and query on the tracker), after it signs ``sub``
    in (oidc-provider-mock's form) or at once (ours)."""
    if sub is None and not deny:
        answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    else:
        form = {"action": "deny"} if deny else {"sub": sub}
        answer = requests.post(authorize_url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def sign_in(client: FlaskClient, sub: str | None = None, query: str = "") -> TestResponse:
    """A whole single sign-on: the tracker, the provider, and back."""
    return client.get(back_from(start(client, query), sub))
