"""Use cases around the plan file: check it, compare it with the database, load it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from plans import Plan, PlanError, parse_plan
from plans.errors import Problem
from tracker import clock
from tracker.models import PlanLoad
from tracker.services import audit
from tracker.services.loaded_plan import current_plan as current_plan  # for its callers
from tracker.services.loaded_plan import keep_parsed
from tracker.services.plan_sync import Desired, PlanDiff, Snapshot, apply_plan, diff_plan
from tracker.services.statuses import recompute


@dataclass
class LoadResult:
    plan: Plan
    diff: PlanDiff
    record: PlanLoad | None


def read_plan_file(path: str | Path) -> tuple[Plan, bytes]:
    """Read and validate a plan file; :class:`PlanError` lists every problem if refused."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PlanError([Problem(str(path), 0, f"cannot read the file: {exc.strerror}")]) \
            from None
    return parse_plan(data, str(path)), data


def compare_plan_file(session: Session, path: str | Path) -> tuple[Plan, PlanDiff]:
    plan, _ = read_plan_file(path)
    return plan, diff_plan(session, plan)


def load_plan_file(session: Session, path: str | Path, loaded_by: str | None = None,
                   today: date | None = None) -> LoadResult:
    """Validate the file and apply it, then recompute statuses with its rules, all in the
    caller's transaction (:func:`tracker.work.load_plan` does it without holding the write
    lock for long). Flushes only: the caller commits once, or rolls everything back.
    """
    plan, data = read_plan_file(path)
    result = apply_plan_file(session, plan, data, path, loaded_by)
    recompute(session, plan, today or clock.today(), actor=loaded_by or audit.COMMAND_LINE)
    return result


def apply_plan_file(session: Session, plan: Plan, data: bytes, path: str | Path,
                    loaded_by: str | None = None, snapshot: Snapshot | None = None,
                    diff: PlanDiff | None = None, desired: Desired | None = None,
                    frozen: bytes | None = None) -> LoadResult:
    """Apply a validated plan and record the load (its text, checksum and changes) and its
    audit row; statuses are left to the caller. Flushes only. ``snapshot``, ``diff`` and
    ``desired``: as :func:`tracker.services.plan_sync.apply_plan` takes them; ``frozen``: the
    plan as :func:`plans.stored.freeze` froze it, if done before the write transaction."""
    diff = apply_plan(session, plan, snapshot, diff, desired)
    record = PlanLoad(
        loaded_by=loaded_by,
        filename=Path(path).name,
        sha256=hashlib.sha256(data).hexdigest(),
        text=data.decode("utf-8-sig"),
        changes=diff.as_json(),
    )
    keep_parsed(record, plan, frozen)
    session.add(record)
    counts = diff.counts()
    rules = len(diff.rules)
    audit.record(session, loaded_by or audit.COMMAND_LINE, "plan.loaded", "plan",
                 plan.partnership.id,
                 f"{Path(path).name}: {counts['add']} added, {counts['change']} changed, "
                 f"{counts['retire']} retired, {counts['restore']} restored"
                 + (f", {rules} change{'' if rules == 1 else 's'} to the rules" if rules else ""),
                 new={"sha256": record.sha256, "counts": counts,
                      **({"rules": [r.describe() for r in diff.rules]} if rules else {})})
    session.flush()
    return LoadResult(plan, diff, record)
