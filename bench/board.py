"""Time the board's pages on a large synthetic plan, and count their SQL queries.

    python -m bench.board [--actions 10000] [--kpis 200] [--quarters 20] [--seed 1]
                          [--runs 20] [--db PATH] [--reuse] [--pages "dashboard,..."]
                          [--commands] [--jobs] [--job-runs 20]

Builds the database with :func:`bench.scale.build` (or, with ``--reuse``, opens the one
already at ``--db``) and signs in as a board member with the Flask test client. Each board
page of :data:`PAGES` is requested once to warm up (the first request of a process also
parses the plan), then ``--runs`` times as drawn (kept at the current data version) and
``--runs`` times drawn afresh (the data version raised before each request), each request
after one of the trivial page (the reference, measured in the same run). Packs are made as
the pack builder makes them. It prints min, median, 95th percentile and max times, the
median as a multiple of the reference's, and the SQL queries each request made; with
``--commands``, ``tracker plan check`` beside ``tracker --help`` too, and with ``--jobs``
the scheduled jobs and a plan load (see :func:`time_jobs`). A page that answers 404
(not built yet) or fails is skipped with a note. Today is pinned to :data:`bench.scale.TODAY`.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bench.scale import TODAY, build, figures_file, open_app

PAGES = {
    "trivial page": "/account",
    "dashboard": "/board",
    "exception report": "/board/exceptions",
    "priority": "/board/priorities/{priority}",
    "commitment": "/board/commitments/{commitment}",
    "trend": "/board/trend",
    # packs are made by the pack builder, not by a request: what is timed is making one
    "board pack (HTML)": "/board/pack.html",
    "board pack (XLSX)": "/board/pack.xlsx",
    "board pack (PDF)": "/board/pack.pdf",
}
REFERENCE = "trivial page"
PASSWORD = "bench-board-member-password"


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    from tracker import clock

    clock.today = lambda: TODAY
    db = Path(args.db or Path(tempfile.gettempdir()) / (
        f"tracker-bench-{args.actions}a-{args.kpis}k-{args.quarters}q-s{args.seed}.db"))
    started = time.perf_counter()
    if args.reuse and db.exists():
        print(f"Reusing {db}")
        app = open_app(db)
    else:
        for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), figures_file(db)):
            stale.unlink(missing_ok=True)
        print(f"Building {db}: {args.actions} actions, {args.kpis} KPIs, "
              f"{args.quarters} quarters, seed {args.seed} ...", flush=True)
        app = build(db, args.actions, args.kpis, args.quarters, args.seed)
    if args.make_pack:  # the child of pack_peak: make one pack, quietly, and stop
        _make_pack(app, args.make_pack)
        return 0
    print(f"Ready in {time.perf_counter() - started:.1f} s.\n")
    _print_figures(app.extensions["bench.scale"])
    email, client = signed_in_board_member(app)
    print(f"\nSigned in as {email} (board); today is {TODAY:%-d %B %Y}; {args.runs} runs "
          "per page after one warm-up request.\n")
    urls = _urls(app)
    before = _memory()
    rows = []
    packs = [name for name in args.pages if urls[name].startswith("/board/pack.")]
    for name in args.pages:
        if name == REFERENCE or name in packs:
            continue
        for drawn in (False, True):
            rows.extend(time_interleaved(app, client, name, urls[name], args.runs, drawn))
    after = _memory()  # before any pack: a web worker never makes one
    for name in packs:
        rows.append(time_page(app, client, name, urls[name], args.runs))
    _print_table(rows)
    print(f"\nMemory of this process, which serves the pages as a web worker would: "
          f"{before['VmRSS']:.0f} MB resident before the pages, {after['VmRSS']:.0f} MB after "
          f"them, {after['VmHWM']:.0f} MB at its peak (before it made any pack).")
    if packs:
        peaks = {name: pack_peak(db, urls[name].rsplit(".", 1)[1]) for name in packs}
        print("Peak memory of a process that makes the pack once, as the pack builder's "
              "child does: " + ", ".join(f"{name} {peak} MB" for name, peak in peaks.items())
              + ".")
    if args.commands:
        print()
        _print_table(time_commands(app, args.runs))
    if args.jobs:
        print()
        _print_table(time_jobs(app, db, args.job_runs))
    return 0


def _urls(app: Flask) -> dict[str, str]:
    """The pages' addresses, with the plan's first priority and commitment."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tracker.db import get_engine
    from tracker.models import Commitment, Priority

    with Session(get_engine(app)) as session:
        refs = {"priority": session.scalars(select(Priority.ref).order_by(Priority.position)
                                            ).first() or "1",
                "commitment": session.scalars(select(Commitment.ref)
                                              .order_by(Commitment.position)).first() or "1.a"}
    return {name: url.format(**refs) for name, url in PAGES.items()}


