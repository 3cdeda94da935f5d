"""Signing in from tests, the way a browser does: fetch the form, send its CSRF token back.

An account that needs a second factor (admin and board, by default) is given one here, as if
its owner had set up an authenticator app with :data:`TOTP_SECRET` (written to the database
encrypted, as the app keeps it), and signing in then enters a code computed from it, as the
owner would read it from their phone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

import pyotp
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.test import TestResponse

from tracker.db import get_engine
from tracker.models import User
from tracker.services import two_factor

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


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the tests' authenticator app
CODE_PAGE = "/sign-in/code"


def enrol(app: Flask, email: str, secret: str = TOTP_SECRET) -> None:
    """``email`` has set up two-factor with ``secret`` (no codes used yet)."""
    enrol_in(get_engine(app), str(app.config["SECRET_KEY"]), email, secret)


def enrol_in(engine: Engine, secret_key: str, email: str, secret: str = TOTP_SECRET) -> None:
    sealed = two_factor.seal(secret, secret_key)
    with Session(engine) as s:
        done = s.execute(update(User).where(func.lower(User.email) == email.lower())
                         .values(totp_secret=sealed, totp_enrolled_at=datetime.now(UTC),
                                 totp_last_step=None))
        assert done.rowcount == 1, email  # type: ignore[attr-defined]
        s.commit()


def needs_second_factor(app: Flask, email: str) -> bool:
    """Whether ``email`` is an account that must have two-factor and has none yet."""
    with Session(get_engine(app)) as s:
        found = s.scalars(select(User).where(func.lower(User.email) == email.lower())).first()
        if found is None or found.totp_secret is not None:
            return False
        with app.app_context():
            return two_factor.is_required(found)


def code_for(app: Flask, email: str, secret: str = TOTP_SECRET) -> str:
    return code_in(get_engine(app), email, secret)


def code_in(engine: Engine, email: str, secret: str = TOTP_SECRET) -> str:
    """A code the app would accept now: of a time step after the last one accepted (the app
    takes the step before now, now, or the step after). Now's step, or the next one if now's
    was used: either is still accepted if the clock moves on to the next step before the code
    arrives (the step before now would not be). When a test has signed in three times within
    one step, the account's last step is forgotten, as if the next step had come."""
    step = two_factor.current_step()
    by_email = func.lower(User.email) == email.lower()
    with Session(engine) as s:
        last = s.scalar(select(User.totp_last_step).where(by_email))
        chosen = step if last is None or last < step else last + 1
        if chosen > step + 1:
            s.execute(update(User).where(by_email).values(totp_last_step=None))
            s.commit()
            chosen = step
    return pyotp.TOTP(secret).at(chosen * two_factor.STEP_SECONDS)


def second_factor(client: FlaskClient, email: str, response: TestResponse) -> TestResponse:
    """After the password: enter a code, if the tracker asks for one."""
    if response.status_code != 302 or response.headers["Location"] != CODE_PAGE:
        return response
    app = client.application
    token = page_token(client, CODE_PAGE)
    return client.post(CODE_PAGE, data={"csrf_token": token, "code": code_for(app, email)})


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
            query: str = "", *, code: bool = True) -> TestResponse:
    """Sign in through the form; with ``code``, an account that needs a second factor has
    one (see :func:`enrol`) and the code is entered too: the response is the last step's."""
    app = client.application
    if code and needs_second_factor(app, email):
        enrol(app, email)
    token = page_token(client, "/sign-in" + query)
    response = client.post("/sign-in" + query,
                           data={"csrf_token": token, "email": email, "password": password})
    return second_factor(client, email, response) if code else response


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
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    for hidden in soup.find_all(["script", "style"]):
        hidden.decompose()
    return " ".join(soup.get_text(" ").split())
