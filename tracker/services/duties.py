"""Statutory duties: those with a due day, which the duties job reminds the admins about."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Duty


def dated_duties(session: Session) -> list[Duty]:
    """Every current duty that has a due day (``MM-DD``), in the plan's order."""
    return list(session.scalars(select(Duty).where(Duty.retired_at.is_(None),
                                                   Duty.due.is_not(None))
                                .order_by(Duty.position)))
