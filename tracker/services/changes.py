"""Change requests: revised due dates and KPI targets, asked for with a reason and decided
as the plan's rules say.

- **What can change.** An action's due date, the due date of one of its milestones (asked
  for by the action's owner or a lead of its group), or one of a KPI's targets: a year's,
  or the target for the whole plan (asked for by the KPI's owner). Each item has one open
  request at a time (``open_key``, unique, with the item's row held while asking).
- **The baseline stays.** The plan file's date or target is the baseline; plan loads keep
  writing it. An approved request is kept apart from it (``change_requests``), so a plan
  load never loses it. The revision *in force* for an item is the latest approved one
  whose recorded baseline is still the file's: when a plan is loaded with a new date or
  target for the item (the annual review re-baselined it), the file's counts again.
- **What it changes.** The rules engine uses the action's due date in force, and KPI
  measures the target in force (:mod:`tracker.services.revisions`, read by
  :func:`tracker.services.statuses.work_out` and :func:`tracker.services.kpi_values.definition`).
  Approving a due date recomputes the action's statuses; approving a target, those of the
  actions the KPI informs. A milestone's date is shown, not used by the rules.
- **Who decides** (``rules.change_approval``): ``group_lead``, a lead of the item's group
  (for a KPI: a group whose priority it measures, or of an action it informs); ``board``,
  the board, whose decision an admin records (board members read and never edit). Admins
  may always record a decision; nobody decides their own request
  (:func:`tracker.access.can_decide_change`). A decision is final; a declined request can
  be asked again. Declining needs a comment.
- **At once.** The request's row is held (:func:`tracker.db.hold`) while it is decided: of
  two decisions at the same moment, the second finds it decided.

Every request and decision is written to the audit trail, and an email is queued in the
outbox (in the same transaction) to whoever decides and, once decided, to whoever asked.
Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from kpis import KpiDefinition
from kpis.formatting import value_text
from plans import Plan, Quarter
from plans.periods import long_date
from tracker import access
from tracker.clock import LONDON
from tracker.db import hold
from tracker.models import KPI, Action, ChangeRequest, Commitment, Group, Milestone, Priority, User
from tracker.models.base import utcnow
from tracker.models.changes import (
    ACTION_DUE,
    APPROVED,
    DECLINED,
    KPI_TARGET,
    MILESTONE_DUE,
    OPEN,
)
from tracker.models.delivery import action_kpis
from tracker.models.kpi import kpi_commitments
from tracker.services import audit, kpi_values
from tracker.services import outbox as outbox_service
from tracker.services.revisions import (
    PLAN_WIDE,
    file_target,
    forget_targets,
    revised_due_dates,
    revised_milestone_dates,
    revised_targets,
)
from tracker.services.statuses import recompute

REASON_LENGTH = 5000


class ChangeRefused(ValueError):
    """A request cannot be made or decided; ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AlreadyDecided(ChangeRefused):
    """Someone else decided the request first."""


# -- who decides -------------------------------------------------------------------------


def decider(plan: Plan) -> str:
    """``group_lead`` or ``board``: who decides, by the plan's rules."""
    return plan.rules.change_approval


def kpi_group_ids(session: Session, kpi_id: int) -> set[int]:
    """The groups a KPI belongs to: those whose priorities it measures (through its
    commitments) and those of the actions it informs."""
    via_commitments = (select(Priority.group_id)
                       .join(Commitment, Commitment.priority_id == Priority.id)
                       .join(kpi_commitments, kpi_commitments.c.commitment_id == Commitment.id)
                       .where(kpi_commitments.c.kpi_id == kpi_id))
    via_actions = (select(Action.group_id)
                   .join(action_kpis, action_kpis.c.action_id == Action.id)
                   .where(action_kpis.c.kpi_id == kpi_id))
    found = set(session.scalars(via_commitments)) | set(session.scalars(via_actions))
    return {group_id for group_id in found if group_id is not None}


def group_ids(session: Session, change: ChangeRequest) -> set[int]:
    if change.kind == KPI_TARGET:
        return kpi_group_ids(session, change.kpi_id) if change.kpi_id is not None else set()
    action = change.action
    return {action.group_id} if action is not None and action.group_id is not None else set()


