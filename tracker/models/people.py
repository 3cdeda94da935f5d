"""People: the accounts of action owners, group leads, board members and admins."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, utcnow

if TYPE_CHECKING:
    from tracker.models.plan import Group

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

ROLES = ("admin", "board", "lead", "member")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="member")
    is_from_plan: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(300), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(default=None)
    # two-factor sign-in (tracker.services.two_factor): the TOTP secret, encrypted with a key
    # derived from the app's secret key; when it was set up; the last time step accepted
    # (a code of that step or an earlier one is refused, so a code works once)
    totp_secret: Mapped[str | None] = mapped_column(String(300), default=None)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)

    groups: Mapped[list[Group]] = relationship(
        secondary=group_members, back_populates="members", order_by="Group.position"
    )

    # the sign-in session this object was loaded for (set by the session loader)
    session_token = None  # type: str | None

    @property
    def ref(self) -> str:
        return self.email

    # Flask-Login's user protocol; the id it keeps in the cookie is the session token,
    # so that signing out or disabling the account ends that session on the server.
    @property
    def is_authenticated(self) -> bool:
        return self.session_token is not None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(Base):
    """A signed-in session, ended by signing out, disabling the account or a timeout."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_reason: Mapped[str | None] = mapped_column(String(50), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(300), default=None)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"


class LoginAttempt(Base):
    """A sign-in attempt, counted to throttle guessing (shared by every web worker)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "attempted_at"),
        Index("ix_login_attempts_ip_at", "ip", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_success: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.email} {self.ip} {'ok' if self.is_success else 'failed'}>"


class AccountToken(Base):
    """A single-use, expiring link to set a password: an invitation or a reset."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # invite or reset
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<AccountToken {self.purpose} user={self.user_id}>"


class RecoveryCode(Base):
    """A single-use code that stands in for the authenticator app, kept only as a keyed
    hash (:func:`tracker.services.two_factor.recovery_hash`); ``used_at`` once it is used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id}{' used' if self.used_at else ''}>"


class SecurityEvent(Base):
    """Something an admin may need to see about who tried what: a failed or throttled
    sign-in, a page refused (403), a second factor enrolled or reset. Kept apart from the
    audit trail (which records changes to the data) and written even when the request that
    met it changed nothing."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_at", "at"),
        Index("ix_security_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(320), default="")
    """The account concerned, as typed or as signed in ('' when nobody)."""
    source: Mapped[str] = mapped_column(String(64), default="")
    """The client's address (after the trusted proxies)."""
    request_id: Mapped[str] = mapped_column(String(32), default="")
    method: Mapped[str] = mapped_column(String(10), default="")
    path: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")

    def __repr__(self) -> str:
        return f"<SecurityEvent {self.id} {self.kind} {self.email!r}>"