def _new_data(app: Flask) -> None:
    """As a write does: the data version goes up, so each board page is drawn again."""
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from tracker.db import get_engine
    from tracker.models import DataVersion

    with Session(get_engine(app)) as session:
        session.execute(update(DataVersion).where(DataVersion.id == 1)
                        .values(number=DataVersion.number + 1))
        session.commit()


def _get(client: FlaskClient, counter: QueryCounter, url: str) -> tuple[float, int, int]:
    counter.count = 0
    started = time.perf_counter()
    response = client.get(url)
    response.get_data()
    return (time.perf_counter() - started) * 1000, counter.count, response.status_code


def time_interleaved(app: Flask, client: FlaskClient, name: str, url: str, runs: int,
                     drawn: bool) -> list[dict[str, Any]]:
    """``runs`` requests of the page, each after one of the trivial page (the reference,
    measured in the same run): as drawn (shown from the page kept at this data version),
    or, with ``drawn``, drawn afresh each time (the data changed just before: the cost of
    the first person to open it after a write)."""
    counter = _counters.setdefault(id(app), QueryCounter(app))
    client.get(url)  # warm up (the first request of a process parses the plan)
    reference, page = [], []
    status = 200
    for _ in range(runs):
        reference.append(_get(client, counter, PAGES[REFERENCE]))
        if drawn:
            _new_data(app)
        page.append(_get(client, counter, url))
        status = max(status, page[-1][2])
    label = f"{name}, {'drawn' if drawn else 'as drawn'}"
    return [_row(f"{label}: reference", PAGES[REFERENCE], reference),
            {**_row(label, url, page), "status": status,
             "times_reference": statistics.median(t for t, _q, _s in page)
             / statistics.median(t for t, _q, _s in reference)}]


def _row(name: str, url: str, samples: list[tuple[float, int, int]]) -> dict[str, Any]:
    times = sorted(t for t, _q, _s in samples)
    runs = len(times)
    return {"page": name, "url": url, "status": max(s for _t, _q, s in samples), "runs": runs,
            "min_ms": times[0], "median_ms": statistics.median(times),
            "p95_ms": times[max(0, math.ceil(0.95 * runs) - 1)], "max_ms": times[-1],
            "queries": sorted({q for _t, q, _s in samples})}


JOBS = (("tracker statuses recompute (every status)", ["statuses", "recompute"]),
        ("tracker jobs run statuses", ["jobs", "run", "statuses"]),
        ("tracker jobs run reminders", ["jobs", "run", "reminders"]),
        ("tracker jobs run escalations", ["jobs", "run", "escalations"]))


def _run_child(command: list[str], env: dict[str, str] | None = None
               ) -> tuple[float, int, int]:
    """(milliseconds, peak resident MB, status: 200 for exit 0) of one command. The peak is
    the child's own ``VmHWM``, read every 20 ms while it runs (it only grows), which unlike
    ``ru_maxrss`` does not start at the size of this process."""
    import subprocess

    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    peak = 0.0
    while child.poll() is None:
        try:  # gone, or a zombie without its memory lines, between poll and read
            peak = max(peak, _memory(child.pid).get("VmHWM", 0.0))
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, int(peak), 200 if child.returncode == 0 else 500


