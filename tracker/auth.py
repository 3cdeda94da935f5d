"""Signing in: sessions kept in the database, throttling, and single-use account links.

The browser's cookie holds only a random token. The session it stands for is a row of
``user_sessions``, so signing out, disabling an account or a timeout ends it on the server,
whatever the cookie says. Failed sign-ins are counted in the database, so every web worker
shares the same count.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from flask import Flask, current_app, g, request, session
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from tracker.db import get_session, has_failed
from tracker.models import AccountToken, LoginAttempt, User, UserSession, utcnow
from tracker.passwords import hash_password, verify_password

login_manager = LoginManager()

# Throttling slows guessing without handing anyone a way to lock the owner out: failures
# are counted within THROTTLE_WINDOW for an account from one address (that address waits,
# longer with each failure), from one address whatever the account (credential stuffing),
# and for an account from everywhere (a spread-out guess: each attempt then waits a little).
THROTTLE_WINDOW = timedelta(minutes=15)
PAIR_FAILURES = 5             # for one account from one address: then it waits ...
PAIR_FIRST_WAIT = timedelta(seconds=30)   # ... 30 s, doubling with each failure, up to ...
PAIR_LONGEST_WAIT = THROTTLE_WINDOW       # ... the window
ADDRESS_FAILURES = 30         # from one address, any accounts: it waits out the window
ACCOUNT_FAILURES = 20         # for one account from every address: each attempt waits ...
ACCOUNT_WAIT = timedelta(seconds=10)      # ... this long after the last failure
LAST_SEEN_EVERY = timedelta(seconds=60)
INVITE_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None  # tracker.access says why sign-in is needed
    login_manager.session_protection = None  # the database session is the protection
    login_manager.user_loader(load_user)


def load_user(token: str) -> User | None:
    """Flask-Login's loader: the token in the cookie, checked against the database (not on
    the error page of a request the database failed: it reads nothing)."""
    if has_failed():
        return None
    db = get_session()
    row = db.scalars(select(UserSession).where(UserSession.token_hash == token_hash(token))
                     .options(joinedload(UserSession.user))).first()
    if row is None:
        return None
    g.ended_user_id = row.user_id  # whose session this was, should it turn out to have ended
    if row.ended_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    reason = None
    if not row.user.is_active:
        reason = "account disabled"
    elif now - row.last_seen_at > idle:
        reason = "idle timeout"
    elif now - row.created_at > absolute:
        reason = "session too old"
    # both are written with the request's unit of work (bookkeeping a GET may write too)
    if reason is not None:
        row.ended_at, row.ended_reason = now, reason
        g.session_ended = reason
        return None
    if now - row.last_seen_at > LAST_SEEN_EVERY:
        row.last_seen_at = now
    g.pop("ended_user_id", None)
    user = row.user
    user.session_token = token
    g.user_session_id = row.id
    return user


def _client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


SIGN_IN_METHODS = ("password", "sso")


def sign_in(db: Session, user: User, method: str = "password") -> None:
    """Start a new session for ``user`` (flushes; the view commits).

    ``method`` is how they proved who they are: ``password`` (with a second factor where
    one is needed) or ``sso`` (the council's identity provider, which applies its own
    multi-factor rules). It is kept in the session as ``signed_in_with``.
    """
    if method not in SIGN_IN_METHODS:
        raise ValueError(f"unknown sign-in method {method!r}")
    held = session.get("held_submission")
    session.clear()  # a new session at sign-in: nothing from before carries over ...
    if held:
        session["held_submission"] = held  # ... except text kept safe while signed out
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now,
                       last_seen_at=now, ip=_client_ip(),
                       user_agent=(request.user_agent.string or "")[:300]))
    user.last_signed_in_at = now
    user.session_token = token
    login_user(user)
    session["signed_in_with"] = method
    session.permanent = False


def sign_out(db: Session, reason: str = "signed out") -> None:
    """End this request's session on the server, and forget it in the cookie."""
    session_id = g.get("user_session_id")
    if session_id is not None:
        row = db.get(UserSession, session_id)
        if row is not None and row.ended_at is None:
            row.ended_at, row.ended_reason = utcnow(), reason
    logout_user()
    session.clear()


