"""The data model, split by feature. Import models from here."""

from tracker.models.base import Base, utcnow
from tracker.models.delivery import Action, ActionUpdate, Milestone
from tracker.models.kpi import KPI, KPIValue
from tracker.models.people import User
from tracker.models.plan import (
    Authority,
    Commitment,
    Duty,
    Group,
    Partnership,
    PlanLoad,
    PreventionLevel,
    Principle,
    Priority,
    Theme,
)

__all__ = [
    "KPI",
    "Action",
    "ActionUpdate",
    "Authority",
    "Base",
    "Commitment",
    "Duty",
    "Group",
    "KPIValue",
    "Milestone",
    "Partnership",
    "PlanLoad",
    "PreventionLevel",
    "Principle",
    "Priority",
    "Theme",
    "User",
    "utcnow",
]
