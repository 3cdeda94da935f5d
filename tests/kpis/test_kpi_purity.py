"""kpis/ is pure: importing it pulls in neither Flask nor SQLAlchemy, and of the project only
``plans.periods`` (the one module for periods and dates, which kpis/ builds on)."""

from __future__ import annotations

import ast
import subprocess
import sys

from kpitest import ROOT


def test_kpis_imports_neither_flask_nor_sqlalchemy_nor_the_web_packages() -> None:
    code = ("import sys\nimport kpis, kpis.measures, kpis.charts\n"
            "print('\\n'.join(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    modules = {name.split(".")[0] for name in loaded}
    assert {"kpis", "pandas", "matplotlib", "numpy"} <= modules
    for forbidden in ("flask", "sqlalchemy", "tracker", "notifications"):
        assert forbidden not in modules, forbidden
    assert "matplotlib.pyplot" not in loaded


def test_kpis_modules_import_only_plans_periods_of_the_project() -> None:
    project = {"plans", "tracker", "notifications"}
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "kpis").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = {node.module}
            elif isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            else:
                continue
            for name in names:
                if name.split(".")[0] in project:
                    found.setdefault(name, set()).add(path.name)
    assert set(found) <= {"plans.periods"}, found
    assert "plans.periods" in found
