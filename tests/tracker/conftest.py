"""Fixtures shared by the tracker's tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import _make_app
from tests.tracker.helpers import pin_today
from tracker.db import get_engine


@pytest.fixture
def demo_app(demo_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[Flask]:
    """A copy of the demo database for one test, today pinned to 25 November 2026."""
    pin_today(monkeypatch)
    target = tmp_path / "tracker.db"
    shutil.copy(demo_db_template, target)
    app = _make_app(target)
    yield app
    get_engine(app).dispose()
