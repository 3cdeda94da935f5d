"""A board member prepares for the meeting in a real browser: the dashboard, an earlier
quarter, drill-down to an action without losing the quarter, and the board pack."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .browser import BOARD, LiveServer, sign_in


def test_a_board_member_reads_the_dashboard_drills_down_and_downloads_the_pack(
        page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.url, BOARD)
    page.get_by_role("link", name="Board", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board dashboard: 2026/27 Q2")

    # an earlier quarter, chosen with the form (folded away under the headlines): the
    # address keeps it, to be shared
    page.get_by_text("Choose another quarter, or filter").click()
    page.get_by_label("Quarter", exact=True).select_option(label="2025/26 Q2")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board dashboard: 2025/26 Q2")
    assert "quarter=2025-26-Q2" in page.url
    priorities = page.get_by_role("table", name=re.compile("Actions by status in each priority"))
    expect(priorities).to_contain_text("All priorities")

    # drill down: priority, commitment, action; the quarter stays chosen all the way
    page.get_by_role("link", name="2. Serious violence and exploitation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Priority 2:")
    expect(page.locator(".govuk-caption-l")).to_contain_text("2025/26 Q2")
    page.get_by_role("link", name="Commitment 2.c", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commitment 2.c, 2025/26 Q2")
    actions = page.get_by_role("table", name="Actions, 2025/26 Q2")
    first = actions.get_by_role("link").first
    ref = first.inner_text()
    first.click()
    expect(page.locator(".govuk-caption-l")).to_have_text(f"Action {ref}")
    back = page.get_by_role("link", name="Board dashboard, 2025/26 Q2")
    expect(back).to_have_attribute("href", re.compile(r"quarter=2025-26-Q2"))
    back.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board dashboard: 2025/26 Q2")

    # the board pack for the chosen quarter: prepared by the builder, then offered
    page.get_by_role("link", name="PDF board pack").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(
        "Preparing your board pack|Your board pack is ready"))
    ready = page.get_by_role("link", name="Download the PDF board pack")
    expect(ready).to_be_visible(timeout=60_000)  # the page follows the build by itself
    with page.expect_download() as waiting:
        ready.click()
    download = waiting.value
    assert download.suggested_filename.endswith("board-pack-2025-26-Q2.pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_first_screen_answers_the_board_s_three_questions(page: Page,
                                                             live_server: LiveServer) -> None:
    """At 1280 x 800, without scrolling: where we stand, what needs the board, what changed."""
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server.url, BOARD)
    page.goto(live_server("/board"))
    headlines = page.locator("#headlines")
    expect(headlines).to_contain_text("actions under way in 2026/27 Q2")
    for heading in ("Where we stand", "What needs the board", "Changes since 2026/27 Q1"):
        expect(headlines.get_by_role("heading", name=heading)).to_be_visible()
    box = headlines.bounding_box()
    assert box is not None and box["y"] >= 0
    assert box["y"] + box["height"] <= 800, box  # all of it in the first screen
    assert page.evaluate("window.scrollY") == 0
    # the filters are folded away until asked for
    expect(page.get_by_label("Group", exact=True)).to_be_hidden()
