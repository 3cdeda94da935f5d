"""Long units of work for commands and jobs, done without holding the write lock for long.

Loading a plan and recomputing every status take seconds at a large partnership's size.
Done in one transaction, they would hold the database's write lock (SQLite has one for the
whole file) all that time, and every person saving an update would wait. So each is done in
two steps, on the unit of work's session (:func:`tracker.db.get_session`):

1. a *read* works out everything (the plan's diff; every status, escalation and roll-up),
   writing nothing and locking nothing;
2. a short *write* transaction stores the result, having first checked what changed in
   between: a plan loaded since, or actions whose statuses someone recomputed since (those
   are worked out again there and then, see :mod:`tracker.services.statuses`).

A load applies the plan and records it in one short transaction, then recomputes in two
steps; if the process dies between the two, the plan is loaded with its statuses as they
were, and the scheduler's ``statuses`` job (or ``tracker statuses recompute``) catches up.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from plans import Plan
from plans.bulk import cycle_collection_paused
from plans.stored import freeze
from tracker import clock
from tracker.db import get_session, read_transaction, transaction
from tracker.services import audit
from tracker.services.plan_load import LoadResult, apply_plan_file, current_plan, read_plan_file
from tracker.services.plan_sync import Snapshot, desired_of, diff_plan
from tracker.services.statuses import (
    PlanChanged,
    Recomputed,
    latest_plan_load,
    needs_opening,
    store,
    work_out,
)

logger = logging.getLogger(__name__)

ATTEMPTS = 3


class PlanMoved(RuntimeError):
    """Plans kept being loaded while this one was: it was not loaded."""


def recompute_everything(plan: Plan, today: date, actor: audit.Actor) -> Recomputed:
    """Recompute every status and roll-up: worked out in a read, stored in a short write.

    If a plan is loaded in between, the work is done again with that plan.
    """
    with cycle_collection_paused():  # 200,000 statuses at a large size: see plans.bulk
        return _recompute_everything(plan, today, actor)


def _recompute_everything(plan: Plan, today: date, actor: audit.Actor) -> Recomputed:
    for _attempt in range(ATTEMPTS):
        with read_transaction() as db:
            worked = work_out(db, plan, today)
        try:
            with transaction() as db:
                return store(db, plan, worked, actor)
        except PlanChanged:
            with read_transaction() as db:
                newer = current_plan(db)
            if newer is None:  # pragma: no cover - plans are never unloaded
                raise
            plan = newer
    with transaction() as db:  # plans keep changing: do it all under the lock, once
        return store(db, plan, work_out(db, plan, today), actor)


def open_quarter(plan: Plan, today: date, actor: audit.Actor) -> Recomputed | None:
    """Work out the statuses of the quarter open on ``today`` if it has none yet."""
    with read_transaction() as db:
        needed = needs_opening(db, plan, today)
    return recompute_everything(plan, today, actor) if needed else None


def load_plan(path: str | Path, loaded_by: str | None = None,
              today: date | None = None) -> tuple[LoadResult, Recomputed]:
    """Check the file, work out its diff in a read, apply it in one short transaction, then
    recompute statuses in two steps. A refused file (``PlanError``, ``PartnershipMismatch``)
    writes nothing."""
    with cycle_collection_paused():  # tens of thousands of rows at a large size
        return _load_plan(path, loaded_by, today)


def _load_plan(path: str | Path, loaded_by: str | None,
               today: date | None) -> tuple[LoadResult, Recomputed]:
    plan, data = read_plan_file(path)  # no database at all: a refused file never gets further
    actor = loaded_by or audit.COMMAND_LINE
    frozen = freeze(plan)  # kept with the load, so every process reads it fast
    db = get_session()
    for attempt in range(ATTEMPTS):
        if attempt:
            db.expire_all()  # read again what the other load wrote
        # the read: every plan item, and what loading would change; a refused file stops here
        snapshot = Snapshot.load(db)
        desired = desired_of(plan)
        diff = diff_plan(db, plan, snapshot, desired)
        seen = latest_plan_load(db)
        db.commit()  # ends the read, keeping what it loaded (nothing was written)
        with transaction() as db:
            if latest_plan_load(db) != seen:
                continue  # another load came first: read again
            result = apply_plan_file(db, plan, data, path, loaded_by, snapshot, diff, desired,
                                     frozen)
        break
    else:
        raise PlanMoved("other plans kept being loaded at the same time: load it again")
    return result, recompute_everything(plan, today or clock.today(), actor)
