"""The views are thin: they read the request, call services (or read the models those give
them) and render. No module in ``tracker/views/`` builds a query, runs one on a session, or
commits: every read and write of the database is a function in ``tracker/services/`` (or a
report builder in ``tracker/reports/``) that takes the session, and the request commits once
at its end (CONTRIBUTING.md, "How the code is laid out" and "Habits").

Read from the source with :mod:`ast`, so that a query in a branch no test walks is found too.
Each finding names its file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VIEWS = Path(__file__).resolve().parents[2] / "tracker" / "views"

# what builds a statement: none of these is for a view to import from sqlalchemy
STATEMENT_BUILDERS = frozenset({"select", "insert", "update", "delete", "func", "text"})
# methods that run a statement, on a session or on anything else a view might hold
RUNS_A_QUERY = frozenset({"execute", "scalar", "scalars", "query"})
# a session's own methods that read or write rows: called on the database session only
# (``session.get`` on Flask's cookie session is reading the cookie, and allowed)
SESSION_METHODS = frozenset({"get", "add", "add_all", "delete", "flush", "merge", "refresh",
                             "connection"})
# what gives a view the database session
SESSION_MAKERS = frozenset({"get_session", "new_session", "transaction",
                            "transaction_of_its_own", "read_transaction", "begin_write"})


def _modules() -> list[Path]:
    found = sorted(VIEWS.glob("*.py"))
    assert len(found) > 10, f"no view modules found in {VIEWS}"
    return found


def _called_name(node: ast.expr) -> str | None:
    """The name of what is called: ``get_session`` for ``get_session()`` or
    ``tracker.db.get_session()``."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return None


def _is_session_annotation(node: ast.expr | None) -> bool:
    if node is None:
        return False
    text = ast.unparse(node)
    return text in {"Session", "orm.Session", "sqlalchemy.orm.Session"} or \
        text.endswith("| Session") or text.startswith("Session |")


def _session_names(tree: ast.Module) -> set[str]:
    """The names a module binds to the database session: assigned from ``get_session()``
    (or another of :data:`SESSION_MAKERS`), bound by ``with transaction...() as db``, or a
    parameter annotated ``Session``. Flask's ``session`` (the cookie) is none of these."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            is_session = (value is not None and _called_name(value) in SESSION_MAKERS) or (
                isinstance(node, ast.AnnAssign) and _is_session_annotation(node.annotation))
            if is_session:
                names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.With):
            for item in node.items:
                if (_called_name(item.context_expr) in SESSION_MAKERS
                        and isinstance(item.optional_vars, ast.Name)):
                    names.add(item.optional_vars.id)
        elif isinstance(node, ast.arg) and _is_session_annotation(node.annotation):
            names.add(node.arg)
    return names


def _is_session(node: ast.expr, names: set[str]) -> bool:
    if _called_name(node) in SESSION_MAKERS:
        return True  # get_session().get(...)
    return isinstance(node, ast.Name) and node.id in names


def findings(path: Path) -> list[str]:
    """What in one view module builds, runs or commits a query, as ``file:line: what``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
    found: list[str] = []
    sqlalchemy_names: set[str] = set()  # import sqlalchemy [as sa]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                    sqlalchemy_names.add((alias.asname or alias.name).split(".")[0])
    names = _session_names(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "sqlalchemy" or node.module.startswith("sqlalchemy.")):
            for alias in node.names:
                if alias.name in STATEMENT_BUILDERS:
                    found.append(f"{where}:{line}: imports {alias.name} from {node.module}")
        elif (isinstance(node, ast.Attribute) and node.attr in STATEMENT_BUILDERS
              and isinstance(node.value, ast.Name) and node.value.id in sqlalchemy_names):
            found.append(f"{where}:{line}: uses {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, receiver = node.func.attr, node.func.value
            shown = ast.unparse(node.func)
            if method in RUNS_A_QUERY:
                found.append(f"{where}:{line}: runs a query: {shown}(...)")
            elif method == "commit":
                found.append(f"{where}:{line}: commits: {shown}()")
            elif method in SESSION_METHODS and _is_session(receiver, names):
                found.append(f"{where}:{line}: uses the database session: {shown}(...)")
    return sorted(found, key=lambda f: (f.split(":")[0], int(f.split(":")[1])))


def test_no_view_builds_or_runs_a_query() -> None:
    found = [f for path in _modules() for f in findings(path)
             if ": commits: " not in f]
    assert not found, ("views call services, which run the queries:\n  "
                       + "\n  ".join(found))


def test_no_view_commits() -> None:
    found = [f for path in _modules() for f in findings(path) if ": commits: " in f]
    assert not found, "the request commits once at its end, never a view:\n  " + \
        "\n  ".join(found)


# -- the check itself finds what it is meant to ------------------------------------------

CAUGHT = '''
from flask import session
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
import sqlalchemy as sa
from tracker.db import get_session, transaction_of_its_own
from tracker.models import Action, User

def page(user_id: int) -> object:
    db = get_session()
    user = db.get(User, user_id)
    also = get_session().get(User, user_id)
    rows = db.scalars(select(Action))
    count = db.scalar(sa.text("SELECT 1"))
    kept = session.get("signed_in_with")
    db.commit()
    return user, also, rows, count, kept

def keep(app: object, row: object) -> None:
    with transaction_of_its_own(app) as other:
        other.add(row)
        other.execute(sa.delete(User))
'''


@pytest.fixture
def caught(tmp_path: Path) -> list[str]:
    folder = tmp_path / "tracker" / "views"
    folder.mkdir(parents=True)
    path = folder / "caught.py"
    path.write_text(CAUGHT, encoding="utf-8")
    return findings(path)


def test_the_check_names_each_query_by_file_and_line(caught: list[str]) -> None:
    lines = [(int(f.split(":")[1]), f.split(": ", 1)[1]) for f in caught]
    assert lines == [
        (3, "imports func from sqlalchemy"),
        (3, "imports select from sqlalchemy"),
        (11, "uses the database session: db.get(...)"),
        (12, "uses the database session: get_session().get(...)"),
        (13, "runs a query: db.scalars(...)"),
        (14, "runs a query: db.scalar(...)"),
        (14, "uses sa.text"),
        (16, "commits: db.commit()"),
        (21, "uses the database session: other.add(...)"),
        (22, "runs a query: other.execute(...)"),
        (22, "uses sa.delete"),
    ], caught
    assert all(f.startswith("tracker/views/caught.py:") for f in caught)
