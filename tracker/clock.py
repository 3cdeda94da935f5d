"""Today's date, in one place and in London's time, so that pages, commands and jobs agree on
which quarter is open.

``TRACKER_TODAY=YYYY-MM-DD`` pins the date for a demonstration or a test run on real server
processes; the configuration refuses it in production.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
PINNED = "TRACKER_TODAY"


def pinned() -> date | None:
    """The date ``TRACKER_TODAY`` pins, if it is set; ``ValueError`` if it is not a date."""
    raw = os.environ.get(PINNED, "").strip()
    return date.fromisoformat(raw) if raw else None


def today() -> date:
    return pinned() or datetime.now(LONDON).date()
