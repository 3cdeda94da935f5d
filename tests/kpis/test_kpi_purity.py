"""kpis/ is pure: importing it pulls in neither Flask nor SQLAlchemy nor the project's packages."""

from __future__ import annotations

import subprocess
import sys

from kpitest import ROOT


def test_kpis_imports_nothing_of_the_project_nor_flask_nor_sqlalchemy() -> None:
    code = ("import sys\nimport kpis, kpis.measures, kpis.charts\n"
            "print('\\n'.join(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    modules = {name.split(".")[0] for name in result.stdout.split()}
    assert {"kpis", "pandas", "matplotlib", "numpy"} <= modules
    for forbidden in ("flask", "sqlalchemy", "plans", "tracker", "notifications",
                      "matplotlib.pyplot"):
        assert forbidden not in modules, forbidden
    assert "matplotlib.pyplot" not in result.stdout.split()