def pack_peak(db: Path, fmt: str) -> int:
    """The peak resident memory, in MB, of a new process that opens the database and makes
    the open quarter's pack in ``fmt`` once (what a pack builder's child holds at most)."""
    command = [sys.executable, "-m", "bench.board", "--db", str(db), "--reuse",
               "--make-pack", fmt]
    _elapsed, peak, status = _run_child(command)
    if status != 200:
        raise RuntimeError(f"making the {fmt} pack in a new process failed")
    return peak


def _memory(pid: int | str = "self") -> dict[str, float]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def _plan_file(app: Flask, prefix: str) -> Path:
    """The plan as last loaded, written to a file in a new temporary folder."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tracker.db import get_engine
    from tracker.models import PlanLoad

    with Session(get_engine(app)) as session:
        text = session.scalars(select(PlanLoad.text).order_by(PlanLoad.id.desc())).first()
    plan = Path(tempfile.mkdtemp(prefix=prefix)) / "plans.yaml"
    plan.write_text(text or "", encoding="utf-8")
    return plan


def time_jobs(app: Flask, db: Path, runs: int) -> list[dict[str, Any]]:
    """Each run: ``tracker --help`` (the reference), then, on a fresh copy of the database,
    a recompute of every status as on today, the statuses job (which finds them worked
    out), the reminders, the escalation scan, and a load of the plan file as loaded. Times,
    and each process's peak memory (in the queries column: MB)."""
    import shutil

    plan = _plan_file(app, "bench-jobs-")
    folder = plan.parent
    tracker = str(Path(sys.executable).with_name("tracker"))
    day = TODAY.isoformat()
    samples: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for _ in range(runs):
        copy = folder / "copy.db"
        for stale in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(db, copy)
        env = {**os.environ, "TRACKER_DATABASE_URL": f"sqlite:///{copy}", "TRACKER_TODAY": day}
        samples["tracker --help: reference"].append(_run_child([tracker, "--help"], env))
        for name, args in JOBS:
            samples[name].append(_run_child([tracker, *args, "--today", day], env))
        samples["tracker plan load (the same file)"].append(
            _run_child([tracker, "plan", "load", str(plan)], env))
    reference = statistics.median(t for t, _m, _s in samples["tracker --help: reference"])
    rows = []
    for name, found in samples.items():
        row = _row(name, "-", found)
        row["queries"] = sorted({m for _t, m, _s in found})[-1:]  # the peak MB
        if not name.endswith("reference"):
            row["times_reference"] = row["median_ms"] / reference
        rows.append(row)
    print("(for these rows the last column is the peak memory of the process, MB)")
    return rows


def time_commands(app: Flask, runs: int) -> list[dict[str, Any]]:
    """``tracker plan check`` of the plan as loaded, each run after ``tracker --help`` (the
    reference: a command that starts the tracker and does nothing)."""
    plan = _plan_file(app, "bench-commands-")
    tracker = str(Path(sys.executable).with_name("tracker"))
    reference, checks = [], []
    for _ in range(runs):
        reference.append(_run_child([tracker, "--help"]))
        checks.append(_run_child([tracker, "plan", "check", str(plan)]))
    rows = [_row("tracker --help: reference", "-", reference),
            {**_row("tracker plan check", str(plan), checks),
             "times_reference": statistics.median(t for t, _q, _s in checks)
             / statistics.median(t for t, _q, _s in reference)}]
    return [{**row, "queries": ["-"]} for row in rows]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.board", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--kpis", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--make-pack", choices=("pdf", "xlsx", "csv", "html"),
                        help=argparse.SUPPRESS)  # pack_peak's child
    parser.add_argument("--db", help="the database file (default: one per size in the "
                        "temporary folder)")
    parser.add_argument("--reuse", action="store_true",
                        help="use the database at --db as it is, if it exists")
    parser.add_argument("--commands", action="store_true",
                        help="also time tracker plan check beside tracker --help")
    parser.add_argument("--jobs", action="store_true",
                        help="also time the jobs and a plan load, each run on a fresh copy "
                             "of the database, beside tracker --help")
    parser.add_argument("--job-runs", type=int, default=20)
    parser.add_argument("--pages", type=_page_names, default=list(PAGES),
                        help="the pages to time, by name, comma-separated (default: all): "
                        + ", ".join(PAGES))
    return parser.parse_args(argv)


