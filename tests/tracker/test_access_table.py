"""Deny by default: every view says who may reach it, and one that does not answers 403."""

from __future__ import annotations

from flask import Flask

from tests.tracker.signing import ADMIN, signed_in
from tracker import access


def test_every_endpoint_declares_who_may_reach_it(kingston_app: Flask) -> None:
    levels = {access.PUBLIC, access.READER, access.SIGNED_IN, access.ADMIN, access.API_TOKEN}
    undeclared = []
    for rule in kingston_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = kingston_app.view_functions[rule.endpoint]
        if getattr(view, access.ACCESS, None) not in levels:
            undeclared.append(f"{rule.endpoint} ({rule.rule})")
    assert undeclared == [], "declare an access level (@access.public, .reader, " \
        ".signed_in, .admin or .api_token) on: " + ", ".join(undeclared)
    assert len(list(kingston_app.url_map.iter_rules())) > 10  # the walk saw the real app


def test_token_endpoints_are_the_read_apis_alone(kingston_app: Flask) -> None:
    """Only the read API (under /api/v1/) answers to API tokens, and it answers to nothing
    else: a token never opens a page, and a session never opens the API."""
    for rule in kingston_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        level = getattr(kingston_app.view_functions[rule.endpoint], access.ACCESS, None)
        if level == access.API_TOKEN:
            assert rule.rule.startswith("/api/v1/"), rule.rule


def test_admin_endpoints_are_for_admins(kingston_app: Flask) -> None:
    admin_views = {rule.endpoint for rule in kingston_app.url_map.iter_rules()
                   if rule.rule.startswith("/admin/")}
    assert {"admin.audit", "admin.users", "admin.user"} <= admin_views
    for endpoint in admin_views:
        assert getattr(kingston_app.view_functions[endpoint], access.ACCESS) == access.ADMIN


def test_a_view_without_a_declaration_is_closed_even_to_an_admin(kingston_app: Flask) -> None:
    def forgotten() -> str:
        return "the secret report"

    @access.public
    def opened() -> str:
        return "the open page"

    kingston_app.add_url_rule("/forgotten", "forgotten", forgotten, methods=["GET", "POST"])
    kingston_app.add_url_rule("/opened", "opened", opened)

    anonymous = kingston_app.test_client()
    admin = signed_in(kingston_app, ADMIN)
    for client in (anonymous, admin):
        for method in ("get", "post"):
            response = getattr(client, method)("/forgotten")
            assert response.status_code == 403, method
            assert "the secret report" not in response.get_data(as_text=True)
        # the same app answers a declared view: what closed the other was the missing mark
        assert client.get("/opened").get_data(as_text=True) == "the open page"
    assert admin.get("/admin/users").status_code == 200
