"""The permission table, route by route and object by object.

| who                          | update an action | review its updates | /my-actions | /quarters |
|------------------------------|------------------|--------------------|-------------|-----------|
| anonymous                    | sign in first    | sign in first      | sign in     | sign in   |
| the action's owner (member)  | yes              | no                 | yes         | no        |
| another member               | no               | no                 | yes         | no        |
| the lead of the action's group | yes            | yes                | yes         | no        |
| the lead of another group    | no               | no                 | yes         | no        |
| board                        | no               | no                 | yes         | no        |
| admin                        | no               | no                 | yes         | yes       |

Object checks are made from the URL's action, never from what the form says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.conftest import count, db_fingerprint
from tests.tracker.helpers import (
    QUARTER,
    SLUG,
    Cast,
    action_id,
    browser,
    cast,
    db,
    pin_today,
    submit_update,
    token_for,
    typed,
    update_form,
    update_url,
    visible,
)
from tracker import create_app
from tracker.db import get_engine
from tracker.models import Action, ActionUpdate, QuarterLock, SecurityEvent, User

ROLES = ("anonymous", "owner", "other_member", "lead", "other_lead", "board", "admin")


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


def pending_update(app: Flask, ref: str, author: str, version: int = 1) -> int:
    """An update awaiting the group lead's approval, straight into the database."""
    with db(app) as s:
        update = ActionUpdate(
            action_id=action_id(app, ref), quarter=QUARTER, version=version, rag="green",
            percent_complete=30, narrative=f"Pending account of {ref}.", review="pending",
            author_id=s.scalar(select(User.id).where(User.email == author)))
        s.add(update)
        s.commit()
        return update.id


def is_sign_in(response: TestResponse, path: str) -> bool:
    """A redirect to the sign-in page that comes back to ``path`` afterwards."""
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers["Location"])
    return location.path == "/sign-in" and parse_qs(location.query).get("next") == [path]


# -- every route that takes an action, an update or a quarter, with every role ---------------


@dataclass
class Route:
    endpoint: str
    method: str
    path: Callable[[Cast, int], str]
    data: Callable[[Cast], dict[str, object]]
    allowed: frozenset[str]
    ok: int                                   # the status an allowed person gets
    done: Callable[[Flask, Cast], bool] | None = None   # what an allowed request changed


def _versions(app: Flask, ref: str) -> int:
    return count(app, ActionUpdate, ActionUpdate.action_id == action_id(app, ref))


def _approved(app: Flask, people: Cast) -> bool:
    with db(app) as s:
        return s.scalars(select(ActionUpdate.review).where(
            ActionUpdate.action_id == action_id(app, people.action))).all() == ["approved"]


ROUTES = [
    Route("updates.my_actions", "GET", lambda p, u: "/my-actions", lambda p: {},
          frozenset(ROLES) - {"anonymous"}, 200),
    Route("updates.update", "GET", lambda p, u: update_url(p.action), lambda p: {},
          frozenset({"owner", "lead"}), 200),
    Route("updates.update_open_quarter", "GET", lambda p, u: f"/actions/{p.action}/update",
          lambda p: {}, frozenset({"owner", "lead"}), 302),
    # review before update: an update submitted later would supersede the pending one
    Route("updates.review", "POST", lambda p, u: f"/actions/{p.action}/updates/{u}/review",
          lambda p: {"decision": "approve", "comment": ""}, frozenset({"lead"}), 302,
          _approved),
    Route("updates.update", "POST", lambda p, u: update_url(p.action),
          lambda p: {**typed(), "base_version": "1"}, frozenset({"owner", "lead"}), 302,
          lambda app, p: _versions(app, p.action) == 2),
    Route("updates.quarters", "GET", lambda p, u: "/quarters", lambda p: {},
          frozenset({"admin"}), 200),
    Route("updates.lock", "POST", lambda p, u: f"/quarters/{SLUG}/lock",
          lambda p: {"note": "Board met"}, frozenset({"admin"}), 302,
          lambda app, p: count(app, QuarterLock) == 1),
    Route("updates.lock", "POST", lambda p, u: f"/quarters/{SLUG}/unlock",
          lambda p: {"note": "Reopened for a missed update"}, frozenset({"admin"}), 302,
          lambda app, p: count(app, QuarterLock) == 0),
]