def _page_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PAGES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown page {', '.join(unknown)}; known: "
                                         + ", ".join(PAGES))
    return names


def signed_in_board_member(app: Flask) -> tuple[str, FlaskClient]:
    """A test client signed in, through the sign-in form and the two-factor code a board
    member must give, as a board member (one is made if the plan has none), whose password
    and authenticator app are set up here."""
    import pyotp
    from sqlalchemy import select

    from tracker.db import get_session
    from tracker.models import User
    from tracker.passwords import hash_password
    from tracker.services import two_factor

    secret = pyotp.random_base32()
    with app.app_context():
        session = get_session()
        user = session.scalars(select(User).where(User.role == "board", User.is_active)
                               .order_by(User.id).limit(1)).first()
        if user is None:
            user = User(email="board.member@riverford.example", name="Board Member",
                        role="board")
            session.add(user)
        user.password_hash = hash_password(PASSWORD)
        session.flush()
        two_factor.enrol(session, user, secret, two_factor.current_step() - 2)
        email = user.email
        session.commit()
    client = app.test_client()
    response = client.post("/sign-in", data={"csrf_token": _token(client, "/sign-in"),
                                             "email": email, "password": PASSWORD})
    if response.status_code == 302 and response.headers["Location"].startswith("/sign-in/code"):
        response = client.post("/sign-in/code", data={
            "csrf_token": _token(client, "/sign-in/code"), "code": pyotp.TOTP(secret).now()})
    if response.status_code != 302 or response.headers["Location"].startswith("/sign-in"):
        raise RuntimeError(f"signing in as {email} failed ({response.status_code})")
    return email, client


def _token(client: FlaskClient, url: str) -> str:
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(
        as_text=True))
    if token is None:
        raise RuntimeError(f"no CSRF token on {url}")
    return token.group(1)


