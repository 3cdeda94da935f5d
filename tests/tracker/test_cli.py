"""The ``tracker`` command as an admin uses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask

from tests.conftest import KINGSTON, ROOT


def test_plan_check_summarises_kingston(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["plan", "check", str(KINGSTON)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{KINGSTON}: the plan is valid."
    assert "  Partnership:  Safer Kingston Partnership (skp)" in lines
    assert "  Priorities:   4" in lines
    assert "  Commitments:  45" in lines
    assert "  Parts:        3" in lines
    assert "  Themes:       6" in lines
    actions = next(line for line in lines if line.startswith("  Actions:"))
    assert "2024/25: " in actions and "2025/26: " in actions
    assert "(2024/25 to 2028/29)" in result.stdout


def test_plan_check_prints_every_error_and_exits_1(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = KINGSTON.read_text(encoding="utf-8")
    text = text.replace("commitment: 1.b", "commitment: 1.z", 1)
    text = text.replace("    better: higher", "    better: upwards", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["plan", "check", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("The plan file was refused: 2 errors.\n")
    errors = [line for line in result.stderr.splitlines()
              if line.startswith(str(path)) and ": warning: " not in line]
    assert len(errors) == 2
    first, second = sorted(errors, key=lambda line: int(line.split(":")[1]))
    assert first.endswith("'upwards' is not one of: higher, lower") or \
        second.endswith("'upwards' is not one of: higher, lower")
    assert any("commitment 1.z does not exist" in e for e in errors)
    line_of_bad_ref = next(i for i, line in enumerate(text.splitlines(), 1)
                           if "commitment: 1.z" in line)
    assert any(e.startswith(f"{path}:{line_of_bad_ref}: delivery ") for e in errors)


def test_plan_check_names_a_missing_file(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["plan", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read the file: No such file or directory" in result.stderr


def test_demo_needs_a_plan_first(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "No plan is loaded yet: run 'tracker plan load plans.yaml' first." in result.stderr


def test_console_script_runs_outside_python(tmp_path: Path) -> None:
    """The installed ``tracker`` command works from a shell, with the database from the env."""
    tracker = Path(sys.executable).with_name("tracker")
    env = {"TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}
    upgrade = subprocess.run([str(tracker), "db", "upgrade"], env=env, capture_output=True,
                             text=True, cwd=ROOT, check=False)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "The database is up to date" in upgrade.stdout
    loaded = subprocess.run([str(tracker), "plan", "load", "plans.yaml"], env=env,
                            capture_output=True, text=True, cwd=ROOT, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert "Loaded plans.yaml: Safer Kingston Partnership." in loaded.stdout


def test_plan_check_from_the_shell_loads_no_web_stack_and_says_the_same(runner) -> None:  # type: ignore[no-untyped-def]
    """``tracker plan check`` reads the file with the plan format alone: the same words and
    exit status as through the full command line, without Flask or SQLAlchemy."""
    tracker = Path(sys.executable).with_name("tracker")
    shell = subprocess.run([str(tracker), "plan", "check", "plans.yaml"], capture_output=True,
                           text=True, cwd=ROOT, check=False)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout == runner.invoke(args=["plan", "check", "plans.yaml"]).stdout
    refused = subprocess.run([str(tracker), "plan", "check", "missing.yaml"],
                             capture_output=True, text=True, cwd=ROOT, check=False)
    assert refused.returncode == 1
    assert "missing.yaml:0: cannot read the file" in refused.stderr
    probe = ("import sys\nfrom tracker.entry import main\ntry:\n    main(['plan', 'check', "
             "'plans.yaml'])\nexcept SystemExit as done:\n    assert done.code in (0, None)\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy', "
             "'jinja2', 'werkzeug'}))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines()[-1] == "[]"


def test_app_factory_has_no_global_app() -> None:
    import tracker

    assert not isinstance(getattr(tracker, "app", None), Flask)


def test_a_database_not_yet_created_says_to_run_db_upgrade(tmp_path: Path) -> None:
    tracker = Path(sys.executable).with_name("tracker")
    env = {"TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "PATH": "/usr/bin:/bin"}
    for args in (["plan", "load", "plans.yaml"], ["statuses", "recompute"], ["demo"]):
        done = subprocess.run([str(tracker), *args], env=env, capture_output=True, text=True,
                              cwd=ROOT, check=False)
        assert done.returncode == 1, args
        assert "Traceback" not in done.stderr
        assert "run 'tracker db upgrade' first" in done.stderr, args
