"""The blueprints: thin views over the services."""

from __future__ import annotations

from flask import abort

from plans import Plan
from tracker.db import get_session


def plan_or_404() -> Plan:
    """The plan as last loaded; pages that need one answer 404 before any is loaded."""
    from tracker.services.plan_load import current_plan

    plan = current_plan(get_session())
    if plan is None:
        abort(404)
    return plan
