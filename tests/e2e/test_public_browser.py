"""The public progress page as a resident sees it in Chromium: axe clean, no sideways scroll
on a phone, no person's name or narrative in its HTML, an unapproved story absent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tracker.db import get_engine
from tracker.models import ActionUpdate, Commentary, User

from .browser import LiveServer, axe_problems

WAITING = "A new space for young people on the estate"
APPROVED = "Safer routes home from school"


@pytest.fixture
def resident(browser: Browser, fresh_server: LiveServer) -> Iterator[Page]:
    fresh_server.app.config["PUBLIC_PAGE"] = True
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(fresh_server.url + "/public")
        yield page
    finally:
        context.close()


def test_a_resident_reads_the_page_and_axe_finds_nothing(resident: Page) -> None:
    expect(resident.get_by_role("heading", level=1)).to_have_text("How we are doing")
    expect(resident.get_by_role("heading", name="Our priorities")).to_be_visible()
    expect(resident.get_by_role("heading", name=APPROVED)).to_be_visible()
    expect(resident.get_by_text(WAITING)).to_have_count(0)
    expect(resident.get_by_role("img", name="Chart of Neighbourhood crime offences",
                                exact=False).first).to_be_visible()
    expect(resident.get_by_role("link", name="Sign in")).to_have_count(0)
    assert axe_problems(resident) == []


def test_nothing_is_wider_than_a_phone(resident: Page) -> None:
    width = int(resident.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"))
    assert width <= 390, width


def test_no_name_or_narrative_is_anywhere_in_the_html(resident: Page,
                                                        fresh_server: LiveServer) -> None:
    from sqlalchemy.orm import Session

    with Session(get_engine(fresh_server.app)) as s:
        names = [n for n in s.scalars(select(User.name)) if n]
        texts = [t for column in (ActionUpdate.narrative, ActionUpdate.concern_reason,
                                  Commentary.text)
                 for t in s.scalars(select(column).distinct()) if t and len(t) > 20]
    html = resident.content()
    assert names and texts
    found = [secret[:60] for secret in names + texts if secret in html]
    assert found == []