def may_decide(session: Session, plan: Plan, user: Any, change: ChangeRequest,
               groups: Collection[int] | None = None) -> bool:
    """Whether ``user`` may decide this open request."""
    if not change.is_open:
        return False
    found = group_ids(session, change) if groups is None else groups
    return access.can_decide_change(user, change, decider(plan), found)


def may_ask_target(user: Any, kpi: KPI) -> bool:
    """A KPI's owner asks for a revised target (never a board member, nor for a retired
    KPI)."""
    if not getattr(user, "is_authenticated", False) or kpi.is_retired:
        return False
    return bool(user.role != "board" and kpi.owner_id == user.id)


def decided_words(change: ChangeRequest) -> str:
    """Who decided, as a reader wants it: ``the board (recorded by Sam Lee)``."""
    name = change.decided_by.name if change.decided_by is not None else "someone"
    if change.decided_as == "board":
        return f"the board (recorded by {name})"
    if change.decided_as == "admin":
        return f"{name} (community safety team)"
    return f"{name} (group lead)"


# -- asking ------------------------------------------------------------------------------


def _key(kind: str, item_id: int, period: str = "") -> str:
    return f"{kind}:{item_id}" + (f":{period}" if period else "")


def open_request(session: Session, key: str) -> ChangeRequest | None:
    return session.scalars(select(ChangeRequest).where(ChangeRequest.open_key == key)
                           .options(joinedload(ChangeRequest.requested_by))).first()


def _already_open(existing: ChangeRequest, what: str, field: str) -> ChangeRefused:
    who = existing.requested_by.name if existing.requested_by is not None else "Someone"
    return ChangeRefused(
        f"{who} already asked on {long_date(existing.requested_at.date())} for a change to "
        f"{what}, which is waiting for a decision: only one request at a time can be open",
        field)


def _reason(text: str) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ChangeRefused("Enter why the change is needed", "reason")
    if len(reason) > REASON_LENGTH:
        raise ChangeRefused("The reason must be 5,000 characters or fewer", "reason")
    return reason


def ask_due_date(session: Session, plan: Plan, user: User, action: Action,
                 milestone_id: int | None, new_date: date | None, reason: str,
                 today: date, mail: outbox_service.MailTemplates | None = None
                 ) -> ChangeRequest:
    """Ask for a revised due date for an action (``milestone_id`` None), or for one of its
    milestones."""
    if not access.can_update(user, action):
        raise PermissionError("only the action's owner or a lead of its group can ask")
    # held until committed: of two requests for the action at once, the second sees the first
    hold(session, action)
    milestone = session.get(Milestone, milestone_id) if milestone_id is not None else None
    if milestone_id is not None and (milestone is None or milestone.action_id != action.id
                                     or milestone.is_retired):
        raise ChangeRefused("Choose the action's due date or one of its milestones", "item")
    if milestone is not None and milestone.completed_at is not None:
        raise ChangeRefused(f"The milestone '{milestone.title}' is done: its date cannot "
                            "change", "item")
    kind = ACTION_DUE if milestone is None else MILESTONE_DUE
    key = _key(kind, action.id if milestone is None else milestone.id)
    what = "the due date" if milestone is None else f"the milestone '{milestone.title}'"
    existing = open_request(session, key)
    if existing is not None:
        raise _already_open(existing, what, "item")
    if milestone is None:
        baseline = action.due
        current = revised_due_dates(session, [action.id]).get(action.id, baseline)
    else:
        baseline = milestone.due
        current = revised_milestone_dates(session, [milestone.id]).get(milestone.id, baseline)
    if new_date is None:
        raise ChangeRefused("Enter the revised due date", "new_date")
    if new_date == current:
        raise ChangeRefused(f"The revised due date is the due date now ({long_date(current)}):"
                            " enter a different date", "new_date")
    if new_date < today:
        raise ChangeRefused("The revised due date must be today or in the future", "new_date")
    if action.starts is not None and new_date < action.starts:
        raise ChangeRefused("The revised due date must be on or after the day the action "
                            f"starts, {long_date(action.starts)}", "new_date")
    ends = plan.partnership.plan.ends
    if new_date > ends:
        raise ChangeRefused(f"The revised due date must be on or before the day the plan "
                            f"ends, {long_date(ends)}", "new_date")
    text = _reason(reason)
    change = ChangeRequest(
        kind=kind, action_id=action.id, milestone_id=milestone.id if milestone else None,
        baseline_date=baseline, from_date=current, requested_date=new_date, reason=text,
        requested_by_id=user.id, requested_at=utcnow(), state=OPEN, open_key=key)
    session.add(change)
    session.flush()
    object_type, ref = ("milestone", milestone.ref) if milestone else ("action", action.ref)
    audit.record(session, user, "change.requested", object_type, ref,
                 f"{item_words(change)}: {long_date(current)} to {long_date(new_date)} "
                 f"asked for: {text}",
                 new={"request": change.id, "kind": kind, "baseline": baseline,
                      "from": current, "to": new_date, "reason": text})
    _tell_deciders(session, plan, change, mail)
    return change