def end_sessions(db: Session, user: User, reason: str, keep: int | None = None) -> int:
    """End every open session of ``user`` (but ``keep``); returns how many were ended."""
    query = (update(UserSession)
             .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
             .values(ended_at=utcnow(), ended_reason=reason))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return db.execute(query).rowcount or 0  # type: ignore[attr-defined]


# -- throttling ---------------------------------------------------------------------------


def throttled(db: Session, email: str) -> str | None:
    """Why this sign-in must wait, from this address for this account, or None."""
    now = utcnow()
    since = now - THROTTLE_WINDOW
    address, account = _client_ip(), email.strip().lower()
    failed = (select(func.count(), func.max(LoginAttempt.attempted_at)).select_from(LoginAttempt)
              .where(LoginAttempt.attempted_at >= since, LoginAttempt.is_success.is_(False)))
    pair, pair_last = db.execute(failed.where(LoginAttempt.email == account,
                                              LoginAttempt.ip == address)).one()
    if pair >= PAIR_FAILURES and pair_last is not None:
        wait = min(PAIR_LONGEST_WAIT, PAIR_FIRST_WAIT * 2 ** (pair - PAIR_FAILURES))
        if (left := pair_last + wait - now) > timedelta(0):
            return ("There have been too many failed attempts to sign in to this account "
                    f"from here. Wait {_duration(left)} and try again, or ask an "
                    "administrator to reset your password.")
    by_address, _last = db.execute(failed.where(LoginAttempt.ip == address)).one()
    if by_address >= ADDRESS_FAILURES:
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        return (f"There have been too many failed attempts to sign in from this network. "
                f"Wait {minutes} minutes and try again.")
    everywhere, last = db.execute(failed.where(LoginAttempt.email == account)).one()
    if everywhere >= ACCOUNT_FAILURES and last is not None:
        if (left := last + ACCOUNT_WAIT - now) > timedelta(0):
            return ("Many attempts to sign in to this account have failed recently, so each "
                    f"attempt waits a little. Wait {_duration(left)} and try again.")
    return None


def _duration(left: timedelta) -> str:
    seconds = max(1, round(left.total_seconds()))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def record_attempt(db: Session, email: str, is_success: bool) -> None:
    db.add(LoginAttempt(email=email.lower()[:320], ip=_client_ip(), is_success=is_success))


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    return hash_password(secrets.token_urlsafe(32))


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The active account with this email and password, or None.

    A password hash is checked on every attempt, against a stand-in when there is no such
    account (or it has no password, or is disabled), so that the time taken does not tell
    whether an account exists.
    """
    user = db.scalars(select(User).where(func.lower(User.email) == email.lower())).first()
    usable = user is not None and user.is_active and user.password_hash is not None
    stored = user.password_hash if usable and user is not None else _stand_in_hash()
    if not verify_password(stored, password) or not usable:
        return None
    return user


# -- invitation and reset links -----------------------------------------------------------


def issue_link(db: Session, user: User, purpose: str, base_url: str) -> str:
    """A single-use, expiring link to set a password; earlier unused links stop working."""
    now = utcnow()
    db.execute(update(AccountToken)
               .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
               .values(used_at=now))
    token = secrets.token_urlsafe(32)
    lifetime = INVITE_LIFETIME if purpose == "invite" else RESET_LIFETIME
    db.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=token_hash(token),
                        created_at=now, expires_at=now + lifetime))
    db.flush()
    return f"{base_url.rstrip('/')}/account/set-password/{token}"


def find_link(db: Session, token: str) -> AccountToken | None:
    """The account link for ``token`` if it is unused, unexpired and its account active."""
    row = db.scalars(select(AccountToken).where(AccountToken.token_hash == token_hash(token))
                     .options(joinedload(AccountToken.user))).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    if not row.user.is_active:
        return None
    return row


def link_expiry(row: AccountToken) -> datetime:
    return row.expires_at
