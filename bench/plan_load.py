"""How long a plan load holds the database's write lock, at a large partnership's size.

    .venv/bin/python -m bench.plan_load --actions 10000 --kpis 200 --db /tmp/b10k.db --reuse

Builds the synthetic plan's database (or reuses the one at ``--db``), then reloads the plan
file after an annual review: every tenth commitment reworded, one in twenty actions given a
later due date, and the roll-up rule changed from ``worst`` to ``majority`` (so that every
roll-up is worked out again, and many are stored again). Each run loads it into a fresh copy
of the database, once as ``tracker plan load`` does now (:func:`tracker.work.load_plan`: the
diff and the statuses worked out in reads, each stored in a short write transaction) and,
interleaved with it, once in one transaction as before (the reference: the lock is held for
the whole load). It prints, for each, the longest time the write lock was held (from
``BEGIN IMMEDIATE`` to the end of that transaction), the whole load's time, and the peak
memory of the process, as min / median / max over ``--runs``. The goal: the lock held under
2 s for a 10,000-action plan.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.scale import TODAY, build, make_app, plan_text
from bench.synthetic_plan import plan_period

GOAL_SECONDS = 2.0


class LockTimer:
    """The write transactions an engine ran: from ``BEGIN IMMEDIATE`` to commit or rollback."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.held: list[float] = []
        self._since: float | None = None
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._ended)
        event.listen(engine, "rollback", self._ended)

    def _executed(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):
            self._since = time.perf_counter()

    def _ended(self, _conn: Any) -> None:
        if self._since is not None:
            self.held.append(time.perf_counter() - self._since)
            self._since = None

    @property
    def longest(self) -> float:
        return max(self.held, default=0.0)


def reviewed(text: str) -> str:
    """The plan after an annual review: some wording, some dates, the roll-up rule."""
    counter = {"commitment": 0, "due": 0}

    def reword(match: re.Match[str]) -> str:
        if match.group(2).startswith(("'", '"', "|", ">")):
            return match.group(0)  # only plain values are reworded
        counter["commitment"] += 1
        if counter["commitment"] % 10:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)} (reworded at the annual review)\n"

    def later(match: re.Match[str]) -> str:
        counter["due"] += 1
        if counter["due"] % 20:
            return match.group(0)
        return f"{match.group(1)}2027-03-31\n"

    changed = re.sub(r"^(\s+text: )(.+)\n", reword, text, flags=re.M)
    changed = re.sub(r"^(\s+due: )(\d{4}-\d{2}-\d{2})\n", later, changed, flags=re.M)
    if "rollup: worst" not in changed:
        raise RuntimeError("the synthetic plan's roll-up rule is not 'worst' any more")
    return changed.replace("rollup: worst", "rollup: majority")


def _load(db_file: Path, plan_file: Path, two_steps: bool) -> dict[str, float]:
    from tracker.db import get_engine, transaction
    from tracker.services.plan_load import load_plan_file
    from tracker.work import load_plan

    app = make_app(db_file)
    timer = LockTimer(get_engine(app))
    started = time.perf_counter()
    with app.app_context():
        if two_steps:
            load_plan(plan_file, loaded_by="bench", today=TODAY)
        else:
            with transaction() as session:
                load_plan_file(session, plan_file, loaded_by="bench", today=TODAY)
    seconds = time.perf_counter() - started
    get_engine(app).dispose()
    return {"lock_s": timer.longest, "load_s": seconds, "writes": len(timer.held)}


def _figures(values: list[float], unit: str = "s") -> str:
    return (f"{min(values):8.2f} {statistics.median(values):8.2f} {max(values):8.2f} {unit}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    db = Path(args.db or Path(tempfile.gettempdir()) / f"bench-{args.actions}.db")
    if not (args.reuse and db.exists()):
        print(f"Building {db} ({args.actions} actions, {args.kpis} KPIs)...", flush=True)
        build(db, args.actions, args.kpis)
    else:
        from tracker import migrate
        from tracker.db import get_engine

        app = make_app(db)
        migrate.upgrade(get_engine(app))
        get_engine(app).dispose()
    starts, ends = plan_period(args.quarters)
    text = plan_text(args.actions, args.kpis, quarters=args.quarters)
    with tempfile.TemporaryDirectory() as folder:
        plan_file = Path(folder) / "riverford-plan-reviewed.yaml"
        plan_file.write_text(reviewed(text), encoding="utf-8")
        results: dict[str, list[dict[str, float]]] = {"two steps": [], "one transaction": []}
        for run in range(args.runs):
            for name, two_steps in (("two steps", True), ("one transaction", False)):
                copy = Path(folder) / f"run-{run}-{two_steps}.db"
                shutil.copy(db, copy)
                results[name].append(_load(copy, plan_file, two_steps))
                copy.unlink()
                print(f"  run {run + 1} {name}: lock {results[name][-1]['lock_s']:.2f} s, "
                      f"load {results[name][-1]['load_s']:.2f} s", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nReloading a {args.actions}-action plan after a review ({starts} to {ends}), "
          f"{args.runs} runs each, interleaved:\n")
    print(f"{'':<34}{'min':>8} {'median':>8} {'max':>8}")
    for name, rows in results.items():
        print(f"{name + ': write lock held':<34}{_figures([r['lock_s'] for r in rows])}")
        print(f"{name + ': whole load':<34}{_figures([r['load_s'] for r in rows])}")
    longest = statistics.median(r["lock_s"] for r in results["two steps"])
    print(f"\nGoal: the lock held under {GOAL_SECONDS:.0f} s: median {longest:.2f} s "
          f"({'met' if longest < GOAL_SECONDS else 'NOT met'}). Peak memory of this "
          f"process: {peak:.0f} MiB.")
    return 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--kpis", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="the database file (default: one per size in the "
                        "temporary folder)")
    parser.add_argument("--reuse", action="store_true",
                        help="use the database at --db as it is, if it exists")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
