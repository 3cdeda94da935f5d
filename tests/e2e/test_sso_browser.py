"""Single sign-on in a real browser: Chromium goes from the tracker's sign-in page to a real
OpenID Connect provider process (``oidc-provider-mock``) and back, signed in; and a person
whose email the provider has not verified is told so, and is not signed in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.tracker import oidc

from .browser import LEAD, MEMBER, LiveServer

BUTTON = "Sign in with your organisation's account"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oidc.Provider]:
    with oidc.provider(tmp_path_factory.mktemp("e2e-oidc")) as started:
        yield started


@pytest.fixture
def sso_server(fresh_server: LiveServer, provider: oidc.Provider,
               monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test provider's plain HTTP
    oidc.configure(fresh_server.app, provider.url)
    return fresh_server


def _through_the_provider(page: Page, sub: str) -> None:
    page.get_by_role("button", name=BUTTON).click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()


def test_a_person_signs_in_with_their_organisations_account(
        page: Page, sso_server: LiveServer, provider: oidc.Provider) -> None:
    provider.user("aisha", email=MEMBER, email_verified=True, name="Aisha Khan")
    page.goto(sso_server("/changes"))  # a page that needs signing in: it comes back to it
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    _through_the_provider(page, "aisha")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url == sso_server("/changes")
    page.get_by_role("link", name="Aisha Khan").first.click()
    expect(page.locator("main")).to_contain_text(MEMBER)


def test_an_unverified_email_is_told_why_it_was_not_signed_in(
        page: Page, sso_server: LiveServer, provider: oidc.Provider) -> None:
    provider.user("daniel", email=LEAD, email_verified=False)
    page.goto(sso_server("/sign-in"))
    _through_the_provider(page, "daniel")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your email address is not verified")
    expect(page.locator("main")).to_contain_text(f"says {LEAD} has not been verified")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # the button is there to try again
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible()
