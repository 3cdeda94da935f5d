"""Every broken plan of tests/plans is refused by ``tracker plan load`` with the same lines,
and leaves the database exactly as it was."""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask

from tests.conftest import db_fingerprint

PLANS_TESTS = Path(__file__).resolve().parent.parent / "plans"
sys.path.insert(0, str(PLANS_TESTS))

from plantest import BASE, NAME  # noqa: E402
from test_refusals import CASES  # noqa: E402


def test_broken_plans_are_refused_and_write_nothing(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    base = tmp_path / NAME
    base.write_text(BASE, encoding="utf-8")
    loaded = runner.invoke(args=["plan", "load", str(base)])
    assert loaded.exit_code == 0, loaded.output
    before = db_fingerprint(app)
    assert len(CASES) >= 20
    for case in CASES:
        path = tmp_path / NAME
        if isinstance(case.text, bytes):
            path.write_bytes(case.text)
        else:
            path.write_text(case.text, encoding="utf-8")
        result = runner.invoke(args=["plan", "load", str(path)])
        assert result.exit_code == 1, case.name
        assert "Nothing was changed." in result.stderr.splitlines()[0], case.name
        printed = [line.replace(str(path), NAME, 1) for line in result.stderr.splitlines()[1:]]
        for expected in case.expected:
            assert expected in printed, (case.name, expected, printed)
        assert db_fingerprint(app) == before, case.name
