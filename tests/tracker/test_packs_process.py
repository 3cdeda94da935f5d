"""Eight people ask for the same PDF board pack at the same moment, on real processes: a web
server (gunicorn, two workers) and a pack builder (``tracker worker``). The pack is built
once, by the builder, and all eight download the same file."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from tests.tracker.servers import TRACKER, Person, environment, run_tracker, serving
from tests.tracker.signing import PASSWORD, password_hash
from tracker.models import PackBuild, PackRequest, User

TODAY = date(2026, 11, 25)
PEOPLE = 8
PACK = "/board/pack.pdf?quarter=2025-26-Q2"


@pytest.fixture
def database(kingston_db_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "tracker.db"
    shutil.copy(kingston_db_template, path)
    url = f"sqlite:///{path}"
    done = run_tracker(url, TODAY, "demo", "--today", TODAY.isoformat())
    assert done.returncode == 0, done.stderr
    return url


def _people(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            emails = list(s.scalars(select(User.email).where(User.is_active.is_(True))
                                    .order_by(User.id).limit(PEOPLE)))
            s.execute(update(User).where(User.email.in_(emails))
                      .values(password_hash=password_hash()))
            s.commit()
        return emails
    finally:
        engine.dispose()


def _wait_until_ready(person: Person, status_page: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = person.get(status_page + "/status.json").json()["state"]
        if state == "ready":
            return
        assert state in ("queued", "building"), state
        time.sleep(0.25)
    raise AssertionError("the pack was not built within three minutes")


def test_the_same_pack_asked_for_eight_times_at_once_is_built_once(
        database: str, tmp_path: Path) -> None:
    emails = _people(database)
    log = tmp_path / "worker.log"
    with open(log, "wb") as output:
        worker = subprocess.Popen([str(TRACKER), "worker"], env=environment(database, TODAY),
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        with serving(database, TODAY, tmp_path, processes=1, workers=2) as servers:
            people = [Person(servers) for _ in emails]
            for person, email in zip(people, emails, strict=True):
                person.sign_in(email, PASSWORD)
            gate = threading.Barrier(PEOPLE)
            led_to: list[str] = []
            files: list[bytes] = []
            lock = threading.Lock()

            def ask(person: Person) -> None:
                gate.wait(timeout=60)
                response = person.get(PACK)
                assert response.status_code == 302
                status_page = response.headers["Location"].removeprefix(person.servers.urls[0])
                _wait_until_ready(person, status_page)
                again = person.get(PACK)  # asked again: the file at once
                assert again.status_code == 302
                download = person.get(again.headers["Location"].removeprefix(
                    person.servers.urls[0]))
                assert download.status_code == 200
                assert download.headers["Content-Type"] == "application/pdf"
                with lock:
                    led_to.append(status_page)
                    files.append(download.content)

            threads = [threading.Thread(target=ask, args=(p,)) for p in people]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
            assert len(files) == PEOPLE, servers.log_text() + log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert len(set(led_to)) == 1  # everyone waited for the one build
    assert len({hashlib.sha256(f).hexdigest() for f in files}) == 1  # and got the same file
    assert files[0].startswith(b"%PDF-")
    engine = create_engine(database)
    try:
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(PackBuild)) == 1
            assert s.scalar(select(func.count()).select_from(PackRequest)) == PEOPLE
            build = s.scalars(select(PackBuild)).one()
            assert build.state == "ready" and build.attempts == 1
    finally:
        engine.dispose()
    assert "building pack" in log.read_text()  # the builder made it, not a web worker
