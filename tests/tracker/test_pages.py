"""The first pages: the whole plan, readable in a browser without signing in."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask

from plans import load_plan
from tests.conftest import KINGSTON
from tests.tracker.helpers import page

PLAN = load_plan(KINGSTON)


def get(flask_app: Flask, url: str, status: int = 200) -> str:
    response = flask_app.test_client().get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def test_overview_shows_the_whole_plan(kingston_app: Flask) -> None:
    html = get(kingston_app, "/")
    assert "<title>Safer Kingston Partnership Plan 2024-2029 - Safer Kingston Partnership" in html
    assert PLAN.partnership.vision and PLAN.partnership.vision in html
    for priority in PLAN.priorities:
        assert priority.title in html
        for commitment in priority.commitments:
            assert f'href="/commitments/{commitment.ref}"' in html
            assert _escaped(commitment.text) in html
            for part in commitment.parts:
                assert _escaped(part.text) in html
    for theme in PLAN.themes:
        assert _escaped(theme.name) in html
    for aim in PLAN.aims:
        assert _escaped(aim) in html
    for principle in PLAN.principles:
        assert _escaped(principle.name) in html
    assert "Statutory duties" in html and "Every year, due" in html


def _escaped(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def test_priority_page(kingston_app: Flask) -> None:
    html = get(kingston_app, "/priorities/2")
    assert "Preventing and reducing serious violence and exploitation" in html
    assert re.search(r"Commitments</dt>\s*<dd[^>]*>12</dd>", html)
    assert 'href="/commitments/2.c.iii"' in html


def test_commitment_page_shows_text_themes_parts_and_actions(kingston_app: Flask) -> None:
    html = get(kingston_app, "/commitments/2.c")
    assert "Commitment 2.c" in html
    assert "Adopt a proactive, partnership approach" in html
    assert "Disrupting organised criminal networks" in html
    part_actions = [a for a in PLAN.actions().values() if a.commitment.startswith("2.c")]
    assert part_actions
    for action in part_actions:
        assert f'href="/actions/{action.id}"' in html
    assert 'href="/themes/' in html


def test_part_page_links_back_to_its_commitment(kingston_app: Flask) -> None:
    html = get(kingston_app, "/commitments/2.c.ii")
    assert "Part 2.c.ii" in html
    assert 'href="/commitments/2.c"' in html


def test_action_page(kingston_app: Flask) -> None:
    action = PLAN.actions()["SKP-001"]
    html = get(kingston_app, "/actions/SKP-001")
    assert _escaped(action.title) in html
    assert "Lead agency" in html and "Milestones" in html
    assert "No updates have been recorded yet." in html


def test_themes_page_shows_which_commitments_each_theme_touches(kingston_app: Flask) -> None:
    html = get(kingston_app, "/themes")
    touching = [c.ref for c in PLAN.commitments() if "substance-misuse" in c.themes]
    section = html.split('id="theme-substance-misuse"')[1].split("<section")[0]
    for ref in touching:
        assert f'href="/commitments/{ref}"' in section
    row = html.split('href="/themes/substance-misuse">')[1].split("</tr>")[0]
    assert f"<strong>{len(touching)}</strong>" in row


def test_theme_page(kingston_app: Flask) -> None:
    html = get(kingston_app, "/themes/cyber")
    assert "Cyber/Online crime" in html
    assert "Fraud is a critical threat, both to London and nationally." in html


def test_whos_who_lists_authorities_and_groups(kingston_app: Flask) -> None:
    html = get(kingston_app, "/who")
    responsible = html.split("Responsible authorities")[1].split("</ul>")[0]
    assert responsible.count("<li>") == 5
    assert "Metropolitan Police Service" in responsible
    for group in PLAN.groups:
        assert _escaped(group.name) in html


@pytest.mark.parametrize("url", ["/priorities/9", "/commitments/9.z", "/actions/NOPE",
                                 "/themes/nope", "/no-such-page"])
def test_unknown_items_are_404_pages(kingston_app: Flask, url: str) -> None:
    html = get(kingston_app, url, 404)
    assert "Page not found" in html
    assert "Traceback" not in html


def test_empty_database_says_how_to_load_a_plan(app: Flask) -> None:
    html = get(app, "/")
    assert "No plan is loaded yet" in html
    assert "tracker plan load plans.yaml" in html


def test_pages_use_local_assets_only_and_send_security_headers(kingston_app: Flask) -> None:
    response = kingston_app.test_client().get("/")
    html = response.get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"#]+)"', html):
        assert url.startswith("/"), url
    assert 'href="/static/css/app.css"' in html
    assert "GOV.UK" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    inline = [tag for tag in page(html).find_all("script") if not tag.has_attr("src")]
    assert all(tag.get("nonce") == nonce for tag in inline)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_output_is_escaped(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (KINGSTON.read_text(encoding="utf-8")
            .replace("name: Safer Kingston Partnership\n",
                     'name: "<script>alert(1)</script> Partnership"\n', 1))
    path = tmp_path / "plans.yaml"
    path.write_text(text, encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["plan", "load", str(path)]).exit_code == 0
    html = get(app, "/")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Partnership" in html


class _Tables(HTMLParser):
    """Each table on a page, with the scroll region around it (its attributes), if any."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[dict[str, str | None]] = []  # the divs we are inside
        self.tables: list[dict[str, str | None] | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            self.open.append(dict(attrs))
        elif tag == "table":
            around = self.open[-1] if self.open else None
            self.tables.append(around if around and around.get("class") == "app-table-scroll"
                               else None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.open:
            self.open.pop()


@pytest.mark.parametrize("url", ["/", "/themes", "/actions/SKP-001"])
def test_each_table_scrolls_in_a_named_region_the_keyboard_can_reach(kingston_app: Flask,
                                                                      url: str) -> None:
    """A wide table scrolls sideways on a 390 px phone instead of widening the page; its
    region is named for screen readers and takes the focus so keys can scroll it."""
    tables = _Tables()
    tables.feed(get(kingston_app, url))
    assert tables.tables, url
    for region in tables.tables:
        assert region is not None, f"a table on {url} is not in a scroll region"
        assert region.get("role") == "region" and region.get("tabindex") == "0"
        assert (region.get("aria-label") or "").strip(), f"a scroll region on {url} has no name"
