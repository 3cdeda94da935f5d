"""Helpers for the read API's tests: a token made as an admin would, and its header."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from tracker.db import transaction_of_its_own
from tracker.services import api_tokens


def make_token(app: Flask, purpose: str = "Power BI board report", days: int = 30,
               now: datetime | None = None) -> str:
    """A new token's secret, made as ``tracker api-token create`` makes one."""
    with app.app_context(), transaction_of_its_own(app) as db:
        return api_tokens.create(db, "command line", purpose, days, now=now).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
