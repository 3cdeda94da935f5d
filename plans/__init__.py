"""The plan file: loading, validation and (from the rules) statuses.

Pure Python: this package imports neither Flask nor SQLAlchemy, so it can be used from
any tool, and a test proves it.
"""

from plans.errors import PlanError, Problem
from plans.loader import check_plan, load_plan, parse_plan
from plans.model import Plan
from plans.periods import Calendar, Quarter, Year

__all__ = [
    "Calendar",
    "Plan",
    "PlanError",
    "Problem",
    "Quarter",
    "Year",
    "check_plan",
    "load_plan",
    "parse_plan",
]