def target_choices(kpi: KPI, plan: Plan, today: date) -> list[tuple[str, str]]:
    """The targets a KPI's owner may ask to revise: (period, words). A year's target while
    the year has not ended, and the target for the whole plan."""
    calendar = plan.partnership.calendar
    choices = []
    for label in sorted(kpi.targets):
        try:
            year = calendar.parse_year(label)
        except ValueError:
            continue
        if year.end >= today:
            choices.append((label, f"The target for {label}"))
    if kpi.target is not None:
        choices.append((PLAN_WIDE, "The target for the whole plan" if not kpi.targets
                        else "The target for every year without its own"))
    return choices


def ask_target(session: Session, plan: Plan, user: User, kpi: KPI, period: str | None,
               value: float | None, reason: str, today: date,
               mail: outbox_service.MailTemplates | None = None) -> ChangeRequest:
    """Ask for a revised target for a KPI: one year's, or the whole plan's."""
    if not may_ask_target(user, kpi):
        raise PermissionError("only the KPI's owner can ask for a revised target")
    hold(session, kpi)
    choices = dict(target_choices(kpi, plan, today))
    if period is None or period not in choices:
        raise ChangeRefused("Choose which target to change", "period")
    key = _key(KPI_TARGET, kpi.id)
    existing = open_request(session, key)
    if existing is not None:
        raise _already_open(existing, "one of its targets", "period")
    baseline = file_target(kpi, period)
    current = revised_targets(kpi).get(period, baseline)
    if value is None or value != value or value in (float("inf"), float("-inf")):
        raise ChangeRefused("Enter the revised target as a number, like 640 or 71.5", "value")
    if kpi.unit == "percent" and not 0 <= value <= 100:
        raise ChangeRefused("Enter the revised target as a percentage from 0 to 100", "value")
    if current is not None and value == current:
        raise ChangeRefused(f"The revised target is the target now ({target_words(kpi, current)}): "
                            "enter a different one", "value")
    text = _reason(reason)
    change = ChangeRequest(
        kind=KPI_TARGET, kpi_id=kpi.id, period=period, baseline_value=baseline,
        from_value=current, requested_value=float(value), reason=text,
        requested_by_id=user.id, requested_at=utcnow(), state=OPEN, open_key=key)
    session.add(change)
    session.flush()
    audit.record(session, user, "change.requested", "kpi", kpi.ref,
                 f"{item_words(change)}: {target_words(kpi, current)} to "
                 f"{target_words(kpi, value)} asked for: {text}",
                 new={"request": change.id, "kind": KPI_TARGET, "period": period or "plan",
                      "baseline": baseline, "from": current, "to": float(value),
                      "reason": text})
    _tell_deciders(session, plan, change, mail)
    return change


# -- deciding ----------------------------------------------------------------------------


