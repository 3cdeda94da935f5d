"""Board packs built in the background, once, and served from the database.

A request for a pack (:func:`ask`) never builds it: it finds the build of the same pack, or
queues one, a row of ``pack_builds``. A builder process (``tracker worker``,
:mod:`tracker.builder`) claims queued builds, at most :data:`AT_ONCE` at a time across
every builder, makes each file in a process of its own and stores it here; every web server
then serves it from the database.

A pack is named by its ``key``: the format, the quarter, the filters, the day (a pack says
when it was prepared, and which quarter is open) and a fingerprint of the data it shows
(:func:`fingerprint`). The same pack, asked for again or by someone else, is the same build:
it is built once and served from then on, until something it shows changes (a status, an
update, a KPI value, an escalation, the plan): then the fingerprint, and so the key, is
another, and the next request queues a new build. A person has at most one build of each
format waiting at a time. When a quarter is locked (the board has met), its packs are built
ahead (:func:`build_ahead`), so they are ready when people ask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from plans import Quarter
from tracker.models import (
    ActionStatus,
    ActionUpdate,
    ChangeRequest,
    Commentary,
    Escalation,
    Group,
    KPIValue,
    PlanLoad,
    RollupStatus,
    User,
)
from tracker.models.packs import BUILDING, FAILED, PENDING, QUEUED, READY, PackBuild, PackRequest
from tracker.services import outbox
from tracker.services.layouts import EVERYTHING, Choice
from tracker.services.outbox import MailTemplates

FORMATS = ("pdf", "xlsx", "csv", "html")
AHEAD = ("pdf", "xlsx")  # built when a quarter is locked
LAID_OUT = ("pdf", "html")  # the formats a layout shapes; the XLSX and CSV hold everything
AT_ONCE = 2  # builds made at the same time, by every builder together
LEASE = timedelta(minutes=2)  # a builder renews it while it builds; a dead one's lapses
ATTEMPTS = 3  # a build that killed its builder this often is marked failed
KEEP = timedelta(days=7)  # finished builds older than this are deleted
NAMES = {"pdf": "PDF", "xlsx": "spreadsheet (XLSX)", "csv": "CSV", "html": "web page"}


class PackRefused(Exception):
    """The pack cannot be asked for now; the message says why and what to do."""

    def __init__(self, message: str, waiting: PackBuild | None = None) -> None:
        super().__init__(message)
        self.waiting = waiting


@dataclass(frozen=True)
class Asked:
    build: PackBuild
    is_new: bool


def fingerprint(session: Session, quarters: list[Quarter], quarter: Quarter) -> str:
    """What a pack for ``quarter`` shows, in a few aggregates: it changes whenever a stored
    status or roll-up of that quarter or an earlier one, an update of the quarter, its
    commentary, an escalation raised by its end, a KPI value, a decided change request, or
    the plan changes."""
    labels = [q.label for q in quarters if q <= quarter] or [quarter.label]
    parts: list[object] = [
        session.scalar(select(func.max(PlanLoad.id))),
        *session.execute(select(func.count(), func.max(ActionStatus.computed_at))
                         .where(ActionStatus.quarter.in_(labels))).one(),
        *session.execute(select(func.count(), func.max(RollupStatus.computed_at))
                         .where(RollupStatus.quarter.in_(labels))).one(),
        *session.execute(select(func.count(), func.max(ActionUpdate.id),
                                func.max(ActionUpdate.reviewed_at))
                         .where(ActionUpdate.quarter == quarter.label)).one(),
        *session.execute(select(func.count(), func.max(KPIValue.id))).one(),
        *session.execute(select(func.count(), func.max(Commentary.id))
                         .where(Commentary.quarter == quarter.label)).one(),
        *session.execute(select(func.count(), func.max(ChangeRequest.decided_at))).one(),
    ]
    escalations = session.execute(
        select(Escalation.id, Escalation.last_quarter, Escalation.reason,
               Escalation.resolved_at).where(Escalation.quarter.in_(labels))
        .order_by(Escalation.id))
    digest = hashlib.sha256()
    for part in parts:
        digest.update(f"{part}|".encode())
    for row in escalations:
        digest.update(f"{tuple(row)}|".encode())
    return digest.hexdigest()


Filters = Mapping[str, str]  # the board's filters, as their query arguments (group=..., ...)


def key_of(fmt: str, quarter: Quarter, filters: Filters, today: date, data: str,
           layout: Mapping[str, object] | None = None) -> str:
    named = json.dumps({"format": fmt, "quarter": quarter.label, "filters": dict(filters),
                        "today": today.isoformat(), "data": data, "layout": layout or {}},
                       sort_keys=True)
    return hashlib.sha256(named.encode()).hexdigest()


def kept_layout(fmt: str, choice: Choice) -> dict[str, object]:
    """What a build of ``fmt`` keeps of the layout: a document is laid out; a workbook or
    a CSV holds every action whatever the layout, so it is the same build for every one."""
    return choice.as_dict() if fmt in LAID_OUT else {}


def find(session: Session, key: str) -> PackBuild | None:
    return session.scalars(select(PackBuild).where(PackBuild.key == key)).first()


def build_by_id(session: Session, build_id: int) -> PackBuild | None:
    """A pack build by its id (its page, its progress, its file)."""
    return session.get(PackBuild, build_id)


def ask(session: Session, user: User, fmt: str, quarters: list[Quarter], quarter: Quarter,
        filters: Filters, today: date, choice: Choice = EVERYTHING) -> Asked:
    """The build of this pack for ``user``, laid out as ``choice`` says: the one there is,
    or a new one queued.

    Raises :class:`PackRefused` if they already wait for another pack in this format.
    Flushes only. Two people asking at the same moment may both try to queue it: the unique
    key lets one win, and the other's request, run again, finds that build.
    """
    if fmt not in FORMATS:
        raise ValueError(f"'{fmt}' is not a board pack format")
    layout = kept_layout(fmt, choice)
    key = key_of(fmt, quarter, filters, today, fingerprint(session, quarters, quarter), layout)
    build = find(session, key)
    is_new = build is None
    if build is None:
        waiting = session.scalars(
            select(PackBuild).join(PackRequest, PackRequest.build_id == PackBuild.id)
            .where(PackRequest.user_id == user.id, PackBuild.format == fmt,
                   PackBuild.state.in_(PENDING))).first()
        if waiting is not None:
            raise PackRefused(
                f"Your {NAMES[fmt]} board pack for {waiting.quarter} is still being prepared: "
                "wait for it to be ready, then ask for this one", waiting)
        build = PackBuild(key=key, format=fmt, quarter=quarter.label, filters=dict(filters),
                          layout=layout, today=today, state=QUEUED, step="Waiting to start",
                          requested_by_id=user.id, reason="asked for")
        session.add(build)
        session.flush()
    elif build.state == FAILED:
        build.state, build.step, build.progress, build.error = QUEUED, "Waiting to start", 0, ""
        build.attempts = 0
    if session.scalar(select(PackRequest.id).where(PackRequest.build_id == build.id,
                                                   PackRequest.user_id == user.id)) is None:
        session.add(PackRequest(build_id=build.id, user_id=user.id))
    session.flush()
    return Asked(build, is_new)


def build_ahead(session: Session, quarters: list[Quarter], quarter: Quarter,
                today: date, choice: Choice = EVERYTHING) -> list[PackBuild]:
    """Queue the quarter's packs (no filters, laid out as ``choice`` says: the board's
    layout) in :data:`AHEAD`'s formats, unless already built or queued with the data as it
    is. Flushes only."""
    data = fingerprint(session, quarters, quarter)
    queued = []
    for fmt in AHEAD:
        layout = kept_layout(fmt, choice)
        key = key_of(fmt, quarter, {}, today, data, layout)
        if find(session, key) is None:
            build = PackBuild(key=key, format=fmt, quarter=quarter.label, filters={},
                              layout=layout, today=today, state=QUEUED,
                              step="Waiting to start",
                              reason="built ahead when the quarter was locked")
            session.add(build)
            queued.append(build)
    session.flush()
    return queued


def building_count(session: Session, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(PackBuild).where(
        PackBuild.state == BUILDING, PackBuild.claimed_until > now)) or 0


def claim(session: Session, now: datetime) -> PackBuild | None:
    """Take the oldest build waiting (or one whose builder died: its lease lapsed), if fewer
    than :data:`AT_ONCE` are being built. Flushes; the builder commits at once.

    The caller's transaction must hold the claim lock (the builder takes it: SQLite's write
    lock, or a PostgreSQL advisory lock), so that two builders never both take the last slot.
    """
    if building_count(session, now) >= AT_ONCE:
        return None
    lapsed = (PackBuild.state == BUILDING) & (PackBuild.claimed_until <= now)
    build = session.scalars(
        select(PackBuild).where((PackBuild.state == QUEUED) | lapsed)
        .order_by(PackBuild.requested_at, PackBuild.id).limit(1)).first()
    if build is None:
        return None
    if build.state == BUILDING and build.attempts >= ATTEMPTS:
        fail(session, build, "Building it stopped the builder each time it was tried", now)
        return claim(session, now)
    build.state, build.attempts = BUILDING, build.attempts + 1
    build.started_at, build.claimed_until = now, now + LEASE
    build.step, build.progress = "Starting", 1
    session.flush()
    return build


def renew(session: Session, build_ids: list[int], now: datetime) -> None:
    """The builder is still at these builds: their leases run on."""
    if build_ids:
        session.execute(update(PackBuild).where(PackBuild.id.in_(build_ids),
                                                PackBuild.state == BUILDING)
                        .values(claimed_until=now + LEASE)
                        .execution_options(synchronize_session=False))


def report(session: Session, build_id: int, step: str, progress: int) -> None:
    session.execute(update(PackBuild).where(PackBuild.id == build_id,
                                            PackBuild.state == BUILDING)
                    .values(step=step, progress=progress)
                    .execution_options(synchronize_session=False))


def finish(session: Session, build: PackBuild, content: bytes, filename: str, mimetype: str,
           summary: str, now: datetime) -> None:
    build.content, build.filename, build.mimetype = content, filename, mimetype
    build.summary, build.size = summary, len(content)
    build.state, build.step, build.progress = READY, "Ready", 100
    build.finished_at, build.claimed_until, build.error = now, None, ""
    session.flush()


def fail(session: Session, build: PackBuild, error: str, now: datetime) -> None:
    build.state, build.step, build.error = FAILED, "Failed", error[:2000]
    build.finished_at, build.claimed_until = now, None
    session.flush()


def content_of(session: Session, build_id: int) -> bytes | None:
    return session.scalar(select(PackBuild.content).where(PackBuild.id == build_id,
                                                          PackBuild.state == READY))


def purge(session: Session, now: datetime) -> int:
    """Delete finished builds older than :data:`KEEP` (they are built again if asked for)."""
    old = select(PackBuild.id).where(PackBuild.state.in_((READY, FAILED)),
                                     PackBuild.finished_at < now - KEEP)
    ids = list(session.scalars(old))
    if ids:
        session.execute(delete(PackRequest).where(PackRequest.build_id.in_(ids)))
        session.execute(delete(PackBuild).where(PackBuild.id.in_(ids)))
    return len(ids)



def board_members(session: Session) -> list[User]:
    """The board: the active members and lead of the group of kind ``board``."""
    board = session.scalars(select(Group).where(Group.kind == "board",
                                                Group.retired_at.is_(None))).first()
    if board is None:
        return []
    people = {u.email: u for u in [board.lead, *board.members] if u is not None and u.is_active}
    return sorted(people.values(), key=lambda u: u.name)


def announce(session: Session, mail: MailTemplates, quarter: Quarter,
             choice: Choice = EVERYTHING) -> int:
    """Email each board member a link to the quarter's pack (laid out as ``choice``: the
    board's layout, or the whole pack), through the outbox, once per quarter and layout:
    locking the quarter again sends nothing more. Returns how many were queued. Flushes."""
    args = f"quarter={quarter.slug}" + (
        f"&layout={choice.layout_id}" if choice.layout_id is not None else "")
    url = f"{mail.base_url}/board/pack.pdf?{args}"
    name = outbox.partnership_name(session)
    queued = 0
    for person in board_members(session):
        text, html = mail.render(
            "pack_ready", partnership_name=name, name=person.name, quarter=quarter.label,
            url=url, layout=choice.name, cover_note=choice.cover_note)
        try:
            sent = outbox.queue(
                session, key=f"packs|{quarter.label}|{choice.layout_id or 'all'}|"
                f"{person.email}", kind="pack", to=person.email,
                subject=f"The {quarter.label} board pack", text=text, html=html)
        except outbox.InvalidAddress:
            continue
        queued += sent is not None
    return queued
