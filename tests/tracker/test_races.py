"""Two people doing the same thing at the same moment, on real server processes: exactly
one wins, and the other gets a clear page with nothing typed lost, never a 500.

Three ``tracker serve`` processes share one database (SQLite, then PostgreSQL); the two
requests of a race go to different processes and are let go together by a barrier. The
plan asks group leads to approve owners' updates, so that approvals can race too.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from tests.conftest import KINGSTON
from tests.tracker.helpers import forms
from tests.tracker.servers import Person, Servers, run_tracker, serving
from tests.tracker.signing import ADMIN, OTHER_ADMIN, PASSWORD, password_hash
from tracker.models import KPI, Action, ActionUpdate, Escalation, Group, KPIValue, User

TODAY = date(2026, 11, 25)  # 2026/27 Q2 is open for updates
SLUG, QUARTER = "2026-27-Q2", "2026/27 Q2"
UPDATE_RACES = 30


@dataclass
class Scene:
    url: str
    servers: Servers
    action: str
    owner: str
    lead: str
    kpi: str
    kpi_owner: str
    member: str  # an account the admins may disable


def _plan_with_approval() -> Path:
    """Kingston's plan, which has group leads approve owners' updates."""
    assert "  approval: group_lead\n" in KINGSTON.read_text(encoding="utf-8")
    return KINGSTON


def _prepare(url: str) -> dict[str, str]:
    for args in (("db", "upgrade"), ("plan", "load", str(_plan_with_approval()))):
        done = run_tracker(url, TODAY, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            found = None
            for action in s.scalars(select(Action).where(Action.retired_at.is_(None))
                                    .order_by(Action.position)):
                group = s.get(Group, action.group_id) if action.group_id else None
                owner = s.get(User, action.owner_id)
                if (group is not None and group.lead_id not in (None, action.owner_id)
                        and owner is not None and owner.role == "member"
                        and "2026/27" in action.years and action.due > date(2026, 9, 30)):
                    lead = s.get(User, group.lead_id)
                    assert lead is not None
                    found = (action.ref, owner.email, lead.email)
                    break
            assert found is not None
            kpi, kpi_owner = s.execute(select(KPI.ref, User.email).join(
                User, User.id == KPI.owner_id).where(KPI.frequency == "quarterly",
                                                     User.role != "board")
                .order_by(KPI.position)).first()  # type: ignore[misc]
            member = s.scalar(select(User.email).where(
                User.role == "member", User.email.not_in([found[1], kpi_owner]))
                .order_by(User.email))
            assert member is not None
            people = [found[1], found[2], kpi_owner, ADMIN, OTHER_ADMIN]
            s.execute(update(User).where(User.email.in_(people))
                      .values(password_hash=password_hash()))
            s.commit()
    finally:
        engine.dispose()
    return {"action": found[0], "owner": found[1], "lead": found[2], "kpi": kpi,
            "kpi_owner": kpi_owner, "member": member}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def scene(request: pytest.FixtureRequest, empty_db_template: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder = tmp_path_factory.mktemp(f"races-{request.param}")
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "sqlite":
        database = folder / "tracker.db"
        shutil.copy(empty_db_template, database)
        url = f"sqlite:///{database}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = "races_" + uuid.uuid4().hex[:10]
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"{server}/{name}"

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()
    try:
        found = _prepare(url)
        with serving(url, TODAY, folder, processes=3) as servers:
            yield Scene(url=url, servers=servers, **found)
    finally:
        cleanup()


def _person(scene: Scene, email: str) -> Person:
    person = Person(scene.servers)
    person.sign_in(email, PASSWORD)
    return person


def race(*sends: Callable[[], requests.Response]) -> list[requests.Response]:
    """Send each at the same moment (from its own thread); their responses, in order."""
    gate = threading.Barrier(len(sends))
    results: list[requests.Response | BaseException | None] = [None] * len(sends)

    def go(index: int) -> None:
        try:
            gate.wait(timeout=60)
            results[index] = sends[index]()
        except BaseException as error:  # noqa: BLE001 - reported below
            results[index] = error

    threads = [threading.Thread(target=go, args=(n,)) for n in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    for result in results:
        if not isinstance(result, requests.Response):
            raise AssertionError(f"a request of the race failed: {result!r}")
    responses = [r for r in results if isinstance(r, requests.Response)]
    assert all(r.status_code < 500 for r in responses), [
        (r.status_code, r.text[-800:]) for r in responses]
    return responses


def _words(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup.find_all(["script", "style"]):
        hidden.decompose()
    return " ".join(soup.get_text(" ").split())


def _update_form(person: Person, path: str) -> dict[str, str]:
    page = person.get(path)
    assert page.status_code == 200, page.status_code
    form = next(f for f in forms(page.text) if f.get("narrative") is not None)
    return {"csrf_token": form.get("csrf_token") or "",
            "base_version": form.get("base_version") or "0"}


def _scalars(scene: Scene, query):  # type: ignore[no-untyped-def]
    engine = create_engine(scene.url)
    try:
        with Session(engine) as s:
            return list(s.scalars(query))
    finally:
        engine.dispose()


def test_two_submits_of_one_version_give_one_update_and_one_conflict_page(
        scene: Scene) -> None:
    path = f"/actions/{scene.action}/update/{SLUG}"
    owner, lead = _person(scene, scene.owner), _person(scene, scene.lead)
    won = 0
    for n in range(UPDATE_RACES):
        mine, theirs = _update_form(owner, path), _update_form(lead, path)
        assert mine["base_version"] == theirs["base_version"] == str(n)
        texts = (f"Owner's text, race {n}.", f"Lead's text, race {n}.")

        def send(person: Person, form: dict[str, str], narrative: str
                 ) -> Callable[[], requests.Response]:
            return lambda: person.post(path, {**form, "rag": "green",
                                              "percent_complete": "50",
                                              "narrative": narrative})

        responses = race(send(owner, mine, texts[0]), send(lead, theirs, texts[1]))
        codes = sorted(r.status_code for r in responses)
        assert codes == [302, 409], (n, codes)
        loser = next(r for r in responses if r.status_code == 409)
        page = _words(loser.text)
        assert "Your update was not saved" in page
        assert texts[0] in page and texts[1] in page  # both texts, side by side
        again = next(f for f in forms(loser.text) if f.get("narrative") is not None)
        assert again.get("base_version") == str(n + 1)  # ready to submit as the next version
        assert again.get("narrative") in texts  # what the loser typed, in the form
        won += 1
    stored = _scalars(scene, select(ActionUpdate.version).join(Action).where(
        Action.ref == scene.action, ActionUpdate.quarter == QUARTER))
    assert sorted(stored) == list(range(1, UPDATE_RACES + 1))
    assert won == UPDATE_RACES


def _pending_update_id(scene: Scene, owner: Person) -> int:
    path = f"/actions/{scene.action}/update/{SLUG}"
    form = _update_form(owner, path)
    sent = owner.post(path, {**form, "rag": "green", "percent_complete": "60",
                             "narrative": "Waiting for the lead."})
    assert sent.status_code == 302
    found = _scalars(scene, select(ActionUpdate.id).join(Action).where(
        Action.ref == scene.action, ActionUpdate.review == "pending")
        .order_by(ActionUpdate.id.desc()))
    return int(found[0])


def test_two_decisions_on_one_update_at_once_make_one(scene: Scene) -> None:
    owner = _person(scene, scene.owner)
    lead_here, lead_there = _person(scene, scene.lead), _person(scene, scene.lead)
    for decisions in (("approve", "approve"), ("approve", "return")):
        update_id = _pending_update_id(scene, owner)
        path = f"/actions/{scene.action}/updates/{update_id}/review"
        tokens = [p.token(f"/actions/{scene.action}") for p in (lead_here, lead_there)]
        responses = race(*(
            (lambda p=p, t=t, d=d, path=path: p.post(path, {
                "csrf_token": t, "decision": d, "comment": "Please add the figures."}))
            for p, t, d in zip((lead_here, lead_there), tokens, decisions, strict=True)))
        assert [r.status_code for r in responses] == [302, 302]
        said = [_words(p.get(f"/actions/{scene.action}").text) for p in (lead_here, lead_there)]
        refused = [s for s in said if "The decision was not saved: this update has already "
                   "been reviewed" in s]
        assert len(refused) == 1, said
        reviews = _scalars(scene, select(ActionUpdate.review).where(
            ActionUpdate.id == update_id))
        assert reviews[0] in ("approved", "returned")


def test_two_admins_resolving_one_escalation_at_once(scene: Scene) -> None:
    engine = create_engine(scene.url)
    try:
        with Session(engine) as s:
            action_id = s.scalar(select(Action.id).where(Action.ref == scene.action))
            escalation = Escalation(action_id=action_id, rule=f"Race {uuid.uuid4().hex[:6]}",
                                    to=["board"], quarter=QUARTER, last_quarter=QUARTER,
                                    reason="A race", resolution="")
            s.add(escalation)
            s.commit()
            escalation_id = escalation.id
    finally:
        engine.dispose()
    path = f"/escalations/{escalation_id}"
    admins = [_person(scene, ADMIN), _person(scene, OTHER_ADMIN)]
    notes = ["The board agreed a new venue.", "The board asked for a report in March."]
    tokens = [a.token(path) for a in admins]
    responses = race(*((lambda a=a, t=t, n=n: a.post(path, {"csrf_token": t, "note": n}))
                       for a, t, n in zip(admins, tokens, notes, strict=True)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 400], codes
    loser = next(r for r in responses if r.status_code == 400)
    said = _words(loser.text)
    assert "This escalation was already resolved" in said
    assert "Your note (not saved)" in said
    assert sum(note in said for note in notes) == 2  # the resolution, and the loser's note
    resolution = _scalars(scene, select(Escalation.resolution).where(
        Escalation.id == escalation_id))
    assert resolution[0] in notes


def test_two_values_for_one_period_at_once(scene: Scene) -> None:
    path = f"/kpis/{scene.kpi}"
    people = [_person(scene, scene.kpi_owner), _person(scene, ADMIN)]
    forms_seen = []
    for person in people:
        form = next(f for f in forms(person.get(path).text) if f.get("period") is not None)
        forms_seen.append({"csrf_token": form.get("csrf_token"), "seen": form.get("seen")})
    values = ["1234", "1250"]
    responses = race(*((lambda p=p, f=f, v=v: p.post(
        f"{path}/values", {**f, "period": "2026/27 Q1", "value": v, "note": f"From {v}"}))
        for p, f, v in zip(people, forms_seen, values, strict=True)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 409], codes
    loser = next(r for r in responses if r.status_code == 409)
    assert "while you had this form open, so yours was not saved" in _words(loser.text)
    kept = next(f for f in forms(loser.text) if f.get("period") is not None)
    assert kept.get("value") in values and (kept.get("note") or "").startswith("From")
    # sent again, as the page says, it is saved as a correction
    again = people[[r.status_code for r in responses].index(409)].post(
        f"{path}/values", kept.as_data())  # type: ignore[arg-type]
    assert again.status_code == 302
    stored = _scalars(scene, select(KPIValue.value).join(KPI).where(
        KPI.ref == scene.kpi, KPIValue.period == "2026/27 Q1"))
    assert sorted(stored) == sorted(float(v) for v in values)


def test_two_admins_locking_one_quarter_at_once(scene: Scene) -> None:
    admins = [_person(scene, ADMIN), _person(scene, OTHER_ADMIN)]
    tokens = [a.token("/quarters") for a in admins]
    responses = race(*((lambda a=a, t=t: a.post("/quarters/2025-26-Q1/lock",
                                                 {"csrf_token": t, "note": "Board met."}))
                       for a, t in zip(admins, tokens, strict=True)))
    assert [r.status_code for r in responses] == [302, 302]
    said = [_words(a.get("/quarters").text) for a in admins]
    assert sum("2025/26 Q1 is now locked" in s for s in said) == 1, said
    assert sum("Nothing was changed: 2025/26 Q1 is already locked" in s for s in said) == 1


def test_two_admins_disabling_one_account_at_once(scene: Scene) -> None:
    admins = [_person(scene, ADMIN), _person(scene, OTHER_ADMIN)]
    user_id = _scalars(scene, select(User.id).where(User.email == scene.member))[0]
    path = f"/admin/users/{user_id}"
    tokens = [a.token(path) for a in admins]
    responses = race(*((lambda a=a, t=t: a.post(f"{path}/disable", {"csrf_token": t}))
                       for a, t in zip(admins, tokens, strict=True)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 400], codes
    loser = next(r for r in responses if r.status_code == 400)
    assert "account is already disabled" in _words(loser.text)
    assert _scalars(scene, select(User.is_active).where(User.id == user_id)) == [False]
