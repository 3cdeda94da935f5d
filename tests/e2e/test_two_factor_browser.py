"""Two-factor sign-in in Chromium, as the demo's admin meets it: set up at the first sign-in
by typing the key into an authenticator app, then signing in with a code, and with a
recovery code that works once."""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from tracker.db import get_engine
from tracker.models import User

from .browser import ADMIN, DEMO_PASSWORD, LiveServer, banners


def _password(page: Page, server: LiveServer, path: str = "/sign-in") -> None:
    page.goto(server(path))
    page.get_by_label("Email address").fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()


def test_the_admin_sets_up_two_factor_then_signs_in_with_a_code_and_a_recovery_code(
        page: Page, fresh_server: LiveServer) -> None:
    with Session(get_engine(fresh_server.app)) as s:  # as `tracker demo` leaves the admin
        s.execute(update(User).where(User.email == ADMIN).values(totp_secret=None))
        s.commit()
    _password(page, fresh_server, "/sign-in?next=/admin/users")
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    page.goto(fresh_server("/admin"))  # nothing else can be reached first
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()

    _password(page, fresh_server, "/sign-in?next=/admin/users")
    key = page.locator("#secret-key").inner_text().replace(" ", "")
    app = pyotp.TOTP(key)  # the person's phone
    page.get_by_label("Code from the app").fill(app.now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name=re.compile("I have saved my recovery codes")).click()
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    _sign_out(page)

    _password(page, fresh_server)
    page.get_by_label("Security code").fill(app.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    _sign_out(page)

    for attempt in ("first", "second"):
        _password(page, fresh_server)
        page.get_by_label("Security code").fill(codes[0])
        page.get_by_role("button", name="Continue").click()
        if attempt == "first":
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            assert any("You have 9 left" in banner for banner in banners(page))
            _sign_out(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not right")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
