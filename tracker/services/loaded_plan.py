"""The plan as last loaded, read from the database (its rules drive statuses).

A process reads it once per load: from the plan as parsed when it was loaded, frozen beside
its text (:mod:`plans.stored`; 0.2 s at 10,000 actions), or, if that was frozen by other
code (an upgrade since) or never (a load before it was kept), by parsing the text again.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import Plan, parse_plan
from plans.stored import STAMP, NotThawed, freeze, thaw
from tracker.models import PlanLoad

logger = logging.getLogger(__name__)

_PARSED: dict[str, Plan] = {}
"""Plans read in this process, by the SHA-256 of their text (a handful at most)."""


def forget_read_plans() -> None:
    """Forget the plans this process has read, as a new process starts: the next call of
    :func:`current_plan` reads the latest load from the database again."""
    _PARSED.clear()


def current_plan(session: Session) -> Plan | None:
    """The plan as last loaded, read once per process.

    Only the latest load's id, checksum and stamp are read on each call; the plan itself is
    read the first time a process meets that checksum.
    """
    latest = session.execute(select(PlanLoad.id, PlanLoad.sha256, PlanLoad.parsed_stamp)
                             .order_by(PlanLoad.id.desc()).limit(1)).first()
    if latest is None:
        return None
    plan = _PARSED.get(latest.sha256)
    if plan is None:
        plan = _thawed(session, latest.id) if latest.parsed_stamp == STAMP else None
        if plan is None:
            text, filename = session.execute(select(PlanLoad.text, PlanLoad.filename)
                                             .where(PlanLoad.id == latest.id)).one()
            plan = parse_plan(text, filename)
        if len(_PARSED) >= 4:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[latest.sha256] = plan
    return plan


def _thawed(session: Session, load_id: int) -> Plan | None:
    data = session.scalar(select(PlanLoad.parsed).where(PlanLoad.id == load_id))
    if data is None:
        return None
    try:
        return thaw(data)
    except NotThawed as refused:
        logger.warning("plan load %d: %s; parsing its text instead", load_id, refused)
        return None


def keep_parsed(record: PlanLoad, plan: Plan, frozen: bytes | None = None) -> None:
    """Keep ``plan``, as parsed, on its load's row (``frozen``: already frozen, outside the
    write transaction)."""
    record.parsed, record.parsed_stamp = frozen or freeze(plan), STAMP


def refreeze(session: Session) -> bool:
    """Freeze the latest load's plan again if it was frozen by other code (after an upgrade)
    or never; whether it did. Flushes only."""
    latest = session.scalars(select(PlanLoad).order_by(PlanLoad.id.desc()).limit(1)).first()
    if latest is None or latest.parsed_stamp == STAMP:
        return False
    plan = _PARSED.get(latest.sha256) or parse_plan(latest.text, latest.filename)
    keep_parsed(latest, plan)
    session.flush()
    return True
