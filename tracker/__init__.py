"""The tracker web application: models, services, views, forms and the ``tracker`` CLI.

Importing the package imports no web framework: :func:`create_app` (in :mod:`tracker.app`)
is loaded the first time it is asked for, so that ``tracker plan check`` reads a plan file
without Flask or SQLAlchemy (:mod:`tracker.entry`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.app import TrackerApp, create_app

__all__ = ["TrackerApp", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tracker import app  # noqa: PLC0415 - create_app is loaded when first asked for, so that plan check runs without Flask

        return getattr(app, name)
    raise AttributeError(f"module 'tracker' has no attribute {name!r}")
