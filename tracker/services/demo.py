"""Demo data: plausible quarterly history from the plan's start up to the open quarter.

The history is generated from the loaded plan with a fixed seed, so the same day gives the
same demo. In the open quarter some updates are in, some are missing (due, or late once
the due date has passed) and some actions are Red, whatever day it is run on.
"""

from __future__ import annotations

import random
import zlib
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from plans import Calendar, Plan, Quarter
from plans.periods import long_date
from tracker.models import (
    KPI,
    Action,
    ActionStatus,
    ActionUpdate,
    Commitment,
    Group,
    KPIValue,
    Partnership,
    Priority,
    User,
)
from tracker.passwords import hash_password
from tracker.services import changes, commentary, layouts, stories, two_factor
from tracker.services.calendar import open_quarter, quarters_between
from tracker.services.plan_load import current_plan
from tracker.services.statuses import recompute

NARRATIVES = {
    "green": [
        "Delivery is on track. Partners met as planned this quarter and the agreed activity went ahead.",
        "Good progress this quarter: the work is being delivered as set out in the delivery plan.",
        "On track. Feedback from partners and residents has been positive and is shaping the next steps.",
    ],
    "amber": [
        "Some slippage this quarter because of staff vacancies in a partner agency; most activity went ahead.",
        "Progress is slower than planned while data-sharing arrangements are agreed between partners.",
        "Partly on track: one strand is delayed by the timing of the funding decision.",
    ],
    "red": [
        "Significant delay: the commissioned provider withdrew and the work has been paused while it is re-procured.",
        "Off track. Key partners have not been able to release staff and the milestone dates have been missed.",
    ],
}
NEXT_STEPS = [
    "Present the findings to the thematic group and agree the next quarter's activity.",
    "Complete the remaining milestones and report back to the thematic group.",
    "Hold the partner workshop and agree owners for the follow-up actions.",
]
CORRECTIVE = {
    "amber": "Interim cover agreed with partners; revised timetable to be agreed at the next thematic group.",
    "red": "Escalated to the lead agency's senior manager; recovery plan to be brought to the next board.",
}
RISKS = [
    "",
    "Capacity in partner agencies over the summer.",
    "Funding beyond March is not yet confirmed.",
    "Dependence on data from a partner whose system is changing.",
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def make_demo(session: Session, today: date, seed: int = 2024) -> list[str]:
    """Add the demo history (flushes; the caller commits). Returns lines to print."""
    partnership = session.scalars(select(Partnership)).first()
    plan = current_plan(session)
    if partnership is None or plan is None:
        raise LookupError("No plan is loaded yet: run 'tracker plan load plans.yaml' first.")
    calendar = plan.partnership.calendar
    rules = plan.rules.calendar
    current = open_quarter(calendar, today, rules.window_opens_days)
    existing = session.scalar(select(func.count()).select_from(ActionUpdate)) or 0
    lines: list[str] = []
    if existing:
        lines.append(f"Demo history is already in the database ({existing} updates); "
                     "nothing added.")
    else:
        lines.extend(_history(session, plan.partnership.plan.starts, calendar, current, today,
                              rules.update_due_days, seed,
                              approval=plan.rules.approval == "group_lead"))
        lines.extend(_kpi_history(session, plan, today, seed))
        recompute(session, plan, today, actor="demo")
        lines.extend(_commentary(session, plan, current))
        lines.extend(_briefing_book(session))
        lines.extend(_change_requests(session, plan, current, today))
        lines.extend(_stories(session))
    lines.extend(_people(session))
    return lines


def _history(session: Session, plan_starts: date, calendar: Calendar, current: Quarter,
             today: date, due_days: int, seed: int, approval: bool = False) -> list[str]:
    """Quarterly updates. Under ``approval``, a group lead approved each owner's update a
    few days after it came in, but for a quarter of the open quarter's: those await it."""
    actions = list(session.scalars(
        select(Action).where(Action.retired_at.is_(None)).order_by(Action.position)
        .options(selectinload(Action.milestones), selectinload(Action.group))
    ))
    waiting = 0
    first = calendar.quarter_of(plan_starts)
    quarters = list(quarters_between(first, current)) if first <= current else []
    due_date = current.end + timedelta(days=due_days)
    added = 0
    received = missing = red = 0
    for action in actions:
        rng = random.Random(seed * 1_000_003 + zlib.crc32(action.ref.encode()))
        first_year = calendar.parse_year(action.years[0]) if action.years else None
        begins = action.starts or (first_year.start if first_year else plan_starts)
        slips = rng.random() < 0.18  # a few actions fall behind and miss their due date
        rag = "green"
        for quarter in quarters:
            if quarter.end < begins:
                continue
            is_current = quarter == current
            if not is_current and rng.random() < 0.04:
                continue  # the odd missed update in the history
            if is_current and rng.random() < 0.35:
                missing += 1
                continue
            span = max((action.due - begins).days, 1)
            expected = min(max((quarter.end - begins).days / span, 0.0), 1.0)
            finished = quarter.end >= action.due and not slips
            rag = _next_rag(rng, rag, slips, quarter.end > action.due)
            percent = 100 if finished else int(min(expected * (0.7 if slips else 1.0), 0.95)
                                                * 100)
            if finished:
                rag = "blue"
            when = min(_at(quarter.end + timedelta(days=rng.randint(-5, due_days + 3))),
                       _at(today, 9))
            made = _update(action, quarter, rag, percent, rng, when)
            lead = action.group.lead_id if action.group is not None else None
            if approval and lead is not None and lead != action.owner_id:
                if is_current and rng.random() < 0.25:
                    made.review = "pending"  # the lead has it still to approve
                    waiting += 1
                else:
                    made.review = "approved"
                    made.reviewed_by_id = lead
                    made.reviewed_at = min(when + timedelta(days=rng.randint(1, 6)),
                                           _at(today, 9))
            session.add(made)
            added += 1
            if is_current:
                received += 1
                red += rag == "red"
            for milestone in action.milestones:
                if milestone.due <= quarter.end and milestone.completed_at is None \
                        and (not slips or rng.random() < 0.5):
                    milestone.completed_at = _at(min(milestone.due, today))
            if finished:
                break
    session.flush()
    state = "late" if today > due_date else f"due by {long_date(due_date)}"
    return [
        f"Demo history added: {added} updates on {len(actions)} actions, "
        f"{quarters[0].label if quarters else '-'} to {current.label}.",
        f"Open quarter {current.label}: updates due {long_date(due_date)}; "
        f"{received} received ({red} Red), {missing} missing ({state})"
        + (f"; {waiting} awaiting their group lead's approval." if approval else "."),
    ]


def _next_rag(rng: random.Random, rag: str, slips: bool, overdue: bool) -> str:
    if overdue and slips:
        return "red"
    roll = rng.random()
    if slips:
        return "red" if roll < 0.35 else "amber" if roll < 0.85 else "green"
    if rag == "blue":
        rag = "green"
    if rag == "green":
        return "amber" if roll < 0.12 else "green"
    return "green" if roll < 0.6 else rag


def _update(action: Action, quarter: Quarter, rag: str, percent: int, rng: random.Random,
            when: datetime) -> ActionUpdate:
    colour = rag if rag in NARRATIVES else "green"
    is_concern = rag == "red" and rng.random() < 0.5
    return ActionUpdate(
        action=action, quarter=quarter.label, version=1, rag=rag, percent_complete=percent,
        narrative="Complete: the action has been delivered and closed at the thematic group."
        if rag == "blue" else rng.choice(NARRATIVES[colour]),
        next_steps="" if rag == "blue" else rng.choice(NEXT_STEPS),
        risks=rng.choice(RISKS), corrective_action=CORRECTIVE.get(rag, ""),
        is_concern=is_concern,
        concern_reason="Delivery depends on a decision the board needs to make." if is_concern
        else "",
        author_id=action.owner_id, created_at=when,
    )


def _kpi_history(session: Session, plan: Plan, today: date, seed: int) -> list[str]:
    """Values from the baseline year up to the last finished period, for every KPI.

    Most KPIs move from their baseline towards their targets, with noise; the three KPIs
    that inform the most actions drift the wrong way, so that the demo shows Red KPIs and
    the rule that turns a Green action Amber when a linked KPI is Red.
    """
    calendar = plan.partnership.calendar
    kpis = list(session.scalars(select(KPI).where(KPI.retired_at.is_(None))
                                .order_by(KPI.position).options(selectinload(KPI.actions),
                                                                selectinload(KPI.commitments))))
    if not kpis or session.scalar(select(func.count()).select_from(KPIValue)
                                  .where(KPIValue.source != "plan")):
        return []
    reach = {k.id: len(k.actions) + sum(len(c.actions) for c in k.commitments) for k in kpis}
    slipping = {k.id for k in sorted(kpis, key=lambda k: (-reach[k.id], k.position))[:3]}
    first_year = calendar.year_of(plan.partnership.plan.starts)
    baseline_year = calendar.year(first_year.start.year - 1)
    added = 0
    for kpi in kpis:
        rng = random.Random(seed * 7919 + zlib.crc32(kpi.ref.encode()))
        base = kpi.baseline_value if kpi.baseline_value is not None else 100.0
        periods: list[tuple[str, date, date]] = []
        year = baseline_year
        while year.end < today and year.start <= plan.partnership.plan.ends:
            if kpi.frequency == "annual":
                periods.append((year.label, year.start, year.end))
            else:
                periods.extend((q.label, q.start, q.end) for q in year.quarters())
            year = year.next()
        if kpi.frequency != "annual":
            year_now = calendar.year_of(today)
            periods.extend((q.label, q.start, q.end) for q in year_now.quarters()
                           if q.end < today)
        for step, (label, start, end) in enumerate(periods):
            target = kpi.targets.get(calendar.year_of(start).label, kpi.target)
            goal = base if target is None else target
            progress = min(step / max(len(periods) - 1, 1), 1.0)
            value = base + (goal - base) * progress
            if kpi.id in slipping:  # the wrong way, beyond the tolerance
                worse = 1 + (0.06 + 0.10 * progress) * (1 if kpi.better == "lower" else -1)
                value = value * worse
            value *= 1 + rng.uniform(-0.03, 0.03)
            if kpi.unit == "percent":
                value = max(0.0, min(100.0, round(value, 1)))
            elif kpi.unit == "count":
                value = float(max(0, round(value)))
            else:
                value = round(value, 1)
            session.add(KPIValue(kpi_id=kpi.id, period=label, value=value, source="demo",
                                 note="", data_source=kpi.source or "",
                                 recorded_at=_at(min(end + timedelta(days=20), today), 8)))
            added += 1
    session.flush()
    return [f"Demo KPI values added: {added} values for {len(kpis)} KPIs."]


SUMMARIES = [
    "Most of the delivery plan is on track this quarter. The partnership's attention is on "
    "the actions that are Red and on the areas of concern below; the KPIs for violence "
    "against women and girls and for anti-social behaviour are moving the wrong way.",
    "A steady quarter: new partnership working is bedding in, and the thematic groups have "
    "agreed recovery plans for the actions that slipped last quarter.",
]
LEAD_NARRATIVES = [
    "The group met twice this quarter. Most actions are on track; the Red actions have "
    "recovery plans, which the group will review at its next meeting.",
    "Partners have kept up delivery despite vacancies. Two actions depend on funding "
    "decisions expected next quarter, and the group asks the board to note the risk.",
    "Good attendance from partners and a clear plan for the rest of the year. The group "
    "will bring its review of the KPIs to the next board.",
]


def _first(session: Session, role: str) -> User | None:
    return session.scalars(select(User).where(User.role == role, User.is_active)
                           .order_by(User.id).limit(1)).first()


def _acting(user: User) -> User:
    """``user`` as if signed in, so that the services' permission checks see a person (the
    demo's scripted people write what they would write through the forms)."""
    user.session_token = user.session_token or "demo"
    return user


def _commentary(session: Session, plan: Plan, current: Quarter) -> list[str]:
    """The quarter's summary and each priority's narrative, by the community safety team
    and the groups' leads, for the last quarter and, for half the priorities, this one."""
    admin = _first(session, "admin")
    priorities = list(session.scalars(select(Priority).where(Priority.retired_at.is_(None))
                                      .order_by(Priority.position)
                                      .options(selectinload(Priority.group))))
    written = 0
    for age, quarter in enumerate((current.previous(), current)):
        if admin is not None:
            commentary.write(session, _acting(admin), quarter, commentary.Scope("summary", None),
                             SUMMARIES[age % len(SUMMARIES)], 0)
            written += 1
        for n, priority in enumerate(priorities):
            group = priority.group
            if group is None or group.lead is None or (age and n >= (len(priorities) + 1) // 2):
                continue
            commentary.write(session, _acting(group.lead), quarter,
                             commentary.Scope(priority.ref, priority),
                             LEAD_NARRATIVES[(n + age) % len(LEAD_NARRATIVES)], 0)
            written += 1
    return [f"Demo commentary added: {written} summaries and leads' narratives."] if written \
        else []


DEMO_STORIES = (
    ("Safer routes home from school",
     "Young people, parents and schools walked the routes home with the police and the "
     "council's wardens. Street lights were mended and two alleyways cleared, and the "
     "wardens now patrol the routes at home time.", "4.a", True),
    ("A new space for young people on the estate",
     "The youth service has opened evening sessions in the community centre, with sport, "
     "music and mentoring, planned with the young people who use them.", None, False),
)


def _stories(session: Session) -> list[str]:
    """Good-news stories: one approved by the community safety team, one waiting."""
    admin, member = _first(session, "admin"), _first(session, "member") or _first(session, "lead")
    if admin is None or member is None:
        return []
    for title, body, ref, approve in DEMO_STORIES:
        known = ref is not None and session.scalar(
            select(Commitment.id).where(Commitment.ref == ref)) is not None
        story = stories.submit(session, _acting(member), title, body, ref if known else None)
        if approve:
            stories.decide(session, _acting(admin), story, "approved")
    return ["Demo good-news stories added: 1 approved, 1 waiting for a decision."]


def _briefing_book(session: Session) -> list[str]:
    """The board's layout of the pack, with a cover note."""
    admin = _first(session, "admin")
    if admin is None:
        return []
    layouts.save(session, _acting(admin), None, layouts.LayoutData(
        name="Board meeting", sections=list(layouts.SECTIONS), is_for_board=True,
        cover_note="Papers for the partnership board. Please read the summary and the "
                   "exception report before the meeting; the board will be asked to note "
                   "the areas of concern and agree the escalations."), None)
    return ["Demo briefing book added: the layout 'Board meeting', sent to the board when "
            "a quarter is locked."]


def _change_requests(session: Session, plan: Plan, current: Quarter, today: date
                     ) -> list[str]:
    """Two requests for a revised due date on actions behind this quarter: one approved by
    the group's lead, one waiting for a decision."""
    behind = list(session.scalars(
        select(Action).join(ActionStatus, ActionStatus.action_id == Action.id)
        .where(Action.retired_at.is_(None), ActionStatus.quarter == current.label,
               ActionStatus.colour.in_(("red", "amber")),
               Action.group_id.is_not(None), Action.due > today)
        .order_by(Action.position)
        .options(selectinload(Action.group), selectinload(Action.owner))))
    made = 0
    for action in behind:
        lead = action.group.lead if action.group is not None else None
        if lead is None or lead.id == action.owner_id or action.owner is None:
            continue
        new_date = min(action.due + timedelta(days=91), plan.partnership.plan.ends)
        if new_date <= action.due:
            continue
        change = changes.ask_due_date(
            session, plan, _acting(action.owner), action, None, new_date,
            "A partner agency's vacancies have delayed the work: a revised date gives time "
            "to recruit and finish it properly.", today)
        if made == 0:
            changes.decide(session, plan, _acting(lead), change, True,
                           "Agreed at the thematic group.", today)
        made += 1
        if made == 2:
            break
    return [f"Demo change requests added: {made} revised due dates (one approved)."] if made \
        else []


DEMO_PASSWORD = "demo-orange-river-lamp"


def _people(session: Session) -> list[str]:
    """One account per role, with the demo password set, chosen to have work to do."""
    chosen: list[tuple[str, User]] = []
    for role in ("admin", "board"):
        user = _first(session, role)
        if user is not None:
            chosen.append((role, user))
    busiest_group = session.execute(
        select(Group, func.count(Action.id)).join(Action, Action.group_id == Group.id)
        .where(Group.lead_id.is_not(None), Action.retired_at.is_(None))
        .group_by(Group.id).order_by(func.count(Action.id).desc(), Group.id).limit(1)
    ).first()
    if busiest_group is not None and busiest_group[0].lead is not None:
        chosen.append(("lead", busiest_group[0].lead))
    owner = session.execute(
        select(User, func.count(Action.id)).join(Action, Action.owner_id == User.id)
        .where(User.role == "member", Action.retired_at.is_(None))
        .group_by(User.id).order_by(func.count(Action.id).desc(), User.id).limit(1)
    ).first()
    if owner is not None:
        chosen.append(("member", owner[0]))
    lines = [f"Demo sign-ins (password for each: {DEMO_PASSWORD}):"]
    for role, user in chosen:
        if user.password_hash is None:
            user.password_hash = hash_password(DEMO_PASSWORD)
        if user.has_two_factor and not two_factor.is_readable(user):
            two_factor.clear(session, user)  # set up under another secret key: again, then
        lines.append(f"  {role:<7} {user.email:<34} {user.name}")
    required = [role for role, _user in chosen if role in two_factor.required_roles()]
    if required:
        who = ", ".join(required[:-1]) + " and " + required[-1] if len(required) > 1 \
            else required[0]
        lines.append(f"  The {who} sign-ins set up two-factor "
                     "authentication (an authenticator app) at their first sign-in.")
    return lines
