"""Where the board's drawn pages are kept (``page_cache``): each page's parts under the key
it is kept under and the data version it was drawn at.

What a page is kept under, when it is drawn and for whom is :mod:`tracker.views.page_cache`;
this module reads and writes the rows. Flushes only: the caller commits (keeping is done in
a transaction of its own, :func:`tracker.db.transaction_of_its_own`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tracker.models import PageCache, User


def kept(session: Session, key: str, version: int) -> dict[str, str] | None:
    """The parts of the page kept under ``key``, if they were drawn at ``version``."""
    found = session.get(PageCache, key)
    if found is not None and found.version == version:
        parts: dict[str, str] = json.loads(found.parts)
        return parts
    return None


def keep(session: Session, key: str, version: int, parts: Mapping[str, str]) -> None:
    """Keep a page's parts under ``key`` as drawn at ``version``, in place of what was kept
    under it, and drop every page drawn at an earlier version."""
    session.execute(delete(PageCache).where(or_(PageCache.key == key,
                                                PageCache.version < version)))
    session.add(PageCache(key=key, version=version, parts=json.dumps(dict(parts))))
    session.flush()


def drawn_ahead_for(session: Session) -> int | None:
    """The id of the account pages are drawn ahead as: the first active board member (None
    if there is none)."""
    member = session.scalars(select(User).where(User.role == "board", User.is_active)
                             .order_by(User.id).limit(1)).first()
    return member.id if member is not None else None
