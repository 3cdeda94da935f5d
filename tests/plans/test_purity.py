"""plans/ is pure Python: importing it pulls in neither Flask nor SQLAlchemy (nor kpis)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from plantest import ROOT

HEAVY = ("flask", "sqlalchemy", "alembic", "pandas", "matplotlib")


def imported_after(statement: str) -> set[str]:
    """The top-level modules loaded by ``statement`` in a fresh interpreter."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return {name.split(".")[0] for name in result.stdout.split()}


def test_plans_imports_neither_flask_nor_sqlalchemy() -> None:
    modules = imported_after("import plans, plans.loader, plans.periods, plans.rules")
    assert "plans" in modules and "yaml" in modules
    assert sorted(modules & set(HEAVY)) == []
    assert "tracker" not in modules


def test_loading_the_kingston_plan_stays_pure() -> None:
    modules = imported_after("import plans\nplans.load_plan('plans.yaml')")
    assert sorted(modules & set(HEAVY)) == []
    assert "tracker" not in modules


def test_kpis_imports_neither_flask_nor_sqlalchemy() -> None:
    if not (ROOT / "kpis" / "__init__.py").exists():
        pytest.skip("kpis/ is not written yet")
    modules = imported_after("import kpis")
    assert "flask" not in modules
    assert "sqlalchemy" not in modules