def test_the_table_names_every_route_of_the_updates(kingston_app: Flask) -> None:
    """A new route about updates or quarters must be added to the table above."""
    endpoints = {r.endpoint for r in kingston_app.url_map.iter_rules()
                 if r.endpoint.startswith("updates.")}
    assert endpoints == {r.endpoint for r in ROUTES}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_table_says(kingston_app: Flask, role: str) -> None:
    people = cast(kingston_app)
    update_id = pending_update(kingston_app, people.action, people.owner)
    client = browser(kingston_app, None if role == "anonymous" else getattr(people, role))
    token = token_for(client, "/sign-in" if role == "anonymous" else "/")
    failures = []
    for route in ROUTES:
        path = route.path(people, update_id)
        before = db_fingerprint(kingston_app)
        if route.method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**route.data(people), "csrf_token": token})
        got = response.status_code
        if role == "anonymous":
            if not is_sign_in(response, path):
                failures.append(f"{route.method} {path}: {got} "
                                f"{response.headers.get('Location')}, not sign-in")
            after = db_fingerprint(kingston_app)
            after.pop("held_submissions"), before.pop("held_submissions")
            if after != before:  # a signed-out POST only holds the text: nothing else
                failures.append(f"{route.method} {path}: anonymous changed the database")
        elif role in route.allowed:
            if got != route.ok:
                failures.append(f"{route.method} {path}: {got}, expected {route.ok}")
            elif route.done is not None and not route.done(kingston_app, people):
                failures.append(f"{route.method} {path}: allowed, but nothing happened")
        else:
            if got != 403:
                failures.append(f"{route.method} {path}: {got}, expected 403")
            if db_fingerprint(kingston_app) != before:
                failures.append(f"{route.method} {path}: refused, but the database changed")
            if got == 403 and _last_refusal(kingston_app) != (route.method, path.split("?")[0]):
                failures.append(f"{route.method} {path}: refused, but not in the security log")
    assert failures == [], role


def _last_refusal(app: Flask) -> tuple[str, str] | None:
    """The method and path of the latest refused page in the security log."""
    with Session(get_engine(app)) as s:
        found = s.execute(select(SecurityEvent.method, SecurityEvent.path)
                          .where(SecurityEvent.kind == "access.forbidden")
                          .order_by(SecurityEvent.id.desc()).limit(1)).first()
    return None if found is None else (found.method, found.path)


