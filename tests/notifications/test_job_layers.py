"""notifications/ composes emails from what the tracker's services return: no module of it
builds a query, runs one on a session or a connection, or evaluates the plan's rules.

Reading and changing the database is for ``tracker/services`` (and ``tracker/db.py`` for the
engine itself); working a status out is for ``tracker.services.statuses``, which calls
``plans.engine``. Plain data from ``plans`` (the plan, quarters, rule dataclasses, dates as
people read them) is fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "notifications"

QUERY_NAMES = frozenset({"select", "insert", "update", "delete", "func", "text", "literal",
                         "joinedload", "selectinload"})
"""What builds a statement (or a loader option for one), from ``sqlalchemy`` or its parts."""
RUNS_QUERY = frozenset({"execute", "scalar", "scalars"})
"""A call of one of these on anything (a session, a connection, a result) runs a query."""

ALLOWED: dict[tuple[str, str], str] = {}
"""(file, what) -> why it must stay. Nothing needs to: the outbox's claims and marks are in
``tracker.services.outbox`` (``notifications.delivery`` only commits between them), and the
scheduler's PostgreSQL advisory lock is ``tracker.db.advisory_lock``."""


def _receiver_is_session(node: ast.expr) -> bool:
    """``session``, ``db``, ``self.session``, ``get_session()``: what ``.get`` is called on."""
    if isinstance(node, ast.Name):
        return "session" in node.id or node.id == "db"
    if isinstance(node, ast.Attribute):
        return "session" in node.attr
    if isinstance(node, ast.Call):
        return _receiver_is_session(node.func)
    return False


def findings(path: Path) -> list[tuple[int, str]]:
    """(line, what) for each query built or run, or rules engine imported, in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    sqlalchemy_aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            names = {alias.name for alias in node.names}
            if module == "sqlalchemy" or module.startswith("sqlalchemy."):
                for name in sorted(names & QUERY_NAMES):
                    found.append((node.lineno, f"imports {name} from {module}"))
            if module == "plans.engine" or module.startswith("plans.engine."):
                found.append((node.lineno, "imports plans.engine"))
            if module == "plans" and "engine" in names:
                found.append((node.lineno, "imports plans.engine"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                    sqlalchemy_aliases.add((alias.asname or alias.name).split(".")[0])
                if alias.name == "plans.engine" or alias.name.startswith("plans.engine."):
                    found.append((node.lineno, "imports plans.engine"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in RUNS_QUERY:
                found.append((node.lineno, f"calls .{method}()"))
            elif method == "get" and _receiver_is_session(node.func.value):
                found.append((node.lineno, "calls session.get()"))
    for node in ast.walk(tree):  # sqlalchemy.select(...) after ``import sqlalchemy``
        if (isinstance(node, ast.Attribute) and node.attr in QUERY_NAMES
                and isinstance(node.value, ast.Name) and node.value.id in sqlalchemy_aliases):
            found.append((node.lineno, f"uses sqlalchemy.{node.attr}"))
    return sorted(found)


def test_the_layer_check_sees_each_kind_of_query_and_the_rules_engine(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sqlalchemy\n"
        "from sqlalchemy import func, select\n"
        "from sqlalchemy.orm import Session, joinedload\n"
        "from plans.engine import evaluate\n"
        "from plans import Plan, engine\n"
        "def job(session, connection, config):\n"
        "    session.get(Thing, 1)\n"
        "    connection.execute(q).scalar()\n"
        "    session.scalars(q)\n"
        "    config.get('BASE_URL')\n"
        "    sqlalchemy.update(Thing)\n", encoding="utf-8")
    assert findings(sample) == [
        (2, "imports func from sqlalchemy"), (2, "imports select from sqlalchemy"),
        (3, "imports joinedload from sqlalchemy.orm"), (4, "imports plans.engine"),
        (5, "imports plans.engine"), (7, "calls session.get()"), (8, "calls .execute()"),
        (8, "calls .scalar()"), (9, "calls .scalars()"), (11, "uses sqlalchemy.update"),
    ]


def test_notifications_builds_no_query_and_evaluates_no_rule() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {path.name for path in modules} >= {"reminders.py", "digests.py", "delivery.py"}
    wrong = []
    used = set()
    for path in modules:
        for line, what in findings(path):
            key = (path.name, what)
            if key in ALLOWED:
                used.add(key)
                continue
            wrong.append(f"notifications/{path.name}:{line}: {what}")
    assert not wrong, ("notifications/ must call tracker services for what it reads and "
                       "changes, and for statuses; move these into tracker/services:\n"
                       + "\n".join(wrong))
    assert used == set(ALLOWED), f"allowed but no longer there: {set(ALLOWED) - used}"
