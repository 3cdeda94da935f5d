"""Tokens for the read API (``/api/v1``) and the log of every use of one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, utcnow
from tracker.models.people import User


class ApiToken(Base):
    """A read-only API token, made by an admin for a named purpose (a Power BI report, a
    council's data warehouse). Only the SHA-256 hash of its secret is kept; ``prefix`` is
    the start of the token, shown in lists so a person can tell tokens apart. When it was last
    used is the newest row of its usage log (:class:`ApiTokenUse`), so that a request made with
    it writes that log and nothing else."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_by_label: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        state = " revoked" if self.revoked_at else ""
        return f"<ApiToken {self.id} {self.prefix}… {self.purpose!r}{state}>"


class ApiTokenUse(Base):
    """One request made with a token (refused ones included): the usage log, and what the
    rate limit counts (kept in the database, so every web worker counts the same uses)."""

    __tablename__ = "api_token_uses"
    __table_args__ = (Index("ix_api_token_uses_token_id_used_at", "token_id", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int]
    remote_addr: Mapped[str] = mapped_column(String(64), default="")

    def __repr__(self) -> str:
        return f"<ApiTokenUse token={self.token_id} {self.method} {self.path} {self.status}>"
