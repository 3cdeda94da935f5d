"""Real server processes for the concurrency tests: ``tracker serve`` (waitress), or gunicorn
with several workers, on one database, driven over HTTP by ``requests`` sessions.

Every process shares one secret key (as production's web servers do behind a load
balancer), today is pinned by ``TRACKER_TODAY``, and each listens on a port picked by
binding to port 0. A client's requests go round the servers in turn, so that a person's
sign-in, form and submit each reach a different process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from pathlib import Path

import requests

from tests.tracker import signing
from tests.tracker.helpers import forms
from tracker.db import make_engine

TRACKER = Path(sys.executable).parent / "tracker"
SECRET = "serving-tests-secret-" + "k" * 40
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(database_url: str, today: date, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({
        "TRACKER_ENV": "development",
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_TODAY": today.isoformat(),
        **extra,
    })
    return env


def run_tracker(database_url: str, today: date, *args: str, timeout: float = 300
                ) -> subprocess.CompletedProcess[str]:
    """Run a ``tracker`` command on the database, as its own process."""
    return subprocess.run([str(TRACKER), *args], env=environment(database_url, today),
                          capture_output=True, text=True, timeout=timeout)


@dataclass
class Servers:
    urls: list[str]
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]
    _turn: Iterator[int] = field(default_factory=count)
    database_url: str = ""

    def next_url(self) -> str:
        """The next server in turn (a load balancer's round robin)."""
        return self.urls[next(self._turn) % len(self.urls)]

    def log_text(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
                         for log in self.logs)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path,
                  path: str = "/sign-in", seconds: float = START_SECONDS) -> None:
    """Poll ``url + path`` until it answers 200; fail with the server's log if the process
    stops or ``seconds`` pass (a read time-out counts as not up yet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(url + path, timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # not up yet
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server at {url} did not answer:\n{log.read_text()}")


@contextmanager
def serving(database_url: str, today: date, folder: Path, *, processes: int = 3,
            workers: int = 1) -> Iterator[Servers]:
    """``processes`` servers on the database: each ``tracker serve`` (waitress) or, with
    ``workers`` over 1, gunicorn with that many worker processes."""
    started: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    urls: list[str] = []
    try:
        for number in range(processes):
            port = free_port()
            log = folder / f"server-{number}-{port}.log"
            args = [str(TRACKER), "serve", "--port", str(port)]
            args += ["--workers", str(workers), "--threads", "4"] if workers > 1 else [
                "--threads", "8"]
            with open(log, "wb") as output:
                started.append(subprocess.Popen(args, env=environment(database_url, today),
                                                stdout=output, stderr=subprocess.STDOUT))
            logs.append(log)
            urls.append(f"http://127.0.0.1:{port}")
        for url, process, log in zip(urls, started, logs, strict=True):
            wait_until_up(url, process, log)
        yield Servers(urls, started, logs, database_url=database_url)
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


class Person:
    """One person's browser: a cookie jar, sending each request to the next server."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.servers.next_url() + path, allow_redirects=False,
                             timeout=120)

    def post(self, path: str, data: dict[str, object]) -> requests.Response:
        return self.http.post(self.servers.next_url() + path, data=data,
                              allow_redirects=False, timeout=120)

    def token(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code)
        found = [f.get("csrf_token") for f in forms(page.text) if f.get("csrf_token")]
        assert found, f"no form with a security token on {path}"
        return str(found[0])

    def sign_in(self, email: str, password: str) -> None:
        """The password, then (for an account that needs one) a code from the tests'
        authenticator app, set up first if the account has none."""
        response = self._password(email, password)
        engine = make_engine(self.servers.database_url)
        try:
            if response.headers.get("Location") == "/sign-in/set-up-two-factor":
                signing.enrol_in(engine, SECRET, email)
                response = self._password(email, password)
            if response.headers.get("Location") == signing.CODE_PAGE:
                response = self.post(signing.CODE_PAGE, {
                    "csrf_token": self.token(signing.CODE_PAGE),
                    "code": signing.code_in(engine, email)})
        finally:
            engine.dispose()
        assert response.status_code == 302 and "/sign-in" not in response.headers["Location"], \
            (email, response.status_code, response.text[-1500:])

    def _password(self, email: str, password: str) -> requests.Response:
        response = self.post("/sign-in", {"csrf_token": self.token("/sign-in"),
                                          "email": email, "password": password})
        assert response.status_code == 302, (email, response.status_code, response.text[-1500:])
        return response
