"""The tracker as production installs it: a wheel, in a virtual environment of its own, run
from a folder that is not the checkout.

The wheel is built from this checkout (``pip wheel``, with this environment's setuptools: no
download), installed without its dependencies into a new virtual environment in a temporary
folder, and that environment is given this one's installed dependencies by a ``.pth`` file
(a path line only: the checkout's own editable install is not brought along). The test then
checks that the project's code is the wheel's, not the checkout's, and runs the production
steps with the installed ``tracker`` command: ``db upgrade``, ``plan load`` of a copy of
plans.yaml, ``tracker serve`` and gunicorn on ``tracker.wsgi:app``, each asked for the plan,
a stylesheet and the health checks over HTTP. About 20 to 40 seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.tracker.servers import free_port, wait_until_up

CHECKOUT = Path(__file__).resolve().parents[2]
SECRET = "wheel-install-test-" + "3f9a1c7e5b2d8046" * 3
START_SECONDS = 60
# production behind one TLS-terminating proxy: the tests' requests say they came over https
PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new virtual environment, outside the checkout, with the tracker's wheel in it."""
    root = tmp_path_factory.mktemp("wheel-install")
    assert CHECKOUT not in root.parents
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "--quiet", "--wheel-dir", str(dist), str(CHECKOUT)],
         cwd=root)
    wheels = list(dist.glob("csp_tracker-*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", "--disable-pip-version-check", "--quiet", str(wheels[0])], cwd=root)
    new_site = Path(_run([str(python), "-c", "import sysconfig; "
                          "print(sysconfig.get_paths()['purelib'])"], cwd=root).stdout.strip())
    (new_site / "tracker-test-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    yield venv


def _environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRACKER_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({
        "TRACKER_ENV": "production",
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_DATABASE_URL": f"sqlite:///{root / 'tracker.db'}",
        "TRACKER_PROXIES": "1",
        "TRACKER_PUBLIC_READ": "1",
        "TRACKER_BASE_URL": "https://tracker.example.org",
    })
    return env


def _serve(args: list[str], cwd: Path, env: dict[str, str], port: int) -> Iterator[str]:
    log = cwd / f"server-{port}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log, path="/healthz", seconds=START_SECONDS)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _serves_the_plan(url: str, plan_file: Path) -> None:
    plan = yaml.safe_load(plan_file.read_text(encoding="utf-8"))
    home = requests.get(url + "/", headers=PROXIED, timeout=60, allow_redirects=True)
    assert home.status_code == 200, home.text[:2000]
    assert plan["partnership"]["name"] in home.text
    first = plan["priorities"][0]
    assert first.get("short_title", first["title"]) in home.text or first["title"] in home.text
    assert '<link rel="stylesheet" href="/static/css/app.css">' in home.text
    css = requests.get(url + "/static/css/app.css", headers=PROXIED, timeout=30)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert ".govuk-" in css.text
    script = requests.get(url + "/static/js/app.js", headers=PROXIED, timeout=30)
    assert script.status_code == 200
    assert requests.get(url + "/healthz", timeout=30).status_code == 200
    ready = requests.get(url + "/readyz", timeout=30)
    assert ready.status_code == 200, ready.text


def test_the_wheel_alone_serves_a_plan(installed: Path) -> None:
    root = installed.parent / "run"  # outside the checkout, and not the venv either
    root.mkdir()
    python, tracker = installed / "bin" / "python", installed / "bin" / "tracker"
    env = _environment(root)

    found = _run([str(python), "-c", "import kpis, notifications, plans, tracker, "
                  "tracker.config as c; print(tracker.__file__, plans.__file__, "
                  "notifications.__file__, kpis.__file__, c.TEMPLATES, c.INSTANCE)"],
                 cwd=root, env=env).stdout.split()
    for path in map(Path, found):
        assert installed in path.parents, f"{path} is not the wheel's"
    assert (Path(found[-2]) / "layout.html").is_file()

    plan_file = root / "plans.yaml"
    shutil.copy(CHECKOUT / "plans.yaml", plan_file)
    _run([str(tracker), "db", "upgrade"], cwd=root, env=env)
    _run([str(tracker), "plan", "load", str(plan_file), "--by", "wheel test"], cwd=root,
         env=env)

    port = free_port()
    for url in _serve([str(tracker), "serve", "--host", "127.0.0.1", "--port", str(port)],
                      root, env, port):
        _serves_the_plan(url, plan_file)

    port = free_port()
    for url in _serve([str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                       "--workers", "2", "--worker-class", "gthread", "--threads", "2",
                       "tracker.wsgi:app"], root, env, port):
        _serves_the_plan(url, plan_file)


def test_no_wheel_without_the_built_assets(tmp_path: Path) -> None:
    """A wheel built before ``make install`` built the front-end is refused, saying so."""
    tree = tmp_path / "checkout"
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc")
    tree.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(CHECKOUT / name, tree / name)
    for name in ("plans", "kpis", "notifications", "tracker", "templates"):
        shutil.copytree(CHECKOUT / name, tree / name, ignore=ignored)
    for built in ("css", "js", "govuk"):
        shutil.rmtree(tree / "tracker" / "static" / built, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--wheel-dir", str(tmp_path / "dist"), str(tree)],
        cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode != 0
    assert "the front-end assets are not built" in done.stdout + done.stderr
    assert "make install" in done.stdout + done.stderr
    assert not list(tmp_path.glob("dist/*.whl"))
