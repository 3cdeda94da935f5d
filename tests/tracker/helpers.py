"""Helpers for the update, permission and status tests: a browser's view of the tracker.

Sign in the way a browser does (fetch the form, send its CSRF token back), pin the date the
views use, read what a page shows (its visible text, the fields of its forms), submit an
update and approve it as the group's lead, and find the Kingston people and actions a test
needs by their role and ownership in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser

import pytest
from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.tracker import signing
from tracker.db import get_engine
from tracker.models import Action, ActionStatus, ActionUpdate, Group, User

PASSWORD = signing.PASSWORD
TODAY = date(2026, 11, 25)   # the open quarter is 2026/27 Q2, whose update was due 15 October
QUARTER = "2026/27 Q2"
SLUG = "2026-27-Q2"


# -- the clock ------------------------------------------------------------------------------


def pin_today(monkeypatch: pytest.MonkeyPatch, day: date = TODAY) -> None:
    """Make every page see ``day`` as today."""
    import tracker.clock

    monkeypatch.setattr(tracker.clock, "today", lambda: day)


# -- the database ---------------------------------------------------------------------------


@contextmanager
def db(app: Flask) -> Iterator[Session]:
    """A session on the app's database, separate from any request's."""
    with Session(get_engine(app), expire_on_commit=False) as session:
        yield session


def set_password(app: Flask, email: str) -> None:
    signing.set_password(app, email)


csrf_token = signing.csrf


def sign_in(client: FlaskClient, email: str, next_path: str | None = None) -> TestResponse:
    """Sign in through the form (the account's password must be set)."""
    return signing.sign_in(client, email, query=f"?next={next_path}" if next_path else "")


class _SharedBytecode(BytecodeCache):
    """Compiled templates kept across the many short-lived apps of a test run."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


def browser(app: Flask, email: str | None = None) -> FlaskClient:
    """A new browser, signed in as ``email`` (anonymous without one)."""
    if app.jinja_env.bytecode_cache is None:  # speed only: each test builds a new app
        app.jinja_env.bytecode_cache = _BYTECODE
    client = app.test_client()
    if email is not None:
        set_password(app, email)
        response = sign_in(client, email)
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


def token_for(client: FlaskClient, path: str = "/") -> str:
    """A valid CSRF token for this browser, from any page that has a form."""
    return csrf_token(client.get(path).get_data(as_text=True))


# -- reading pages --------------------------------------------------------------------------


def page(html: str) -> BeautifulSoup:
    """The page parsed as a browser would (Python's HTML parser, through Beautiful Soup)."""
    return BeautifulSoup(html, "html.parser")


def text_of(element: Tag | BeautifulSoup) -> str:
    """An element's text as a reader sees it: scripts and styles left out, single spaces."""
    for hidden in element.find_all(["script", "style"]):
        hidden.decompose()
    text = re.sub(r"\s+", " ", element.get_text(" ")).strip()
    return re.sub(r"\s+(?=[,.;:)])|(?<=\()\s+", "", text)


def visible(html: str) -> str:
    """The text of the page's main content as a reader sees it: no tags, single spaces."""
    soup = page(html)
    main = soup.find("main")
    return text_of(main if isinstance(main, Tag) else soup)


def banners(html: str) -> list[str]:
    """The flashed notification banners, each as "kind: text" (success, error or info)."""
    found = []
    for banner in page(html).select("div.govuk-notification-banner"):
        heading = banner.select_one("p.govuk-notification-banner__heading")
        if heading is not None:
            found.append(f"{_kind(banner.get('class') or [])}: {text_of(heading)}")
    return found


def _kind(classes: str | list[str]) -> str:
    joined = " ".join(classes) if isinstance(classes, list) else classes
    if "--success" in joined:
        return "success"
    return "error" if "--error" in joined else "info"


def field_error(html: str, field: str) -> str | None:
    """The error message shown beside a field, or None."""
    found = page(html).find("p", id=f"{field}-error", class_="govuk-error-message")
    if not isinstance(found, Tag):
        return None
    return text_of(found).removeprefix("Error:").strip()


def status_rows(html: str) -> dict[str, str]:
    """The action page's "Status by quarter" table: quarter -> the row's text."""
    marker = page(html).find(id="statuses")
    assert isinstance(marker, Tag), "no status table on the page"
    found = marker if marker.name == "table" else marker.find_next("table")
    assert isinstance(found, Tag), "no status table on the page"
    rows = {}
    for row in found.select("tr.govuk-table__row"):
        cells = row.find_all("td")
        if cells:
            rows[text_of(cells[0])] = text_of(row)
    return rows


def table(html: str, caption: str) -> list[list[str]]:
    """The rows of the table whose caption starts with ``caption``: each row's header and
    data cells as a reader sees them (the head row included)."""
    for found in page(html).find_all("table"):
        title = found.find("caption")
        if isinstance(title, Tag) and text_of(title).startswith(caption):
            return [[text_of(cell) for cell in row.find_all(["th", "td"])]
                    for row in found.find_all("tr")]
    raise AssertionError(f"no table captioned {caption!r} on the page")


def error_summary(html: str) -> list[str]:
    """The entries of the error summary at the top of the page."""
    summary = page(html).select_one("div.govuk-error-summary")
    if summary is None:
        return []
    return [text_of(item) for item in summary.find_all("li")]


@dataclass
class Form:
    action: str | None
    fields: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        values = self.getlist(name)
        return values[0] if values else None

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name]

    def as_data(self) -> dict[str, list[str]]:
        """What a browser sends when this form is submitted as it is."""
        data: dict[str, list[str]] = {}
        for name, value in self.fields:
            data.setdefault(name, []).append(value)
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = Form(a.get("action"), [])
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button"):
                return
            self._form.fields.append((a["name"] or "", a.get("value") or ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._text)
            self._form.fields.append((self._textarea, text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def update_form(html: str) -> Form:
    """The update form on a page (the one that posts back to the page itself)."""
    found = [f for f in forms(html) if "narrative" in dict(f.fields)]
    assert len(found) == 1, "no update form on the page"
    return found[0]


# -- the quarterly update -------------------------------------------------------------------


def update_url(ref: str, slug: str = SLUG) -> str:
    return f"/actions/{ref}/update/{slug}"


def typed(**overrides: object) -> dict[str, object]:
    """A valid update, as typed into the form; ``None`` drops a field."""
    data: dict[str, object] = {
        "rag": "green", "percent_complete": "40",
        "narrative": "Partners met twice; the hotspot review is half done.",
        "next_steps": "Finish the review.", "risks": "", "corrective_action": "",
        "concern_reason": "", "evidence": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit_update(client: FlaskClient, ref: str, slug: str = SLUG, /,
                  **fields: object) -> TestResponse:
    """Open the update form, as a browser would, and submit it with ``fields``."""
    page = client.get(update_url(ref, slug))
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    form = update_form(html)
    data = typed(**fields)
    data.setdefault("base_version", form.get("base_version") or "0")
    data["csrf_token"] = form.get("csrf_token") or csrf_token(html)
    return client.post(update_url(ref, slug), data=data)


def group_lead_of(app: Flask, ref: str) -> str:
    """The email of the lead of the action's group."""
    with db(app) as s:
        action = s.scalars(select(Action).where(Action.ref == ref)).one()
        group = s.get(Group, action.group_id)
        assert group is not None and group.lead_id is not None, f"{ref} has no group lead"
        lead = s.get(User, group.lead_id)
        assert lead is not None
        return lead.email


def approve(app: Flask, ref: str, quarter: str = QUARTER) -> TestResponse:
    """The lead of the action's group, signed in, approves the quarter's latest update as a
    browser does: the review form on the action's page, sent with "Approve" chosen. The
    update must be awaiting approval (its form on the page), and is approved afterwards."""
    with db(app) as s:
        latest = s.scalars(select(ActionUpdate).join(Action, Action.id == ActionUpdate.action_id)
                           .where(Action.ref == ref, ActionUpdate.quarter == quarter)
                           .order_by(ActionUpdate.version.desc()).limit(1)).first()
        assert latest is not None, f"no {quarter} update of {ref} to approve"
        update_id = latest.id
    lead = browser(app, group_lead_of(app, ref))
    page = lead.get(f"/actions/{ref}")
    assert page.status_code == 200, page.status_code
    url = f"/actions/{ref}/updates/{update_id}/review"
    found = [f for f in forms(page.get_data(as_text=True)) if f.action == url]
    assert len(found) == 1, f"no form to approve {ref}'s {quarter} update on its page"
    data = found[0].as_data()
    data["decision"] = ["approve"]
    response = lead.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with db(app) as s:
        reviewed = s.get(ActionUpdate, update_id)
        assert reviewed is not None and reviewed.review == "approved", f"{ref} not approved"
    return response


# -- the people and actions a test needs ----------------------------------------------------


@dataclass
class Cast:
    """Kingston people by role, around one action owned by a member in a led group."""

    action: str          # ref of the action the scene is about (open in the open quarter)
    owner: str           # its owner, a member
    lead: str            # the lead of its group (not its owner)
    other_member: str    # a member who owns another action of the same group
    other_action: str    # that member's action
    other_lead: str      # the lead of another group, who owns nothing in the action's group
    other_group_action: str  # an action of the other lead's group
    board: str           # a board member who leads no group with actions
    admin: str


def _open(action: Action, quarter_end: date) -> bool:
    return action.retired_at is None and action.due > quarter_end and "2026/27" in action.years


def cast(app: Flask) -> Cast:
    with db(app) as s:
        actions = list(s.scalars(select(Action).order_by(Action.position)))
        groups = {g.id: g for g in s.scalars(select(Group))}
        users = {u.id: u for u in s.scalars(select(User))}
        q2_end = date(2026, 9, 30)
        chosen = next(
            a for a in actions
            if _open(a, q2_end) and a.group_id is not None and users[a.owner_id].role == "member"
            and len(a.milestones) >= 2
            and groups[a.group_id].lead_id not in (None, a.owner_id)
            and users[groups[a.group_id].lead_id].role == "lead"  # type: ignore[index]
        )
        group = groups[chosen.group_id]  # type: ignore[index]
        other = next(a for a in actions if _open(a, q2_end) and a.group_id == group.id
                     and a.owner_id not in (chosen.owner_id, group.lead_id)
                     and users[a.owner_id].role == "member")
        in_group = {a.owner_id for a in actions if a.group_id == group.id}
        other_group = next(
            g for g in groups.values() if g.id != group.id and g.lead_id is not None
            and users[g.lead_id].role == "lead" and g.lead_id not in in_group
            and any(_open(a, q2_end) and a.group_id == g.id and a.owner_id != g.lead_id
                    for a in actions))
        other_group_action = next(a for a in actions if _open(a, q2_end)
                                  and a.group_id == other_group.id
                                  and a.owner_id != other_group.lead_id)
        with_actions = {a.group_id for a in actions}
        board = next(u for u in users.values() if u.role == "board" and not any(
            g.lead_id == u.id and g.id in with_actions for g in groups.values()))
        admin = next(u for u in users.values() if u.role == "admin")
        return Cast(
            action=chosen.ref, owner=users[chosen.owner_id].email,
            lead=users[group.lead_id].email,  # type: ignore[index]
            other_member=users[other.owner_id].email, other_action=other.ref,
            other_lead=users[other_group.lead_id].email,  # type: ignore[index]
            other_group_action=other_group_action.ref,
            board=board.email, admin=admin.email,
        )


def action_id(app: Flask, ref: str) -> int:
    with db(app) as s:
        found = s.scalar(select(Action.id).where(Action.ref == ref))
        assert found is not None, ref
        return found


def status_of(app: Flask, ref: str, quarter: str = QUARTER) -> tuple[str, str, str]:
    """The stored status of an action for a quarter: colour, rule and reason."""
    with db(app) as s:
        row = s.scalars(select(ActionStatus).join(Action, Action.id == ActionStatus.action_id)
                        .where(Action.ref == ref, ActionStatus.quarter == quarter)).one()
        return row.colour, row.rule, row.reason


def counted_get(app: Flask, client: FlaskClient, url: str) -> tuple[int, TestResponse]:
    """GET ``url`` and count the SQL statements the request sent."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(*_args: object) -> None:
        seen.append("q")

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen), response
