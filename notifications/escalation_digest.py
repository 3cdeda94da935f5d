"""The escalation scan: tell whoever each new escalation is for, in one digest email per
recipient per run.

Escalations are raised by ``tracker.services.escalations`` whenever statuses are stored: by
an update, and by the statuses job, which works every status out as on today each night (so
that a quarter that has just opened, or the passing of a due date, raises what it should
even if nobody has submitted anything). The scan reads what is stored; only if the statuses
were not worked out as on ``today`` (the statuses job did not run: the scheduler was down at
midnight) does it work them out first.

"New" is read from the database: an open escalation whose ``notified_at`` is empty. The
digests and the ``notified_at`` marks are written in the same transaction, so a run that
dies before its commit leaves both undone (the next run sends them), and a run that
committed is never repeated. Each escalation goes to the people its rule names: ``board``
(the members and lead of the board group), ``group_lead`` (the lead of the action's group),
``owner``, or an email address.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from notifications.job_support import (
    JobResult,
    action_link,
    address,
    base_url,
    digest_of,
    job_session,
    loaded_plan,
    name_of,
    queue_email,
    settle_statuses,
)
from tracker.db import get_session
from tracker.models import Escalation, User, utcnow
from tracker.services.escalations import mark_notified, unnotified
from tracker.services.recipients import resolve
from tracker.services.statuses import recompute, worked_out_on


def run(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    result = JobResult("escalations", dry_run=dry_run)
    with app.app_context():
        current = worked_out_on(get_session(), today)
    recomputed = None if dry_run or current else settle_statuses(app, today, everything=True)
    with job_session(app, dry_run) as session:
        plan = loaded_plan(session)
        if plan is None:
            result.say("No plan is loaded: nothing to escalate.")
            return result
        if recomputed is None and not current:  # a dry run: worked out here, rolled back
            recomputed = recompute(session, plan, today, actor="scheduler")
        if recomputed is None:
            result.say(f"Statuses as stored, worked out as on {today.isoformat()}.")
        else:
            result.say(f"Statuses recomputed as on {today.isoformat()}: {recomputed.raised} "
                       f"escalation{'s' if recomputed.raised != 1 else ''} raised.")
        new = unnotified(session)
        if not new:
            result.say("No new escalations to send.")
            return result
        letters: dict[str, tuple[User | str, list[Escalation]]] = {}
        for escalation in new:
            for role in escalation.to:
                for recipient in resolve(session, role, escalation.action):
                    entry = letters.setdefault(address(recipient), (recipient, []))
                    if escalation not in entry[1]:
                        entry[1].append(escalation)
        now = utcnow()
        for to in sorted(letters):
            recipient, listed = letters[to]
            count = len(listed)
            subject = (f"{count} new escalation{'s' if count != 1 else ''}: "
                       + ", ".join(e.action.ref for e in listed[:5])
                       + ("..." if count > 5 else ""))
            # named by the escalations it announces: a later digest with others is another
            key = "escalations|" + to + "|" + digest_of(
                (e.id, e.action.ref, e.rule, e.quarter) for e in listed)
            queue_email(
                session, result, key=key, kind="escalations", to=to, subject=subject,
                template="escalations", describe=", ".join(f"{e.action.ref} ({e.rule})"
                                                           for e in listed),
                name=name_of(recipient), board_link=f"{base_url(app)}/board",
                escalations=[{"ref": e.action.ref, "title": e.action.title, "rule": e.rule,
                              "quarter": e.quarter, "reason": e.reason,
                              "owner": e.action.owner.name,
                              "link": action_link(app, e.action)} for e in listed],
            )
        mark_notified(session, new, now)
    return result
