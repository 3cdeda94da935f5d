"""The data model, split by feature. Import models from here."""

from tracker.models.api import ApiToken, ApiTokenUse
from tracker.models.audit import AuditEvent
from tracker.models.base import Base, utcnow
from tracker.models.cache import DataVersion, PageCache
from tracker.models.changes import ChangeRequest
from tracker.models.commentary import Commentary, PackLayout
from tracker.models.delivery import Action, ActionUpdate, Milestone
from tracker.models.kpi import KPI, KPIValue
from tracker.models.ops import SchedulerHeartbeat
from tracker.models.outbox import OutboxMessage
from tracker.models.packs import PackBuild, PackRequest
from tracker.models.people import (
    AccountToken,
    LoginAttempt,
    RecoveryCode,
    SecurityEvent,
    User,
    UserSession,
)
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
from tracker.models.stories import Story
from tracker.models.tracking import (
    ActionStatus,
    Escalation,
    HeldSubmission,
    QuarterLock,
    RollupStatus,
    StatusRun,
)

__all__ = [
    "Story",
    "ApiToken",
    "ApiTokenUse",
    "DataVersion",
    "SchedulerHeartbeat",
    "PageCache",
    "KPI",
    "AccountToken",
    "Action",
    "ActionStatus",
    "SecurityEvent",
    "ActionUpdate",
    "AuditEvent",
    "Commentary",
    "PackLayout",
    "ChangeRequest",
    "Escalation",
    "HeldSubmission",
    "LoginAttempt",
    "RecoveryCode",
    "OutboxMessage",
    "PackBuild",
    "PackRequest",
    "QuarterLock",
    "RollupStatus",
    "StatusRun",
    "UserSession",
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
