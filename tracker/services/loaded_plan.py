"""The plan as last loaded, read from the database (its rules drive statuses)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Plan, parse_plan
from tracker.models import PlanLoad

_PARSED: dict[str, Plan] = {}
"""Plans parsed in this process, by the SHA-256 of their text (a handful at most)."""


def current_plan(session: Session) -> Plan | None:
    """The plan as last loaded (its rules drive statuses), parsed once per process.

    Only the latest load's id and checksum are read on each call; its text is read and
    parsed the first time a process meets that checksum.
    """
    latest = session.execute(select(PlanLoad.id, PlanLoad.sha256)
                             .order_by(PlanLoad.id.desc()).limit(1)).first()
    if latest is None:
        return None
    plan = _PARSED.get(latest.sha256)
    if plan is None:
        text, filename = session.execute(select(PlanLoad.text, PlanLoad.filename)
                                         .where(PlanLoad.id == latest.id)).one()
        plan = parse_plan(text, filename)
        if len(_PARSED) >= 4:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[latest.sha256] = plan
    return plan
