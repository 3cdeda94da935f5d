"""Today's date, in one place, so that pages and tests agree on which quarter is open."""

from __future__ import annotations

from datetime import date


def today() -> date:
    return date.today()
