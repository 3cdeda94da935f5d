"""API tokens: made by an admin for a named purpose with an expiry, shown once, kept only
as a SHA-256 hash, revocable, read-only (the API has no route that writes), rate limited
and logged on every use.

A token is ``cspt_`` and 43 characters of :func:`secrets.token_urlsafe`; its first
:data:`PREFIX_LENGTH` characters are kept as they are, so lists can show which token is
which. A token presented to the API is hashed and looked up by its hash (the database
compares hashes, so no timing of a string comparison reveals how much of a guess was right).

The rate limit counts the token's rows in the usage log within :data:`RATE_WINDOW`: the log
is in the database, so every web worker (and every host) counts the same uses.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import ApiToken, ApiTokenUse, User, utcnow
from tracker.services import audit

SCHEME = "cspt_"
PREFIX_LENGTH = 12
LONGEST_LIFE_DAYS = 366
PURPOSE_LENGTH = 200
RATE_WINDOW = timedelta(seconds=60)
RATE_LIMIT = 120  # requests a token may make within RATE_WINDOW (TRACKER_API_RATE_LIMIT)


class TokenRefused(ValueError):
    """A token cannot be made or revoked as asked; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(db: Session, actor: User | str, purpose: str, days: int,
           now: datetime | None = None) -> NewToken:
    """A new token for ``purpose`` that expires in ``days`` days (1 to a year); audited.
    Flushes; the caller commits."""
    purpose = " ".join(purpose.split())
    if not purpose:
        raise TokenRefused("Enter what the token is for, such as 'Power BI board report'.")
    if len(purpose) > PURPOSE_LENGTH:
        raise TokenRefused(f"The purpose must be {PURPOSE_LENGTH} characters or fewer.")
    if not 1 <= days <= LONGEST_LIFE_DAYS:
        raise TokenRefused(f"A token expires in 1 to {LONGEST_LIFE_DAYS} days.")
    now = now or utcnow()
    secret = SCHEME + secrets.token_urlsafe(32)
    label = actor.email if isinstance(actor, User) else actor
    token = ApiToken(purpose=purpose, prefix=secret[:PREFIX_LENGTH],
                     token_hash=token_hash(secret), created_at=now,
                     expires_at=now + timedelta(days=days),
                     created_by_id=actor.id if isinstance(actor, User) else None,
                     created_by_label=label)
    db.add(token)
    db.flush()
    audit.record(db, actor, "api_token.created", "api_token", token.prefix,
                 f"API token {token.prefix}… made for {purpose!r}",
                 new={"purpose": purpose, "expires_at": token.expires_at})
    return NewToken(token, secret)


def revoke(db: Session, actor: User | str, token: ApiToken, now: datetime | None = None) -> None:
    """Revoke ``token`` at once (it answers 401 from then on); audited. Flushes."""
    if token.revoked_at is not None:
        raise TokenRefused(f"Token {token.prefix}… is already revoked.")
    token.revoked_at = now or utcnow()
    audit.record(db, actor, "api_token.revoked", "api_token", token.prefix,
                 f"API token {token.prefix}… ({token.purpose!r}) revoked",
                 old={"revoked_at": None}, new={"revoked_at": token.revoked_at})
    db.flush()


def by_id(db: Session, token_id: int) -> ApiToken | None:
    """A token by its id."""
    return db.get(ApiToken, token_id)


def find(db: Session, prefix_or_id: str) -> ApiToken | None:
    """A token by its id or by the prefix lists show."""
    if prefix_or_id.isdigit():
        return db.get(ApiToken, int(prefix_or_id))
    return db.scalars(select(ApiToken).where(ApiToken.prefix == prefix_or_id)).first()


@dataclass(frozen=True)
class Listed:
    token: ApiToken
    last_used_at: datetime | None
    uses: int

    def state(self, now: datetime) -> str:
        if self.token.revoked_at is not None:
            return "revoked"
        return "expired" if self.token.expires_at <= now else "active"


def listing(db: Session) -> list[Listed]:
    """Every token, newest first, with when it was last used and how often: two queries."""
    tokens = list(db.scalars(select(ApiToken).order_by(ApiToken.created_at.desc(),
                                                       ApiToken.id.desc())))
    used = {token_id: (last, uses) for token_id, last, uses in db.execute(
        select(ApiTokenUse.token_id, func.max(ApiTokenUse.used_at), func.count())
        .group_by(ApiTokenUse.token_id))}
    result = []
    for token in tokens:
        last, uses = used.get(token.id, (None, 0))
        result.append(Listed(token, last, uses))
    return result


# -- checking a token presented to the API ------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """What a presented token turned out to be: ``token`` when it is known (even when it is
    refused, so the refusal is logged against it); ``problem`` when it is refused."""

    token: ApiToken | None
    problem: str | None = None
    code: str = ""


def check(db: Session, secret: str | None, now: datetime | None = None) -> Checked:
    if not secret:
        return Checked(None, "Send the token as 'Authorization: Bearer <token>'.",
                       "token_missing")
    if not secret.startswith(SCHEME) or len(secret) > 100:
        return Checked(None, "That is not an API token of this tracker.", "token_invalid")
    token = db.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))
                       ).first()
    if token is None:
        return Checked(None, "That token is not known: it may be mistyped.", "token_invalid")
    now = now or utcnow()
    if token.revoked_at is not None:
        return Checked(token, "That token was revoked: ask an admin for a new one.",
                       "token_revoked")
    if token.expires_at <= now:
        return Checked(token, "That token has expired: ask an admin for a new one.",
                       "token_expired")
    return Checked(token)


def wait_for(db: Session, token: ApiToken, limit: int, now: datetime | None = None
             ) -> int | None:
    """Seconds until ``token`` may be used again, or None when it is within its limit."""
    now = now or utcnow()
    since = now - RATE_WINDOW
    times = list(db.scalars(select(ApiTokenUse.used_at)
                            .where(ApiTokenUse.token_id == token.id,
                                   ApiTokenUse.used_at > since, ApiTokenUse.status != 429)
                            .order_by(ApiTokenUse.used_at.desc()).limit(limit)))
    if len(times) < limit:
        return None
    oldest = times[-1]
    return max(1, int((oldest + RATE_WINDOW - now).total_seconds()) + 1)


def log_use(db: Session, token_id: int, method: str, path: str, status: int,
            remote_addr: str, now: datetime | None = None) -> None:
    db.add(ApiTokenUse(token_id=token_id, used_at=now or utcnow(), method=method[:10],
                       path=path[:500], status=status, remote_addr=remote_addr[:64]))
    db.flush()