def decide(session: Session, plan: Plan, user: User, change: ChangeRequest, approve: bool,
           comment: str, today: date, mail: outbox_service.MailTemplates | None = None
           ) -> None:
    """Approve or decline an open request, for good (flushes; the caller commits).

    Approving a due date recomputes the action's statuses; a target, those of the actions
    the KPI informs."""
    # held until committed: of two decisions at the same moment, the second finds it made
    hold(session, change)
    if not change.is_open:
        word = "approved" if change.state == APPROVED else "declined"
        raise AlreadyDecided(f"This request was already {word} by {decided_words(change)}")
    if not may_decide(session, plan, user, change):
        raise PermissionError("not someone who decides this request")
    note = (comment or "").strip()
    if not approve and not note:
        raise ChangeRefused("Enter why the request is declined: the person who asked will "
                            "read it", "comment")
    if len(note) > REASON_LENGTH:
        raise ChangeRefused("The comment must be 5,000 characters or fewer", "comment")
    rule = decider(plan)
    change.state = APPROVED if approve else DECLINED
    change.decided_by_id, change.decided_at = user.id, utcnow()
    change.decided_as = ("board" if rule == "board" else "admin") if access.is_admin(user) \
        else "group_lead"
    change.comment = note
    change.open_key = None
    if approve:  # revised against the plan file's date or target as it is now
        if change.kind == ACTION_DUE and change.action is not None:
            change.baseline_date = change.action.due
        elif change.kind == MILESTONE_DUE and change.milestone is not None:
            change.baseline_date = change.milestone.due
        elif change.kind == KPI_TARGET and change.kpi is not None:
            change.baseline_value = file_target(change.kpi, change.period)
    session.flush()
    session.expire(change, ["decided_by"])  # read again: who decided, by name
    object_type, ref = _audited_item(change)
    verb = "approved" if approve else "declined"
    audit.record(session, user, f"change.{verb}", object_type, ref,
                 f"{item_words(change)}: {from_words(change)} to {to_words(change)} {verb} "
                 f"by {decided_words(change)}" + (f": {note}" if note else ""),
                 old={"request": change.id, "state": OPEN},
                 new={"request": change.id, "state": change.state,
                      "decided_as": change.decided_as, "comment": note})
    forget_targets(session)
    if approve:
        _recompute(session, plan, today, change, user)
    _tell_requester(session, change, mail)


def _recompute(session: Session, plan: Plan, today: date, change: ChangeRequest,
               user: User) -> None:
    if change.kind == ACTION_DUE and change.action_id is not None:
        recompute(session, plan, today, [change.action_id], actor=user)
    elif change.kind == KPI_TARGET and change.kpi is not None:
        affected = kpi_values.affected_actions(session, change.kpi)
        if affected:
            recompute(session, plan, today, affected, actor=user)


def _audited_item(change: ChangeRequest) -> tuple[str, str]:
    if change.kind == KPI_TARGET and change.kpi is not None:
        return "kpi", change.kpi.ref
    if change.kind == MILESTONE_DUE and change.milestone is not None:
        return "milestone", change.milestone.ref
    return "action", change.action.ref if change.action is not None else ""


# -- words -------------------------------------------------------------------------------


def target_words(kpi: KPI, value: float | None) -> str:
    """A target in the KPI's unit: ``1,420``, ``71%``, ``12 days``."""
    if value is None:
        return "no target"
    unit_only = KpiDefinition(ref=kpi.ref, name=kpi.name, unit=kpi.unit, better=kpi.better,
                              frequency=kpi.frequency, tolerance=kpi.tolerance)
    return value_text(unit_only, value)


def item_words(change: ChangeRequest) -> str:
    """What the request is about: ``Due date``, ``Milestone 'Audit done'``, ``Target for
    2026/27``."""
    if change.kind == MILESTONE_DUE:
        title = change.milestone.title if change.milestone is not None else "a milestone"
        return f"Due date of the milestone '{title}'"
    if change.kind == KPI_TARGET:
        return ("Target for the whole plan" if change.period == PLAN_WIDE
                else f"Target for {change.period}")
    return "Due date"


def from_words(change: ChangeRequest) -> str:
    if change.is_date:
        return long_date(change.from_date) if change.from_date else "no date"
    return target_words(change.kpi, change.from_value) if change.kpi is not None else ""


def to_words(change: ChangeRequest) -> str:
    if change.is_date:
        return long_date(change.requested_date) if change.requested_date else "no date"
    return target_words(change.kpi, change.requested_value) if change.kpi is not None else ""


def baseline_words(change: ChangeRequest) -> str:
    if change.is_date:
        return long_date(change.baseline_date) if change.baseline_date else "no date"
    return target_words(change.kpi, change.baseline_value) if change.kpi is not None else ""


# -- reading -----------------------------------------------------------------------------

_LOADED = (joinedload(ChangeRequest.requested_by), joinedload(ChangeRequest.decided_by),
           joinedload(ChangeRequest.milestone))


def for_action(session: Session, action: Action) -> list[ChangeRequest]:
    """Every request about an action's dates, newest first (one query)."""
    return list(session.scalars(
        select(ChangeRequest).where(ChangeRequest.action_id == action.id)
        .options(*_LOADED).order_by(ChangeRequest.requested_at.desc(),
                                    ChangeRequest.id.desc())))