class QueryCounter:
    """Counts the SQL statements the app's engine sends (``before_cursor_execute``)."""

    def __init__(self, app: Flask) -> None:
        from sqlalchemy import event

        from tracker.db import get_engine

        self.count = 0
        event.listen(get_engine(app), "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


_counters: dict[int, QueryCounter] = {}


def _make_pack(app: Flask, fmt: str) -> Any:
    """Make the open quarter's pack as the pack builder does (the same render)."""
    from tracker.db import get_session
    from tracker.reports.dashboard import Filters, choose_quarter
    from tracker.reports.pack import render
    from tracker.services.plan_load import current_plan

    with app.app_context():
        session = get_session()
        plan = current_plan(session)
        assert plan is not None
        return render(fmt, session, plan, TODAY, choose_quarter(plan, TODAY, None), Filters(),
                      env=app.jinja_env)


def time_page(app: Flask, client: FlaskClient, name: str, url: str, runs: int
              ) -> dict[str, Any]:
    """One warm-up request, then ``runs`` timed ones: times in ms, queries per request. For
    a pack, making it (what the pack builder does) is timed instead of a request."""
    counter = _counters.setdefault(id(app), QueryCounter(app))
    row: dict[str, Any] = {"page": name, "url": url}
    if url.startswith("/board/pack."):
        fmt = url.rsplit(".", 1)[1]
        times, queries = [], []
        for attempt in range(runs + 1):
            counter.count = 0
            started = time.perf_counter()
            made = _make_pack(app, fmt)
            elapsed = (time.perf_counter() - started) * 1000
            if attempt == 0:
                row.update(first_ms=elapsed, first_queries=counter.count, status="built",
                           bytes=len(made.content))
                continue
            times.append(elapsed)
            queries.append(counter.count)
        times.sort()
        row.update(runs=runs, min_ms=times[0], median_ms=statistics.median(times),
                   p95_ms=times[max(0, math.ceil(0.95 * runs) - 1)], max_ms=times[-1],
                   queries=sorted(set(queries)))
        return row
    counter.count = 0
    started = time.perf_counter()
    response = client.get(url)
    row.update(first_ms=(time.perf_counter() - started) * 1000, first_queries=counter.count,
               status=response.status_code, bytes=len(response.get_data()))
    if response.status_code == 404:
        row["note"] = "404: not built yet, skipped"
        return row
    if response.status_code >= 500:
        row["note"] = f"{response.status_code}: the page failed (error logged above), skipped"
        return row
    times, queries = [], []
    for _ in range(runs):
        counter.count = 0
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        queries.append(counter.count)
    times.sort()
    row.update(runs=runs, median_ms=statistics.median(times),
               p95_ms=times[max(0, math.ceil(0.95 * runs) - 1)],
               queries=sorted(set(queries)), status=response.status_code)
    return row


def _print_figures(figures: dict[str, Any]) -> None:
    def seconds(key: str) -> str:
        return f"{figures[key]:.1f} s" if key in figures else "-"

    lines = [
        ("plan", f"{figures.get('actions', '?')} actions, {figures.get('kpis', '?')} KPIs, "
                 f"{figures.get('plan_bytes', 0) / 1e6:.1f} MB of YAML"
                 if "plan_bytes" in figures else "(built earlier; no figures saved)"),
        ("quarters", f"{figures.get('quarters', '?')} ({figures.get('first_quarter', '?')} to "
                     f"{figures.get('open_quarter', '?')}, the open one)"),
        ("generate plan text", seconds("generate_s")),
        ("database migrations", seconds("migrate_s")),
        ("plan load", seconds("load_s")),
        ("plan parse (per process)", seconds("plan_parse_s")),
        ("populate (bulk inserts)", seconds("history_s")),
        ("recompute statuses", seconds("recompute_s")),
        ("database size", f"{figures['db_bytes'] / 1e6:.1f} MB"),
    ]
    for key in ("rows_actions", "rows_users", "rows_action_updates", "rows_action_statuses",
                "rows_rollup_statuses", "rows_escalations", "rows_kpi_values",
                "rows_audit_events"):
        if key in figures:
            lines.append((key.removeprefix("rows_").replace("_", " "), f"{figures[key]:,}"))
    for key in ("open_quarter_updates", "open_quarter_missing", "completions", "concerns",
                "second_versions"):
        if key in figures:
            lines.append((key.replace("_", " "), f"{figures[key]:,}"))
    print("Build")
    for label, value in lines:
        print(f"  {label + ':':<26} {value}")


def _print_table(rows: list[dict[str, Any]]) -> None:
    head = ("what", "url", "status", "runs", "min ms", "median ms", "p95 ms", "max ms",
            "x reference", "queries/request")
    table = [head]
    notes = []
    for row in rows:
        if "note" in row:
            notes.append(f"  {row['page']} ({row['url']}): {row['note']}")
            continue
        queries = row["queries"]
        shown = str(queries[0]) if len(queries) == 1 else f"{queries[0]}-{queries[-1]}"
        ratio = row.get("times_reference")
        table.append((row["page"], row["url"], str(row["status"]), str(row["runs"]),
                      f"{row.get('min_ms', row.get('first_ms', 0)):.1f}",
                      f"{row['median_ms']:.1f}", f"{row['p95_ms']:.1f}",
                      f"{row.get('max_ms', row['p95_ms']):.1f}",
                      f"{ratio:.1f}" if ratio else "", shown))
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for index, line in enumerate(table):
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths, strict=True))))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    if notes:
        print("\nSkipped:")
        print("\n".join(notes))


if __name__ == "__main__":
    sys.exit(main())
