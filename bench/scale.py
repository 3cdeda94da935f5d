"""A synthetic partnership plan of any size, loaded and filled with quarterly history.

``plan_text(actions, kpis, quarters, seed)`` writes a valid plan file for a made-up
partnership (:mod:`bench.synthetic_plan`).

``populate(app, today, seed)`` fills a database that has such a plan loaded with the history
the tracker would hold by ``today``: counting quarterly updates for every started action in
every quarter (mostly Green, some Amber and Red, a few missing, concerns with their reasons,
corrective actions, completions, the odd second version), ticked milestones and a value for
every KPI in every finished period. Rows go in with bulk inserts; statuses are then computed
once by :func:`tracker.services.statuses.recompute`, and each phase is timed.

``build(db_path, ...)`` does the lot on a new SQLite file: migrations, plan load, history.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import zlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select, update

from bench.synthetic_plan import TODAY, UPDATE_DUE_DAYS, plan_period, plan_text
from plans import Quarter

__all__ = ["TODAY", "build", "figures_file", "load", "open_app", "plan_period", "plan_text",
           "populate", "table_counts"]

# -- what owners write in their updates ------------------------------------------------

NARRATIVES = {
    "green": [
        "Delivery is on track. Partners met as planned this quarter and the agreed activity "
        "went ahead.",
        "Good progress this quarter: the work is being delivered as set out in the delivery "
        "plan, and attendance from partners has been strong.",
        "On track. Feedback from residents and partners has been positive and is shaping the "
        "next steps.",
        "The quarter's activity took place as planned; numbers reached are in line with the "
        "profile agreed at the start of the year.",
    ],
    "amber": [
        "Some slippage this quarter because of staff vacancies in a partner agency; most "
        "activity went ahead.",
        "Progress is slower than planned while data-sharing arrangements are agreed between "
        "partners.",
        "Partly on track: one strand is delayed by the timing of the funding decision.",
    ],
    "red": [
        "Significant delay: the commissioned provider withdrew and the work has been paused "
        "while it is re-procured.",
        "Off track. Key partners have not been able to release staff and the milestone dates "
        "have been missed.",
    ],
}
NEXT_STEPS = [
    "Present the findings to the thematic group and agree the next quarter's activity.",
    "Complete the remaining milestones and report back to the thematic group.",
    "Hold the partner workshop and agree owners for the follow-up actions.",
    "Share the evaluation with the board and agree whether to extend the work.",
]
CORRECTIVE = {
    "amber": ["Interim cover agreed with partners; revised timetable to be agreed at the next "
              "thematic group.",
              "Data-sharing agreement escalated to the information governance leads."],
    "red": ["Escalated to the lead agency's senior manager; recovery plan to be brought to "
            "the next board.",
            "Re-procurement under way; the group lead is reviewing the scope with partners."],
}
RISKS = ["", "", "Capacity in partner agencies over the summer.",
         "Funding beyond March is not yet confirmed.",
         "Dependence on data from a partner whose system is changing."]
CONCERNS = ["Delivery depends on a decision the board needs to make.",
            "Partner funding has been withdrawn and no alternative has been found.",
            "Risk to residents if the service gap is not closed this quarter."]

# -- a database with the plan and its history ---------------------------------------------

BEFORE_ANY_PLAN = date(1900, 1, 1)
"""Loading "as on" this day finds no quarter of the plan open, so the load computes no
statuses: :func:`populate` computes them once, after the history is in."""

CHUNK = 20_000


def make_app(db_path: str | Path) -> Flask:
    """An app on the SQLite file ``db_path`` (not created here)."""
    from tracker import create_app

    return create_app({
        "DATABASE_URL": f"sqlite:///{Path(db_path).resolve()}",
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
    })


def load(app: Flask, text: str, today: date = BEFORE_ANY_PLAN) -> dict[str, Any]:
    """Load plan text the way ``tracker plan load`` does: from a file, validated, in one
    transaction. Returns the time it took and what the load added."""
    from tracker.db import transaction
    from tracker.services.plan_load import load_plan_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "riverford-plan.yaml"
        path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        with app.app_context(), transaction() as session:
            result = load_plan_file(session, path, loaded_by="bench", today=today)
        seconds = time.perf_counter() - started
    return {"plan_bytes": len(text.encode("utf-8")), "load_s": seconds,
            "plan_items_added": result.diff.counts()["add"],
            "plan_warnings": list(result.plan.warnings)}


def populate(app: Flask, today: date = TODAY, seed: int = 1) -> dict[str, Any]:
    """Write the history up to ``today`` with bulk inserts (one transaction), then compute
    every status once (another). Returns counts and the seconds each part took."""
    from tracker.db import transaction
    from tracker.models import ActionUpdate, KPIValue, Milestone
    from tracker.services.calendar import plan_quarters
    from tracker.services.plan_load import current_plan
    from tracker.services.statuses import recompute

    figures: dict[str, Any] = {}
    with app.app_context():
        started = time.perf_counter()
        with transaction() as session:
            plan = current_plan(session)  # parsed once per process, as the app does
            if plan is None:
                raise LookupError("no plan is loaded: load one first")
            figures["plan_parse_s"] = time.perf_counter() - started
            started = time.perf_counter()
            if session.scalar(select(func.count()).select_from(ActionUpdate)):
                raise RuntimeError("the database already has quarterly updates")
            quarters = plan_quarters(plan, today)
            history = _History(session, plan, quarters, today, seed)
            rows, ticks = history.updates()
            for i in range(0, len(rows), CHUNK):
                session.execute(insert(ActionUpdate), rows[i:i + CHUNK])
            if ticks:
                session.execute(update(Milestone), ticks)
            values = history.kpi_values()
            for i in range(0, len(values), CHUNK):
                session.execute(insert(KPIValue), values[i:i + CHUNK])
        figures["history_s"] = time.perf_counter() - started
        figures.update(history.counts)
        figures.update(quarters=len(quarters), first_quarter=quarters[0].label,
                       open_quarter=quarters[-1].label, update_rows=len(rows),
                       milestones_completed=len(ticks), kpi_values=len(values))
        started = time.perf_counter()
        with transaction() as session:
            result = recompute(session, plan, today, actor="bench")
        figures["recompute_s"] = time.perf_counter() - started
        figures.update(statuses_added=result.added, escalations_raised=result.raised)
    figures.update(table_counts(app))
    return figures


def table_counts(app: Flask) -> dict[str, int]:
    """Rows in the tables the board pages read."""
    from tracker.db import get_engine
    from tracker.models import (
        Action,
        ActionStatus,
        ActionUpdate,
        AuditEvent,
        Escalation,
        KPIValue,
        RollupStatus,
        User,
    )

    tables = {"actions": Action, "users": User, "action_updates": ActionUpdate,
              "action_statuses": ActionStatus, "rollup_statuses": RollupStatus,
              "escalations": Escalation, "kpi_values": KPIValue, "audit_events": AuditEvent}
    with get_engine(app).connect() as conn:
        return {f"rows_{name}": conn.scalar(select(func.count()).select_from(model)) or 0
                for name, model in tables.items()}


def build(db_path: str | Path, actions: int, kpis: int, quarters: int = 20, seed: int = 1,
          today: date = TODAY) -> Flask:
    """Create the database ``db_path`` (it must not exist), load a plan of this size and
    its history. The figures (seconds, counts, bytes) are in ``app.extensions["bench.scale"]``.
    """
    from tracker import migrate
    from tracker.db import get_engine

    path = Path(db_path)
    if path.exists():
        raise FileExistsError(f"{path} exists: remove it, or open it with open_app()")
    app = make_app(path)
    figures: dict[str, Any] = {"actions": actions, "kpis": kpis, "seed": seed}
    started = time.perf_counter()
    migrate.upgrade(get_engine(app))
    figures["migrate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    text = plan_text(actions, kpis, quarters, seed, today)
    figures["generate_s"] = time.perf_counter() - started
    figures.update(load(app, text))
    figures.update(populate(app, today, seed))
    figures["db_bytes"] = checkpoint(app, path)
    app.extensions["bench.scale"] = figures
    figures_file(path).write_text(json.dumps(figures, indent=1, default=str) + "\n",
                                  encoding="utf-8")
    return app


def figures_file(db_path: str | Path) -> Path:
    """Where :func:`build` leaves its figures, beside the database: ``DB.json``."""
    return Path(f"{db_path}.json")


def open_app(db_path: str | Path) -> Flask:
    """An app on a database :func:`build` made earlier, brought up to the latest migration
    (its figures, if saved, in ``app.extensions["bench.scale"]``)."""
    from tracker import migrate
    from tracker.db import get_engine

    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: build it first")
    app = make_app(path)
    migrate.upgrade(get_engine(app))  # the schema may have moved on since it was built
    saved = figures_file(path)
    figures = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    app.extensions["bench.scale"] = {**figures, "db_bytes": checkpoint(app, path),
                                     **table_counts(app)}
    return app


def checkpoint(app: Flask, path: Path) -> int:
    """Fold the write-ahead log into the file; return the database's size in bytes."""
    from tracker.db import get_engine

    with get_engine(app).connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class _History:
    """The quarterly updates and KPI values a partnership would have entered by ``today``."""

    def __init__(self, session: Any, plan: Any, quarters: list[Quarter], today: date,
                 seed: int) -> None:
        self.session, self.plan, self.quarters = session, plan, quarters
        self.today, self.seed = today, seed
        self.review = "approved" if plan.rules.approval == "group_lead" else "not_needed"
        self.counts = {"action_quarters_started": 0, "updates_missing": 0,
                       "open_quarter_updates": 0, "open_quarter_missing": 0,
                       "second_versions": 0, "completions": 0, "concerns": 0}

    def updates(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        from tracker.models import Action, Milestone
        from tracker.services.statuses import action_start

        session, calendar = self.session, self.plan.partnership.calendar
        milestones: dict[int, list[tuple[int, date]]] = defaultdict(list)
        for mid, action_id, due in session.execute(
                select(Milestone.id, Milestone.action_id, Milestone.due)
                .where(Milestone.retired_at.is_(None)).order_by(Milestone.position)):
            milestones[action_id].append((mid, due))
        rows: list[dict[str, Any]] = []
        ticks: list[dict[str, Any]] = []
        actions = session.execute(
            select(Action.id, Action.ref, Action.owner_id, Action.starts, Action.due,
                   Action.years).where(Action.retired_at.is_(None)).order_by(Action.position))
        for action in actions:
            begins = action_start(self.plan, action)
            first = max(self.quarters[0], calendar.quarter_of(begins))
            rng = random.Random(self.seed * 1_000_003 + zlib.crc32(action.ref.encode()))
            self._action(action, begins, first, rng, rows, ticks, milestones[action.id])
        return rows, ticks

    def _action(self, action: Any, begins: date, first: Quarter, rng: random.Random,
                rows: list[dict[str, Any]], ticks: list[dict[str, Any]],
                milestones: list[tuple[int, date]]) -> None:
        counts = self.counts
        slips = rng.random() < 0.15  # falls behind and misses its due date
        early = not slips and rng.random() < 0.1  # done a quarter early
        open_q = self.quarters[-1]
        ticked: set[int] = set()
        rag = "green"
        for quarter in self.quarters:
            if quarter < first:
                continue
            counts["action_quarters_started"] += 1
            is_open = quarter == open_q
            if rng.random() < (0.25 if is_open else 0.04):
                counts["updates_missing"] += 1
                counts["open_quarter_missing"] += is_open
                continue
            overdue = quarter.end > action.due
            done = (quarter.end >= action.due and not slips) \
                or (early and quarter.next().end >= action.due) \
                or (slips and overdue and rng.random() < 0.25)
            span = max((action.due - begins).days, 1)
            expected = min(max((quarter.end - begins).days / span, 0.0), 1.0)
            when = min(_at(quarter.end + timedelta(days=rng.randint(-5, UPDATE_DUE_DAYS + 3))),
                       _at(self.today, 9))
            if not done and rng.random() < 0.05:  # a first version, corrected later
                rows.append(self._row(action, quarter, 1, rag, int(expected * 60), rng,
                                      when - timedelta(days=3)))
                counts["second_versions"] += 1
                version = 2
            else:
                version = 1
            if done:
                rag, percent = "blue", 100
                counts["completions"] += 1
            else:
                rag = _next_rag(rng, rag, slips, overdue)
                percent = int(min(expected * (0.7 if slips else 1.0), 0.95) * 100)
            rows.append(self._row(action, quarter, version, rag, percent, rng, when))
            counts["open_quarter_updates"] += is_open
            for mid, due in milestones:
                if mid not in ticked and due <= quarter.end and (not slips or rng.random() < 0.5):
                    ticked.add(mid)
                    ticks.append({"id": mid, "completed_at": _at(min(due, self.today)),
                                  "completed_by_id": action.owner_id})
            if done:
                break

    def _row(self, action: Any, quarter: Quarter, version: int, rag: str, percent: int,
             rng: random.Random, when: datetime) -> dict[str, Any]:
        colour = rag if rag in NARRATIVES else "green"
        is_concern = rng.random() < {"red": 0.5, "amber": 0.08}.get(rag, 0.0)
        self.counts["concerns"] += is_concern
        narrative = "Complete: the action has been delivered and closed at the thematic " \
            "group." if rag == "blue" else " ".join(rng.sample(NARRATIVES[colour], 2))
        evidence = [f"https://riverford.example/evidence/{action.ref}/{quarter.slug}"] \
            if rng.random() < 0.2 else []
        return {
            "action_id": action.id, "quarter": quarter.label, "version": version, "rag": rag,
            "percent_complete": percent, "narrative": narrative,
            "next_steps": "" if rag == "blue" else rng.choice(NEXT_STEPS),
            "risks": rng.choice(RISKS),
            "corrective_action": rng.choice(CORRECTIVE[rag]) if rag in CORRECTIVE else "",
            "is_concern": is_concern,
            "concern_reason": rng.choice(CONCERNS) if is_concern else "",
            "evidence": evidence, "author_id": action.owner_id, "created_at": when,
            "review": self.review, "reviewed_by_id": None, "reviewed_at": None,
            "review_comment": "",
        }

    def kpi_values(self) -> list[dict[str, Any]]:
        """A value for every KPI in every finished period of the plan up to today."""
        from tracker.models import KPI

        plan, today = self.plan, self.today
        calendar = plan.partnership.calendar
        years = [y for y in calendar.years_between(plan.partnership.plan.starts,
                                                   plan.partnership.plan.ends)
                 if y.end < today]
        quarters = [q for q in self.quarters if q.end < today]
        rows: list[dict[str, Any]] = []
        kpis = self.session.scalars(select(KPI).where(KPI.retired_at.is_(None))
                                    .order_by(KPI.position))
        for kpi in kpis:
            rng = random.Random(self.seed * 7919 + zlib.crc32(kpi.ref.encode()))
            slipping = rng.random() < 0.15  # goes the wrong way, beyond its tolerance
            periods = [(y.label, y.start, y.end) for y in years] \
                if kpi.frequency == "annual" else [(q.label, q.start, q.end) for q in quarters]
            base = kpi.baseline_value if kpi.baseline_value is not None else 100.0
            for step, (label, start, end) in enumerate(periods):
                goal = kpi.targets.get(calendar.year_of(start).label, kpi.target) or base
                progress = min(step / max(len(periods) - 1, 1), 1.0)
                value = base + (goal - base) * progress
                if slipping:
                    value *= 1 + (0.06 + 0.10 * progress) * (1 if kpi.better == "lower" else -1)
                value *= 1 + rng.uniform(-0.03, 0.03)
                if kpi.unit == "percent":
                    value = max(0.0, min(100.0, round(value, 1)))
                elif kpi.unit in ("count", "currency"):
                    value = float(max(0, round(value)))
                else:
                    value = round(value, 1)
                rows.append({"kpi_id": kpi.id, "period": label, "value": value, "note": "",
                             "source": "import", "data_source": kpi.source or "",
                             "recorded_by_id": kpi.owner_id,
                             "recorded_at": _at(min(end + timedelta(days=20), today), 8)})
        return rows


def _next_rag(rng: random.Random, rag: str, slips: bool, overdue: bool) -> str:
    """How an owner's own rating moves from one quarter to the next."""
    if overdue and slips:
        return "red" if rng.random() < 0.8 else "amber"
    roll = rng.random()
    if slips:
        return "red" if roll < 0.35 else "amber" if roll < 0.85 else "green"
    if rag == "blue":
        rag = "green"
    if rag == "green":
        return "amber" if roll < 0.12 else "red" if roll < 0.14 else "green"
    return "green" if roll < 0.6 else rag