def for_kpi(session: Session, kpi: KPI) -> list[ChangeRequest]:
    """Every request about a KPI's targets, newest first (one query)."""
    return list(session.scalars(
        select(ChangeRequest).where(ChangeRequest.kpi_id == kpi.id)
        .options(*_LOADED).order_by(ChangeRequest.requested_at.desc(),
                                    ChangeRequest.id.desc())))


def find_action(session: Session, ref: str) -> Action | None:
    """An action by its ref, with what asking for a revised due date needs: its owner,
    group, commitment and priority, and milestones."""
    return session.scalars(
        select(Action).where(Action.ref == ref)
        .options(joinedload(Action.owner), joinedload(Action.group),
                 joinedload(Action.commitment).joinedload(Commitment.priority),
                 selectinload(Action.milestones))).first()


def find_kpi(session: Session, ref: str) -> KPI | None:
    """A KPI by its ref, with its owner (who may ask for a revised target)."""
    return session.scalars(select(KPI).where(KPI.ref == ref)
                           .options(joinedload(KPI.owner))).first()


def find(session: Session, change_id: int) -> ChangeRequest | None:
    return session.scalars(
        select(ChangeRequest).where(ChangeRequest.id == change_id)
        .options(*_LOADED, joinedload(ChangeRequest.action).joinedload(Action.owner),
                 joinedload(ChangeRequest.action).joinedload(Action.group),
                 joinedload(ChangeRequest.kpi).joinedload(KPI.owner))).first()


