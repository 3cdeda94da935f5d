"""The ``tracker`` command's entry point.

``tracker plan check FILE`` runs :mod:`tracker.plan_check` alone: it needs no database and
no web application, and skipping them (Flask, SQLAlchemy, the app's blueprints) saves two
seconds of imports. Every other command, and ``tracker plan check --help``, goes to the full
command line (:mod:`tracker.cli`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["plan", "check"] and not {"--help", "-h"} & set(args[2:]):
        from tracker.plan_check import plan_check  # noqa: PLC0415 - plan check runs with plans/ alone, without Flask or SQLAlchemy

        plan_check.main(args=args[2:], prog_name="tracker plan check")
        return
    from tracker.cli import main as everything  # noqa: PLC0415 - plan check runs with plans/ alone, without Flask or SQLAlchemy
    from tracker.config import ConfigError  # noqa: PLC0415 - plan check runs with plans/ alone, without Flask or SQLAlchemy

    try:
        everything.main(args=args, prog_name="tracker")
    except ConfigError as refused:  # one line that says how to put it right, no traceback
        print(f"tracker: the configuration was refused: {refused}", file=sys.stderr)
        sys.exit(2)
