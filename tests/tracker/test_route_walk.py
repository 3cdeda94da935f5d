"""Every route of the app, with every role: deny by default, the permission table upheld.

The table below must name every endpoint: a new route makes this test fail until someone
decides who may reach it. POSTs carry a valid CSRF token, so that what answers is the
permission check, not the token check.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.tracker import signing
from tracker.db import get_engine
from tracker.models import Action, ActionUpdate, Escalation, Group, User
from tracker.passwords import hash_password

PASSWORD = "walk-every-route-please"
ROLES = ("anonymous", "owner", "lead", "other_member", "board", "admin")

ALLOW, FORBID, SIGN_IN = "allow", "forbid", "sign in"
TOKEN = "API token"  # the read API: a 401 for every session, signed in or not


def api_token(_role: str) -> str:
    return TOKEN


def everyone(_role: str) -> str:
    return ALLOW


def signed_in(role: str) -> str:
    return SIGN_IN if role == "anonymous" else ALLOW


def only(*roles: str) -> Callable[[str], str]:
    def rule(role: str) -> str:
        if role == "anonymous":
            return SIGN_IN
        return ALLOW if role in roles else FORBID
    return rule


# endpoint -> who may reach it; the plan pages are public on this (demo) configuration
TABLE: dict[str, Callable[[str], str]] = {
    "plan.overview": everyone,
    "plan.priority": everyone,
    "plan.commitment": everyone,
    "plan.action": everyone,
    "plan.themes": everyone,
    "plan.theme": everyone,
    "plan.whos_who": everyone,
    "auth.sign_in": everyone,
    "auth.set_password": everyone,
    "sso.start": everyone,
    "sso.callback": everyone,
    "auth.account": signed_in,
    "auth.sign_out": signed_in,
    # the second step of signing in: without a password just given, back to the sign-in page
    "auth.two_factor.code": signed_in,
    "auth.two_factor.set_up": signed_in,
    "auth.two_factor.account_set_up": signed_in,
    "auth.two_factor.recovery_codes": signed_in,
    "auth.two_factor.turn_off": only("owner", "lead", "other_member"),  # not a required role
    "updates.my_actions": signed_in,
    "updates.update_open_quarter": only("owner", "lead"),
    "updates.update": only("owner", "lead"),
    "updates.review": only("lead"),
    "updates.quarters": only("admin"),
    "updates.lock": only("admin"),
    "kpis.index": everyone,
    "kpis.detail": everyone,
    "kpis.chart": everyone,
    "kpis.enter_value": only("admin"),  # and the KPI's owner, who is none of these people
    "admin.home": only("admin"),
    "admin.audit": only("admin"),
    "admin.users": only("admin"),
    "admin.user": only("admin"),
    "kpi_import.upload": only("admin"),
    "kpi_import.police": only("admin"),
    "board.dashboard": signed_in,
    "board.priority": signed_in,
    "board.commitment": signed_in,
    "board.exceptions": signed_in,
    "board.trend": signed_in,
    "board.trend_chart": signed_in,
    "board.pack": signed_in,
    "board.pack_status": signed_in,
    "board.pack_progress": signed_in,
    "board.pack_file": signed_in,
    "commentary.edit": only("admin"),  # and a priority's lead: see its tests
    "layouts.index": only("admin"),
    "layouts.new": only("admin"),
    "layouts.edit": only("admin"),
    "escalations.index": signed_in,
    "escalations.detail": signed_in,
    "escalations.resolve": only("admin"),  # or the lead of the action's group: see its tests
    "outbox.index": only("admin"),
    "outbox.message": only("admin"),
    "outbox.retry": only("admin"),
    "changes.index": signed_in,
    "changes.detail": signed_in,
    "changes.decide": only("lead", "admin"),  # by the plan's rules: see their tests
    "changes.ask_due_date": only("owner", "lead"),
    "changes.ask_target": only(),  # the KPI's owner, who is none of these people
    # the read API: tokens only, never a session (tests/tracker/test_api.py); its document
    # is public
    **{f"api.{name}": api_token for name in (
        "plan", "actions", "statuses", "updates", "kpis", "escalations",
        *(f"feed_{feed}_{fmt}" for feed in ("action_statuses", "kpi_values", "escalations")
          for fmt in ("csv", "json")))},
    "api_docs.openapi": everyone,
    "api_tokens.index": only("admin"),
    "api_tokens.create": only("admin"),
    "api_tokens.revoke": only("admin"),
    "health.healthz": everyone,  # a load balancer's checks: public in every deployment
    "health.readyz": everyone,
    # the public progress page: no sign-in (a 404 while TRACKER_PUBLIC_PAGE is off)
    "public.page": everyone,
    "public.chart": everyone,
    "stories.new": only("owner", "lead", "other_member", "admin"),  # staff; not the board
    "stories.index": only("admin"),
    "stories.decide": only("admin"),
}
# admin POST endpoints are the admin's alone
ADMIN_PREFIX = "admin."


def _people(app: Flask) -> tuple[dict[str, User], Action, ActionUpdate]:
    with Session(get_engine(app), expire_on_commit=False) as s:
        action = next(
            a for a in s.scalars(select(Action).order_by(Action.position))
            if a.group_id is not None and a.owner.role == "member"
            and s.get(Group, a.group_id).lead_id not in (None, a.owner_id)  # type: ignore[union-attr]
        )
        group = s.get(Group, action.group_id)
        assert group is not None and group.lead is not None
        other = s.scalars(select(User).where(User.role == "member",
                                             User.id != action.owner_id)).first()
        people = {
            "owner": action.owner, "lead": group.lead, "other_member": other,
            "board": s.scalars(select(User).where(User.role == "board")).first(),
            "admin": s.scalars(select(User).where(User.role == "admin")).first(),
        }
        for user in people.values():
            assert user is not None
            user.password_hash = hash_password(PASSWORD)
        version = 1 + (s.scalar(select(func.max(ActionUpdate.version)).where(
            ActionUpdate.action_id == action.id, ActionUpdate.quarter == "2024/25 Q1")) or 0)
        update = ActionUpdate(action_id=action.id, quarter="2024/25 Q1", version=version,
                              rag="green", percent_complete=10, narrative="Started.",
                              review="pending", author_id=action.owner_id)
        s.add(update)
        # an escalation to the board: admins resolve it, a lead never does
        s.add(Escalation(action_id=action.id, rule="Route walk", to=["board"],
                         quarter="2024/25 Q1", last_quarter="2024/25 Q1",
                         reason="Route walk: a board escalation", resolution=""))
        s.commit()
        return people, action, update  # type: ignore[return-value]


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _client(app: Flask, role: str, people: dict[str, User]) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = _token(client.get("/sign-in").get_data(as_text=True))
    if role == "anonymous":
        return client, token
    email = people[role].email
    if signing.needs_second_factor(app, email):
        signing.enrol(app, email)
    response = client.post("/sign-in", data={"csrf_token": token, "email": email,
                                             "password": PASSWORD})
    response = signing.second_factor(client, email, response)
    assert response.status_code == 302, role
    return client, _token(client.get("/account").get_data(as_text=True))


def _board_escalation(app: Flask) -> int:
    with Session(get_engine(app)) as s:
        found = s.scalar(select(Escalation.id).where(Escalation.rule == "Route walk"))
        assert found is not None
        return found


def _url(app: Flask, rule, action: Action, update: ActionUpdate,  # type: ignore[no-untyped-def]
         people: dict[str, User]) -> str:
    samples = {"ref": action.ref, "quarter": "2024-25-Q1", "update_id": update.id,
               "token_id": 1, "story_id": 1,
               "token": "not-a-real-token", "change": "lock", "user_id": people["owner"].id,
               "fmt": "csv", "message_id": 1, "build_id": 1, "filename": "pack.csv",
               "scope": "summary", "layout_id": 1,
               "escalation_id": _board_escalation(app)}
    if rule.endpoint in ("plan.priority", "board.priority"):
        samples["ref"] = "1"
    elif rule.endpoint in ("plan.commitment", "board.commitment"):
        samples["ref"] = "1.a"
    elif rule.endpoint == "plan.theme":
        samples["ref"] = "vulnerability"
    elif rule.endpoint.startswith("kpis.") or rule.endpoint == "changes.ask_target":
        samples["ref"] = "asb-incidents"
    if "change_id" in rule.arguments:  # the owner's request for a later due date: open
        from tracker.models import ChangeRequest

        with Session(get_engine(app)) as s:
            found = s.scalar(select(ChangeRequest.id).where(ChangeRequest.reason
                                                            == "Route walk"))
            if found is None:
                row = ChangeRequest(kind="action_due", action_id=action.id,
                                    baseline_date=action.due, from_date=action.due,
                                    requested_date=action.due, reason="Route walk",
                                    requested_by_id=people["owner"].id,
                                    open_key=f"action_due:{action.id}")
                s.add(row)
                s.commit()
                found = row.id
        samples["change_id"] = found
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: samples[k] for k in rule.arguments})


def _outcome(response) -> str:  # type: ignore[no-untyped-def]
    if response.status_code == 401 and response.is_json:
        return TOKEN
    if response.status_code == 403:
        return FORBID
    if response.status_code in (301, 302) and "/sign-in" in response.headers.get("Location", "") \
            and response.request.path != "/sign-in":
        return SIGN_IN
    assert response.status_code < 500, (response.request.path, response.status_code)
    return ALLOW


def test_every_route_with_every_role(kingston_app: Flask) -> None:
    people, action, update = _people(kingston_app)
    rules = [r for r in kingston_app.url_map.iter_rules() if r.endpoint != "static"]
    unknown = sorted({r.endpoint for r in rules} - set(TABLE)
                     - {r.endpoint for r in rules if r.endpoint.startswith(ADMIN_PREFIX)})
    assert unknown == [], f"decide who may reach these new routes: {unknown}"
    # sign-out ends the session: walk it last
    rules.sort(key=lambda r: r.endpoint == "auth.sign_out")
    failures = []
    for role in ROLES:
        client, token = _client(kingston_app, role, people)
        for rule in rules:
            expected = TABLE.get(rule.endpoint, only("admin"))(role)
            url = _url(kingston_app, rule, action, update, people)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, data={"csrf_token": token})
                got = _outcome(response)
                if rule.endpoint == "auth.sign_out" and role != "anonymous" and got == SIGN_IN:
                    got = ALLOW  # signing out sends you to the sign-in page
                if got != expected:
                    failures.append(f"{role:<13} {method:<4} {url}: expected {expected}, "
                                    f"got {got} ({response.status_code})")
    assert failures == []
