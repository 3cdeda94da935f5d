"""What the board's pages are drawn from, kept for every worker and host to share.

- :class:`DataVersion`: one row whose number goes up with every committed transaction that
  writes the data the board's pages show (:mod:`tracker.db` bumps it as the transaction
  commits, whatever wrote: a form, a job, a command or a bulk statement). A second row
  holds the plan shape's stamp, new (and random) whenever a transaction writes the plan's
  shape: its priorities, commitments, actions, themes, groups, agencies or people
  (:data:`tracker.db.SHAPE_TABLES`, read by :mod:`tracker.reports.shape`).
- :class:`PageCache`: a board page's drawn parts (its body and breadcrumbs), kept under the
  data version they were drawn at; a page whose version is not the current one is drawn
  again (:mod:`tracker.views.page_cache`; the rows: :mod:`tracker.services.page_cache`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, utcnow


class DataVersion(Base):
    __tablename__ = "data_versions"

    id: Mapped[int] = mapped_column(primary_key=True)  # 1: the data version; 2: the shape's stamp
    number: Mapped[int] = mapped_column(BigInteger, default=0)


class PageCache(Base):
    __tablename__ = "page_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of what it is
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    parts: Mapped[str] = mapped_column(Text)  # JSON: {"body": html, "crumbs": html}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
