"""Several server processes on one database, many people at once, a plan load meanwhile.

Three ``tracker serve`` processes (and, separately, gunicorn with four workers) share one
SQLite file, and then one PostgreSQL database. Twenty people, each signed in, send ten
versions of an update each, every request going to the next server in turn, while the plan
is loaded twice (once with a new roll-up rule and a renamed RAG rule, once back). Nothing
may answer 5xx, and every update accepted must be stored exactly once, with its audit row
(which says "awaiting approval" where the person does not lead the action's group: Kingston's
group leads approve owners' updates).
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from tests.conftest import KINGSTON
from tests.tracker.helpers import forms
from tests.tracker.servers import Person, Servers, run_tracker, serving
from tests.tracker.signing import PASSWORD, password_hash
from tracker.models import Action, ActionUpdate, AuditEvent, Group, User
from tracker.models.people import group_members

TODAY = date(2026, 11, 25)  # 2026/27 Q2 is open for updates
QUARTER, SLUG = "2026/27 Q2", "2026-27-Q2"
PEOPLE = 20
VERSIONS = 10


@dataclass
class Scene:
    url: str
    owners: list[tuple[str, str]]  # (email, action ref), one per person
    # the actions whose owner does not lead its group: Kingston's group leads approve
    # such updates, so each is saved awaiting approval
    awaiting: set[str] = field(default_factory=set)


def _scene(url: str) -> Scene:
    """Twenty open actions of different owners, whose passwords are set here."""
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            rows = s.execute(
                select(Action.ref, Action.years, User.email, User.id, User.role,
                       Action.group_id, Group.lead_id)
                .join(User, User.id == Action.owner_id)
                .outerjoin(Group, Group.id == Action.group_id)
                .where(Action.retired_at.is_(None), Action.due > date(2026, 9, 30),
                       User.role != "board", User.is_active.is_(True))
                .order_by(Action.position)).all()
            memberships = {(group_id, user_id) for group_id, user_id in s.execute(
                select(group_members.c.group_id, group_members.c.user_id))}
            chosen: dict[str, str] = {}
            awaiting: set[str] = set()
            for ref, years, email, user_id, role, group_id, lead_id in rows:
                if "2026/27" in years and email not in chosen:
                    chosen[email] = ref
                    # a group is led by its lead, and by its members whose role is lead
                    leads = group_id is not None and (lead_id == user_id or (
                        role == "lead" and (group_id, user_id) in memberships))
                    if not leads:
                        awaiting.add(ref)
            owners = list(chosen.items())[:PEOPLE]
            assert len(owners) == PEOPLE, "the plan needs twenty open actions of twenty owners"
            awaiting &= {ref for _, ref in owners}
            assert awaiting, "some of the twenty are owners whose updates await approval"
            s.execute(update(User).where(User.email.in_([e for e, _ in owners]))
                      .values(password_hash=password_hash()))
            s.commit()
    finally:
        engine.dispose()
    return Scene(url, owners, awaiting)


@pytest.fixture(params=["sqlite", "postgres"])
def scene(request: pytest.FixtureRequest, kingston_db_template: Path, tmp_path: Path) -> Scene:
    """Kingston on a SQLite file, or on a new PostgreSQL database loaded by the commands."""
    if request.param == "sqlite":
        database = tmp_path / "tracker.db"
        shutil.copy(kingston_db_template, database)
        return _scene(f"sqlite:///{database}")
    url = request.getfixturevalue("postgres_url")
    for args in (("db", "upgrade"), ("plan", "load", str(KINGSTON))):
        done = run_tracker(url, TODAY, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    return _scene(url)


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: dict[str, list[int]] = field(default_factory=dict)  # ref -> versions accepted
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, what: str, status: int, body: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            if status >= 500:
                self.problems.append(f"{what}: {status} {body[:300]!r}")


def _text(ref: str, person: int, version: int) -> str:
    return f"{ref}: progress from person {person}, version {version} of {VERSIONS}."


def _send_updates(servers: Servers, scene: Scene, number: int, tally: Tally,
                  started: threading.Barrier) -> None:
    email, ref = scene.owners[number]
    person = Person(servers)
    try:
        person.sign_in(email, PASSWORD)
    except AssertionError as failed:
        tally.problems.append(f"signing in as {email}: {failed}")
        started.abort()  # the others stop waiting: the test fails with this problem
        return
    try:
        started.wait(timeout=120)
    except threading.BrokenBarrierError:
        return
    path = f"/actions/{ref}/update/{SLUG}"
    accepted: list[int] = []
    for version in range(1, VERSIONS + 1):
        page = person.get(path)
        tally.saw(f"GET {path}", page.status_code, page.text)
        if page.status_code != 200:
            continue
        form = next(f for f in forms(page.text) if f.get("narrative") is not None)
        base = int(form.get("base_version") or 0)
        sent = person.post(path, {
            "csrf_token": form.get("csrf_token"), "base_version": str(base), "rag": "green",
            "percent_complete": str(min(10 * version, 90)),
            "narrative": _text(ref, number, base + 1), "next_steps": "Carry on.",
        })
        tally.saw(f"POST {path}", sent.status_code, sent.text)
        if sent.status_code == 302 and sent.headers["Location"].endswith(f"/actions/{ref}"):
            accepted.append(base + 1)
    with tally.lock:
        tally.accepted[ref] = accepted


def _changed_plan(folder: Path) -> Path:
    text = KINGSTON.read_text()
    assert "rollup: worst" in text and "Rated Green but a linked KPI is Red" in text
    changed = folder / "plans-changed.yaml"
    changed.write_text(text.replace("rollup: worst", "rollup: majority").replace(
        "Rated Green but a linked KPI is Red", "Rated Green while a linked KPI is Red"))
    return changed


def _load_twice(scene: Scene, folder: Path, go: threading.Event, results: list[str]) -> None:
    go.wait(timeout=300)
    for plan_file in (_changed_plan(folder), KINGSTON):
        done = run_tracker(scene.url, TODAY, "plan", "load", str(plan_file))
        results.append(f"exit {done.returncode}: {done.stdout[-300:]}{done.stderr[-2000:]}")


def _run(scene: Scene, servers: Servers, folder: Path) -> Tally:
    tally = Tally()
    started = threading.Barrier(PEOPLE)
    go = threading.Event()
    loads: list[str] = []
    loader = threading.Thread(target=_load_twice, args=(scene, folder, go, loads))
    loader.start()

    def watch() -> None:  # the loads start once the submits are well under way
        while sum(tally.statuses.values()) < PEOPLE * 4 and loader.is_alive():
            threading.Event().wait(0.05)
        go.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
            futures = [pool.submit(_send_updates, servers, scene, n, tally, started)
                       for n in range(PEOPLE)]
            for future in futures:
                future.result(timeout=600)
    finally:
        go.set()
        loader.join(timeout=600)
        watcher.join(timeout=60)
    assert [line for line in loads if not line.startswith("exit 0")] == [], loads
    assert len(loads) == 2
    return tally


def _check_stored(scene: Scene, tally: Tally) -> None:
    """Every update accepted is stored once, as sent, with its audit row."""
    engine = create_engine(scene.url)
    try:
        with Session(engine) as s:
            for number, (_email, ref) in enumerate(scene.owners):
                stored = s.execute(
                    select(ActionUpdate.version, ActionUpdate.narrative)
                    .join(Action, Action.id == ActionUpdate.action_id)
                    .where(Action.ref == ref, ActionUpdate.quarter == QUARTER)
                    .order_by(ActionUpdate.version)).all()
                accepted = tally.accepted.get(ref, [])
                # every update accepted is stored once, as sent; nothing else was stored
                assert [v for v, _ in stored] == sorted(accepted) == list(
                    range(1, len(accepted) + 1)), ref
                assert [text for _, text in stored] == [
                    _text(ref, number, v) for v, _ in stored], ref
                audited = s.scalars(select(AuditEvent.summary).where(
                    AuditEvent.action == "update.submitted", AuditEvent.object_ref == ref))
                awaiting = " (awaiting approval)" if ref in scene.awaiting else ""
                assert sorted(audited) == sorted(
                    f"{QUARTER} version {v}: green, {min(10 * v, 90)}%{awaiting}"
                    for v in accepted), ref
            assert sum(len(v) for v in tally.accepted.values()) == PEOPLE * VERSIONS
    finally:
        engine.dispose()


@pytest.mark.parametrize(("processes", "workers"), [(3, 1), (1, 4)],
                         ids=["3 tracker serve", "gunicorn 4 workers"])
def test_many_people_at_once(scene: Scene, tmp_path: Path, processes: int, workers: int
                             ) -> None:
    with serving(scene.url, TODAY, tmp_path, processes=processes, workers=workers) as servers:
        tally = _run(scene, servers, tmp_path)
        assert tally.problems == [], servers.log_text()
        assert not [code for code in tally.statuses if code >= 500]
        _check_stored(scene, tally)
