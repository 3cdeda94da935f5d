"""What the ``tracker`` commands share: the loaded plan, and ``--today``."""

from __future__ import annotations

import sys
from datetime import date

import click
from sqlalchemy.orm import Session

from plans import Plan
from tracker import clock
from tracker.services.plan_load import current_plan

NO_PLAN = "No plan is loaded yet: run 'tracker plan load plans.yaml' first."


def loaded_plan(session: Session) -> Plan:
    """The plan as last loaded, or exit 1 saying how to load one."""
    plan = current_plan(session)
    if plan is None:
        click.echo(NO_PLAN, err=True)
        sys.exit(1)
    return plan


def day_option(today: object) -> date:
    """``--today`` if given, else the one clock's today."""
    return today.date() if today is not None else clock.today()  # type: ignore[attr-defined]