def test_an_allowed_redirect_goes_where_it_should(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    response = client.get(f"/actions/{people.action}/update")

    assert response.headers["Location"] == update_url(people.action)


def test_a_signed_out_update_post_comes_back_to_the_form_after_signing_in(
        kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app)

    response = client.post(update_url(people.action), data={
        **typed(), "base_version": "0", "csrf_token": token_for(client, "/sign-in")})

    assert is_sign_in(response, update_url(people.action))
    assert _versions(kingston_app, people.action) == 0


# -- object checks: the URL's action, never the form's ---------------------------------------


def test_an_owner_cannot_update_someone_elses_action_by_changing_the_url(
        kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)
    mine = update_form(client.get(update_url(people.action)).get_data(as_text=True))
    before = db_fingerprint(kingston_app)

    assert client.get(update_url(people.other_action)).status_code == 403
    response = client.post(update_url(people.other_action), data={
        **typed(narrative="Written into someone else's action."), "base_version": "0",
        "csrf_token": mine.get("csrf_token")})

    assert response.status_code == 403
    assert db_fingerprint(kingston_app) == before
    assert _versions(kingston_app, people.other_action) == 0


def test_form_fields_naming_another_action_are_ignored(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    theirs = pending_update(kingston_app, people.other_action, people.other_member)
    client = browser(kingston_app, people.owner)
    with db(kingston_app) as s:
        someone = s.scalar(select(User.id).where(User.email == people.other_member))

    response = submit_update(
        client, people.action, narrative="My own action's update.",
        action_id=str(action_id(kingston_app, people.other_action)),
        ref=people.other_action, action=people.other_action, update_id=str(theirs),
        id=str(theirs), author_id=str(someone), quarter="2024/25 Q1", version="9",
        review="approved")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/actions/{people.action}"
    with db(kingston_app) as s:
        [saved] = s.scalars(select(ActionUpdate).where(
            ActionUpdate.narrative == "My own action's update.")).all()
        assert saved.action_id == action_id(kingston_app, people.action)
        # an owner's update awaits the group lead's approval: a form cannot approve it
        assert (saved.quarter, saved.version, saved.review) == (QUARTER, 1, "pending")
        assert s.get(User, saved.author_id).email == people.owner  # type: ignore[union-attr]
        other = s.get(ActionUpdate, theirs)
        assert other is not None
        assert (other.version, other.review, other.narrative) == (
            1, "pending", f"Pending account of {people.other_action}.")
    assert _versions(kingston_app, people.other_action) == 1


def test_a_lead_cannot_review_an_update_of_another_groups_action(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    elsewhere = pending_update(kingston_app, people.other_group_action, people.other_lead)
    client = browser(kingston_app, people.lead)
    token = token_for(client)
    before = db_fingerprint(kingston_app)

    # the URL names the lead's own action, the update is another group's
    smuggled = client.post(f"/actions/{people.action}/updates/{elsewhere}/review",
                           data={"decision": "approve", "csrf_token": token})
    # the URL names the other group's action
    direct = client.post(f"/actions/{people.other_group_action}/updates/{elsewhere}/review",
                         data={"decision": "approve", "csrf_token": token})

    assert smuggled.status_code == 404
    assert direct.status_code == 403
    assert db_fingerprint(kingston_app) == before


def test_quarters_that_are_not_open_cannot_be_updated(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    client = browser(kingston_app, people.owner)

    future = client.get(update_url(people.action, "2026-27-Q3"))
    nonsense = client.get(update_url(people.action, "2026-27-Q9"))
    unknown = client.get(update_url("SKP-999"))
    posted = client.post(update_url(people.action, "2026-27-Q3"), data={
        **typed(), "base_version": "0", "csrf_token": token_for(client)})

    assert future.status_code == 409
    assert ("updates for 2026/27 Q3 open on 17 December 2026"
            in visible(future.get_data(as_text=True)))
    assert nonsense.status_code == 404 and unknown.status_code == 404
    assert posted.status_code == 409
    assert count(kingston_app, ActionUpdate) == 0


# -- the board reads everything and edits nothing --------------------------------------------


def test_board_members_read_every_page(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    pending_update(kingston_app, people.action, people.owner)
    client = browser(kingston_app, people.board)
    with db(kingston_app) as s:
        action = s.scalars(select(Action).where(Action.ref == people.action)).one()
        pages = ["/", f"/priorities/{action.commitment.priority.ref}",
                 f"/commitments/{action.commitment.ref}", f"/actions/{people.action}",
                 "/themes", "/who"]

    for page in pages:
        assert client.get(page).status_code == 200, page
    html = client.get(f"/actions/{people.action}").get_data(as_text=True)
    text = visible(html)
    assert f"Pending account of {people.action}." in text
    assert f"Update for {QUARTER}" not in text
    assert "Approve this update?" not in html
    mine = visible(client.get("/my-actions").get_data(as_text=True))
    assert f"You have no actions to update for {QUARTER}." in mine
    assert "Awaiting your approval" not in mine


def test_every_post_a_board_member_tries_is_refused(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    update_id = pending_update(kingston_app, people.action, people.owner)
    client = browser(kingston_app, people.board)
    token = token_for(client)
    from tracker.models import Action, ChangeRequest, PackLayout

    with db(kingston_app) as s:
        board_id = s.scalar(select(User.id).where(User.email == people.board))
        action = s.scalars(select(Action).where(Action.ref == people.action)).one()
        owner_id = s.scalar(select(User.id).where(User.email == people.owner))
        change = ChangeRequest(kind="action_due", action_id=action.id,
                               baseline_date=action.due, from_date=action.due,
                               requested_date=action.due, reason="Later, please",
                               requested_by_id=owner_id, open_key=f"action_due:{action.id}")
        layout = PackLayout(name="For the board", sections=["summary"], priorities=[],
                            kpis=[], cover_note="", version=1)
        s.add_all([change, layout])
        s.commit()
        change_id, layout_id = change.id, layout.id
    samples: dict[str, Any] = {"ref": people.action, "quarter": SLUG,
                               "update_id": update_id, "change": "lock", "user_id": board_id,
                               "message_id": 1, "escalation_id": 1, "scope": "summary",
                               "layout_id": layout_id, "change_id": change_id,
                               "token_id": 1, "story_id": 1}
    rules = [r for r in kingston_app.url_map.iter_rules()
             if "POST" in (r.methods or ()) and not r.endpoint.startswith("auth.")]
    assert {r.endpoint for r in rules} >= {"updates.update", "updates.review", "updates.lock"}
    before = db_fingerprint(kingston_app)
    answers = {}
    for rule in rules:
        unknown = set(rule.arguments) - set(samples)
        assert not unknown, f"give {rule.endpoint} a sample {unknown}"
        args = {k: samples[k] for k in rule.arguments}
        if rule.endpoint.startswith("kpis.") or rule.endpoint == "changes.ask_target":
            args["ref"] = "asb-incidents"  # a KPI, not an action
        with kingston_app.test_request_context():
            path = url_for(rule.endpoint, **args)
        data = {**typed(), "base_version": "1", "period": "2025/26 Q1", "value": "1",
                "decision": "approve", "note": "x", "role": "admin", "csrf_token": token}
        answers[path] = client.post(path, data=data).status_code

    assert answers == dict.fromkeys(answers, 403)
    assert db_fingerprint(kingston_app) == before


# -- private deployments ---------------------------------------------------------------------


def test_without_public_read_the_plan_pages_need_signing_in(kingston_app: Flask) -> None:
    people = cast(kingston_app)
    private = create_app({"TESTING": True, "PUBLIC_READ": False,
                          "DATABASE_URL": kingston_app.config["DATABASE_URL"],
                          "SECRET_KEY": kingston_app.config["SECRET_KEY"]})
    with db(kingston_app) as s:
        action = s.scalars(select(Action).where(Action.ref == people.action)).one()
        pages = ["/", f"/priorities/{action.commitment.priority.ref}",
                 f"/commitments/{action.commitment.ref}", f"/actions/{people.action}",
                 "/themes", f"/themes/{action.themes[0].ref}" if action.themes else "/themes",
                 "/who"]
    anonymous = browser(private)
    for page in pages:
        assert is_sign_in(anonymous.get(page), page), page
    assert browser(kingston_app).get(pages[3]).status_code == 200  # public where allowed
    for check in ("/healthz", "/readyz"):  # a load balancer's checks stay public
        assert anonymous.get(check).status_code == 200, check
    assert anonymous.get("/public").status_code == 404  # the public page is off by default
    private.config["PUBLIC_PAGE"] = True  # on, it needs no sign-in even without public read
    assert anonymous.get("/public").status_code == 200
    assert is_sign_in(anonymous.get("/stories/new"), "/stories/new")
    assert is_sign_in(anonymous.get("/stories"), "/stories")
    reader = browser(private, people.board)
    for page in pages:
        assert reader.get(page).status_code == 200, page
