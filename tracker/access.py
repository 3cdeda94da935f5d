"""Who may do what, checked on the server for every route and every object.

Every view declares who may reach it (``@public``, ``@reader``, ``@signed_in``, ``@admin``);
a view that declares nothing answers 403, so a new route is closed until someone opens it.
Object checks (may this person update this action?) are the predicates below, used by views
and services alike.

The roles: an owner (member) updates their own actions; a group lead updates and approves
the actions of the groups they lead; board members read everything and edit nothing; admins
manage the plan, accounts, the calendar and KPIs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import object_session

from tracker.models import Action, Group, User
from tracker.models.people import group_members

F = TypeVar("F", bound=Callable[..., Any])
ACCESS = "_tracker_access"
PUBLIC, READER, SIGNED_IN, ADMIN = "public", "reader", "signed_in", "admin"
API_TOKEN = "api_token"
SECOND_FACTOR_GUARD = "tracker.second_factor_guard"


def _declare(level: str) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, ACCESS, level)
        return view
    return mark


public = _declare(PUBLIC)        # anyone, signed in or not (sign-in pages, errors)
reader = _declare(READER)        # the plan itself: public when the deployment allows it
signed_in = _declare(SIGNED_IN)  # any signed-in account; object checks may narrow it
admin = _declare(ADMIN)          # the community safety team
# the read API: an API token, never a session cookie (checked by tracker.views.api)
api_token = _declare(API_TOKEN)


def access_level(endpoint: str | None) -> str | None:
    if endpoint is None:
        return None
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS, None)


def check_request() -> Any:
    """Before every request: deny by default, then apply the view's declared level."""
    if request.endpoint is None:
        return None  # no route matched: the 404 (or 405) handler answers
    if access_level(request.endpoint) == API_TOKEN:
        return None  # the API checks its own tokens, and reads no sign-in session
    guard = current_app.extensions.get(SECOND_FACTOR_GUARD)
    if guard is not None and request.endpoint != "static" and (ended := guard()) is not None:
        return ended  # must have two-factor and has none: signed out (tracker.views.two_factor)
    level = access_level(request.endpoint)
    if level is None:
        abort(403)
    if level == PUBLIC:
        return None
    if level == READER and current_app.config["PUBLIC_READ"]:
        return None
    if not current_user.is_authenticated:
        # a form that keeps text (tracker.views.forms_support) holds what was typed first
        hold = current_app.extensions.get("tracker.hold_submission")
        held = hold() if hold is not None else None
        if held is not None:
            return held
        if g.get("session_ended") in ("idle timeout", "session too old"):
            flash("You were signed out because you had not used the tracker for a while. "
                  "Sign in again to carry on.", "info")
        else:
            flash("Sign in to see this page.", "info")
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if level == ADMIN and not is_admin(current_user):
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(check_request)


# -- predicates --------------------------------------------------------------------------


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == "admin"


LED = "_led_group_ids"  # kept on the loaded account object, for its session's life


def led_group_ids(user: Any) -> frozenset[int]:
    """The groups ``user`` leads: as the group's lead, or as a member with role lead.

    Read through the session the account was loaded in, once per loaded account.
    """
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached: frozenset[int] | None = user.__dict__.get(LED)
    if cached is None:
        db = object_session(user)
        if db is None:
            raise RuntimeError(f"{user!r} is not attached to a session")
        ids = set(db.scalars(select(Group.id).where(Group.lead_id == user.id)))
        if user.role == "lead":
            ids |= set(db.scalars(select(group_members.c.group_id)
                                  .where(group_members.c.user_id == user.id)))
        cached = frozenset(ids)
        user.__dict__[LED] = cached
    return cached


def leads_action(user: Any, action: Action) -> bool:
    return action.group_id is not None and action.group_id in led_group_ids(user)


def can_update(user: Any, action: Action) -> bool:
    """The owner of the action, or a lead of its group; never a retired action.

    Board members read everything and edit nothing, even where the plan names one as a
    group's lead (the plan check warns about that).
    """
    if not getattr(user, "is_authenticated", False) or action.is_retired:
        return False
    if user.role == "board":
        return False
    return action.owner_id == user.id or leads_action(user, action)


def can_approve(user: Any, action: Action) -> bool:
    if not getattr(user, "is_authenticated", False) or user.role == "board":
        return False
    return leads_action(user, action)


def can_resolve(user: Any, escalation: Any) -> bool:
    """Who resolves an escalation: admins always (they record the board's decisions: board
    members read and never edit); the lead of the action's group when the rule escalates to
    the group lead or the owner."""
    if not getattr(user, "is_authenticated", False) or user.role == "board":
        return False
    if is_admin(user):
        return True
    return bool(set(escalation.to) - {"board"}) and leads_action(user, escalation.action)


def can_decide_change(user: Any, change: Any, rule: str, group_ids: Collection[int]) -> bool:
    """Who decides a request for a revised due date or target: never a board member (the
    board's decisions are recorded by admins: board members read and never edit), nor the
    person who asked; admins always; and, where the plan's ``change_approval`` rule is
    ``group_lead``, a lead of the item's group (``group_ids``: the action's group, or the
    groups of a KPI)."""
    if not getattr(user, "is_authenticated", False) or user.role == "board":
        return False
    if change.requested_by_id == user.id:
        return False
    if is_admin(user):
        return True
    return rule == "group_lead" and bool(set(group_ids) & led_group_ids(user))


def can_manage(user: Any) -> bool:
    """Admins manage the plan, accounts, the calendar and KPIs."""
    return is_admin(user)


def home_endpoint(user: Any) -> str:
    """Where a person lands after signing in: a board member on the board's dashboard, an
    admin on their overview of what needs doing, an owner or a lead on their actions."""
    if not getattr(user, "is_authenticated", False):
        return "plan.overview"
    if is_admin(user):
        return "admin.home"
    if user.role == "board":
        return "board.dashboard"
    return "updates.my_actions"


def require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def safe_next(target: str | None, default: str = "/") -> str:
    """A ``next=`` target only if it is a path on this site, never another site."""
    if not target:
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def current_user_or_none() -> User | None:
    return current_user if getattr(current_user, "is_authenticated", False) else None
