"""The weekly digest: for each group lead, their group's actions in the open quarter.

Every group with a lead and actions gets one email a week to its lead: each action's stored
status for the open reporting quarter (the colour word and the rule that set it) and the
updates still missing, each with a link to its form. The outbox key names the ISO week
(``digests|2026-W48|GROUP|EMAIL``), so the digest goes once a week however often the job
runs, and a scheduler that was down on Monday sends that week's digest when it comes back.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from notifications.job_support import (
    JobResult,
    action_link,
    job_session,
    loaded_plan,
    queue_email,
    settle_statuses,
    update_link,
)
from plans.periods import long_date
from tracker.services.recipients import led_groups
from tracker.services.reminders import current_actions, missing_updates, open_period
from tracker.services.statuses import StatusWord, ensure_current, status_words


def _word(status: StatusWord) -> str:
    """``Red (Past its due date)``; a grey status by its rule's word alone: ``No update``."""
    return status.word if status.word == status.rule else f"{status.word} ({status.rule})"


def iso_week(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def run(app: Flask, today: date, dry_run: bool = False) -> JobResult:
    result = JobResult("digests", dry_run=dry_run)
    if not dry_run:
        settle_statuses(app, today, everything=False)
    with job_session(app, dry_run) as session:
        plan = loaded_plan(session)
        if plan is None:
            result.say("No plan is loaded: no digests.")
            return result
        period, why = open_period(session, plan, today)
        if period is None:
            result.say(f"No digests: {why}")
            return result
        if dry_run:
            ensure_current(session, plan, today)  # rolled back with the rest
        quarter = period.quarter
        statuses = status_words(session, quarter)
        missing = {a.id for a in missing_updates(session, plan, quarter)}
        by_group: dict[int, list] = {}  # type: ignore[type-arg]
        for action in current_actions(session):
            if action.group_id is not None:
                by_group.setdefault(action.group_id, []).append(action)
        week = iso_week(today)
        for group in led_groups(session):
            lead = group.lead
            actions = by_group.get(group.id, [])
            if lead is None or not lead.is_active or not actions:
                continue
            rows = []
            for action in actions:
                status = statuses.get(action.id)
                word = _word(status) if status is not None else "No status yet"
                rows.append({"ref": action.ref, "title": action.title, "status": word,
                             "missing": action.id in missing, "owner": action.owner.name,
                             "link": update_link(app, action, quarter),
                             "action_link": action_link(app, action)})
            late = [r for r in rows if r["missing"]]
            subject = (f"Weekly digest for {group.name}: {quarter.label}, "
                       f"{len(late)} update{'s' if len(late) != 1 else ''} missing")
            queue_email(
                session, result, key=f"digests|{week}|{group.ref}|{lead.email}",
                kind="digest", to=lead.email, subject=subject, template="digest",
                describe=f"{len(rows)} actions", name=lead.name, group=group.name,
                quarter=quarter, due=long_date(period.due), rows=rows, missing=late,
            )
    return result