def listing(session: Session, state: str, limit: int = 500) -> list[ChangeRequest]:
    """Open requests (oldest first: the longest waiting at the top), or decided ones (the
    latest decisions first)."""
    query = select(ChangeRequest).options(
        *_LOADED, joinedload(ChangeRequest.action), joinedload(ChangeRequest.kpi))
    if state == OPEN:
        query = query.where(ChangeRequest.state == OPEN).order_by(
            ChangeRequest.requested_at, ChangeRequest.id)
    else:
        query = query.where(ChangeRequest.state != OPEN).order_by(
            ChangeRequest.decided_at.desc(), ChangeRequest.id.desc())
    return list(session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class Agreement:
    """Who agreed a revision, as whom, when and why."""

    requested_by: str
    requested_at: datetime
    reason: str
    decided_by: str
    decided_as: str  # group_lead, board (recorded by an admin) or admin
    decided_at: datetime
    comment: str
    words: str  # e.g. "the board (recorded by Sam Lee)"


@dataclass(frozen=True)
class DueDateLine:
    """An action's due dates, for the board pack and the dashboard."""

    action_id: int
    ref: str
    title: str
    baseline: date  # the plan file's due date
    revised: date | None  # the approved revised due date in force, if any
    agreement: Agreement | None  # the approval of ``revised``
    agreed_in_quarter: bool  # ``revised`` was agreed during the quarter
    waiting: date | None  # the date asked for by a request waiting for a decision

    @property
    def due(self) -> date:
        """The date the rules use."""
        return self.revised or self.baseline


def due_dates_for_quarter(session: Session, quarter: Quarter,
                          action_ids: Collection[int] | None = None) -> list[DueDateLine]:
    """Every current action's baseline due date and the revised due date in force, with its
    approval, in plan order (two queries, whatever the size of the plan).

    The revision is the one the stored statuses of every quarter use (the latest approved,
    as of now); ``agreed_in_quarter`` says whether it was agreed between the quarter's first
    and last days (London time), and ``waiting`` names a date still waiting for a decision.
    """
    query = (select(Action.id, Action.ref, Action.title, Action.due)
             .where(Action.retired_at.is_(None)).order_by(Action.position))
    if action_ids is not None:
        query = query.where(Action.id.in_(list(action_ids)))
    actions = list(session.execute(query))
    c = ChangeRequest
    changes = session.scalars(
        select(c).where(c.kind == ACTION_DUE, c.state.in_((OPEN, APPROVED)))
        .options(joinedload(c.requested_by), joinedload(c.decided_by))
        .order_by(c.decided_at, c.id))
    approved: dict[int, ChangeRequest] = {}
    waiting: dict[int, date] = {}
    baselines = {row.id: row.due for row in actions}
    for change in changes:
        action_id = change.action_id
        if action_id is None or action_id not in baselines:
            continue
        if change.state == OPEN and change.requested_date is not None:
            waiting[action_id] = change.requested_date
        elif change.state == APPROVED and change.baseline_date == baselines[action_id]:
            approved[action_id] = change  # ordered by decision: the latest wins
    lines = []
    for row in actions:
        revision = approved.get(row.id)
        agreement = None
        in_quarter = False
        if revision is not None and revision.decided_at is not None:
            agreement = Agreement(
                requested_by=revision.requested_by.name if revision.requested_by else "",
                requested_at=revision.requested_at, reason=revision.reason,
                decided_by=revision.decided_by.name if revision.decided_by else "",
                decided_as=revision.decided_as, decided_at=revision.decided_at,
                comment=revision.comment, words=decided_words(revision))
            day = revision.decided_at.astimezone(LONDON).date()
            in_quarter = quarter.start <= day <= quarter.end
        lines.append(DueDateLine(
            action_id=row.id, ref=row.ref, title=row.title, baseline=row.due,
            revised=revision.requested_date if revision is not None else None,
            agreement=agreement, agreed_in_quarter=in_quarter, waiting=waiting.get(row.id)))
    return lines


# -- emails ------------------------------------------------------------------------------


def _deciders(session: Session, plan: Plan, change: ChangeRequest) -> list[User]:
    admins = list(session.scalars(select(User).where(User.role == "admin",
                                                     User.is_active.is_(True))
                                  .order_by(User.id)))
    people: list[User] = []
    if decider(plan) == "group_lead":
        groups = group_ids(session, change)
        if groups:
            people = [u for u in session.scalars(
                select(User).join(Group, Group.lead_id == User.id)
                .where(Group.id.in_(sorted(groups)), User.is_active.is_(True),
                       User.role != "board").order_by(User.id))]
    people = [u for u in people if u.id != change.requested_by_id]
    if not people:
        people = [u for u in admins if u.id != change.requested_by_id]
    unique: dict[int, User] = {u.id: u for u in people}
    return list(unique.values())


def _item_ref(change: ChangeRequest) -> str:
    if change.kind == KPI_TARGET:
        return change.kpi.ref if change.kpi is not None else ""
    return change.action.ref if change.action is not None else ""


def _send(session: Session, mail: outbox_service.MailTemplates, template: str, key: str,
          kind: str, to: User, subject: str, **context: Any) -> None:
    try:
        address = outbox_service.check_address(to.email)
    except outbox_service.InvalidAddress:
        return
    name = outbox_service.partnership_name(session)
    values = {"partnership_name": name, "base_url": mail.base_url, "subject": subject,
              "name": to.name, **context}
    text = mail.env.get_template(f"changes/email_{template}.txt").render(**values)
    html = mail.env.get_template(f"changes/email_{template}.html").render(**values)
    outbox_service.queue(session, key=key, kind=kind, to=address, subject=subject,
                         text=text.strip() + "\n", html=html)


def _context(change: ChangeRequest, mail: outbox_service.MailTemplates) -> dict[str, Any]:
    return {"ref": _item_ref(change), "what": item_words(change),
            "from_text": from_words(change), "to_text": to_words(change),
            "reason": change.reason,
            "asked_by": change.requested_by.name if change.requested_by else "Someone",
            "link": f"{mail.base_url}/changes/{change.id}"}


def _tell_deciders(session: Session, plan: Plan, change: ChangeRequest,
                   mail: outbox_service.MailTemplates | None) -> None:
    if mail is None:
        return
    context = _context(change, mail)
    what = str(context["what"])
    subject = f"Change request for {context['ref']}: {what[:1].lower()}{what[1:]}"
    for person in _deciders(session, plan, change):
        _send(session, mail, "asked", f"changes|{change.id}|asked|{person.email}",
              "change_request", person, subject, board=decider(plan) == "board",
              is_admin=person.role == "admin", **context)


def _tell_requester(session: Session, change: ChangeRequest,
                    mail: outbox_service.MailTemplates | None) -> None:
    person = change.requested_by
    if mail is None or person is None or not person.is_active \
            or person.id == change.decided_by_id:
        return
    context = _context(change, mail)
    word = "approved" if change.state == APPROVED else "declined"
    subject = f"Change request for {context['ref']} {word}"
    _send(session, mail, "decided", f"changes|{change.id}|{change.state}|{person.email}",
          "change_decision", person, subject, approved=change.state == APPROVED,
          decided_by=decided_words(change), comment=change.comment, **context)
