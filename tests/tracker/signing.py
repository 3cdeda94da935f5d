"""Signing in from tests, the way a browser does: fetch the form, send its CSRF token back."""

from __future__ import annotations

import html as html_module
import re
from functools import lru_cache

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.test import TestResponse

from tracker.db import get_engine
from tracker.models import User

PASSWORD = "tidal-copper-meadow-lantern"
COOKIE = "tracker_session"

# Kingston accounts, one per role
ADMIN = "priya.shah@example.org"
OTHER_ADMIN = "tom.hughes@example.org"
BOARD = "helen.marsh@example.org"
LEAD = "daniel.price@example.org"
MEMBER = "ben.carter@example.org"


@lru_cache(maxsize=4)
def password_hash(password: str = PASSWORD) -> str:
    """A real scrypt hash, at a low cost so that signing in from tests is quick (the cost is
    stored in the hash, and verifying follows it)."""
    cheap = generate_password_hash(password, method="scrypt:1024:8:1")
    assert check_password_hash(cheap, password)
    return cheap


def set_password(app: Flask, email: str, password: str = PASSWORD) -> None:
    with Session(get_engine(app)) as s:
        done = s.execute(update(User).where(User.email == email)
                         .values(password_hash=password_hash(password)))
        assert done.rowcount == 1, email  # type: ignore[attr-defined]
        s.commit()


def user(app: Flask, email: str) -> User:
    with Session(get_engine(app), expire_on_commit=False) as s:
        found = s.scalars(select(User).where(func.lower(User.email) == email.lower())).one()
        s.expunge(found)
        return found


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def page_token(client: FlaskClient, url: str = "/sign-in") -> str:
    return csrf(client.get(url).get_data(as_text=True))


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD,
            query: str = "") -> TestResponse:
    token = page_token(client, "/sign-in" + query)
    return client.post("/sign-in" + query,
                       data={"csrf_token": token, "email": email, "password": password})


def signed_in(app: Flask, email: str, **client_kwargs: object) -> FlaskClient:
    """A client signed in as ``email`` (whose password is set here)."""
    set_password(app, email)
    client = app.test_client(**client_kwargs)  # type: ignore[arg-type]
    response = sign_in(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def sign_out(client: FlaskClient) -> TestResponse:
    return client.post("/sign-out", data={"csrf_token": page_token(client, "/account")})


def is_signed_in(client: FlaskClient) -> bool:
    """Whether the account page answers (it needs a signed-in session)."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    return False


def cookie(client: FlaskClient) -> str | None:
    found = client.get_cookie(COOKIE)
    return found.value if found is not None else None


def text(response: TestResponse) -> str:
    """The page's text, tags removed and spaces collapsed: what a person reads."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    words = re.sub(r"<[^>]+>", " ", html)
    return " ".join(html_module.unescape(words).split())
