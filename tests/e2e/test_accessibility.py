"""axe-core finds no serious or critical WCAG 2.2 A/AA problem on the tracker's main pages.

Each page is loaded in Chromium from the live server (the Kingston demo), as the person who
would see it, and scanned as it is shown.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser import ADMIN, BOARD, MEMBER, LiveServer, axe_problems, sign_in

# SKP-005 is one of aisha.khan's (MEMBER's) actions, open in 2026/27 Q2
PAGES = [
    pytest.param("/", None, id="overview"),
    pytest.param("/actions/SKP-005", None, id="action"),
    pytest.param("/sign-in", None, id="sign-in"),
    pytest.param("/my-actions", MEMBER, id="my-actions"),
    pytest.param("/actions/SKP-005/update/2026-27-Q2", MEMBER, id="update-form"),
    pytest.param("/kpis", None, id="kpi-list"),
    pytest.param("/kpis/asb-incidents", None, id="kpi"),
    pytest.param("/kpis/asb-incidents", ADMIN, id="kpi-with-value-form"),
    pytest.param("/board", BOARD, id="board-dashboard"),
    pytest.param("/board?quarter=2025-26-Q2&status=red", BOARD, id="board-dashboard-filtered"),
    pytest.param("/board/exceptions", BOARD, id="exception-report"),
    pytest.param("/board/priorities/2", BOARD, id="board-priority"),
    pytest.param("/board/commitments/2.c", BOARD, id="board-commitment"),
    pytest.param("/board/trend", BOARD, id="board-trend"),
    pytest.param("/actions/SKP-004?quarter=2025-26-Q2", BOARD, id="action-from-the-board"),
    # asking for a pack leads to the page that shows it being prepared, then ready
    pytest.param("/board/pack.xlsx?quarter=2024-25-Q4", BOARD, id="board-pack-status"),
]


@pytest.mark.parametrize(("path", "who"), PAGES)
def test_no_serious_accessibility_problems(page: Page, live_server: LiveServer, path: str,
                                           who: str | None) -> None:
    if who is not None:
        sign_in(page, live_server.url, who)
    response = page.goto(live_server(path))
    assert response is not None and response.status == 200, path
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_problems(page) == []


def test_the_scan_names_each_serious_problem_and_where_it_is(page: Page) -> None:
    """The scan itself works: on a page with known faults it finds them, rule and selector."""
    page.set_content(
        '<html><body><main><img src="data:,"><input type="text" id="q">'
        '<p style="color:#bbb;background:#fff">faint</p></main></body></html>')
    assert axe_problems(page) == [
        "color-contrast: Elements must meet minimum color contrast ratio thresholds "
        "(1 node: p)",
        "document-title: Documents must have <title> element to aid in navigation (1 node: html)",
        "html-has-lang: <html> element must have a lang attribute (1 node: html)",
        "image-alt: Images must have alternative text (1 node: img)",
        "label: Form elements must have labels (1 node: #q)",
    ]
