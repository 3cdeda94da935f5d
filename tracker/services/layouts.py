"""The briefing book: named layouts of the board pack, chosen by the community safety team.

A layout says which sections the pack holds, which priorities and KPIs, and a cover note
that opens it. One layout may be the board's: when a quarter is locked, its pack is built
ahead and the board is emailed a link to it. Without a layout the pack holds everything.
Layouts are versioned against stale edits, and every change is audited. Flushes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker.models import KPI, PackLayout, Priority, User, utcnow
from tracker.services import audit

SECTIONS: dict[str, str] = {
    "summary": "Summary: the figures, the quarter's summary and what changed",
    "exceptions": "Exception report: Red and Amber actions and areas of concern",
    "priorities": "A page for each priority, with its lead's narrative",
    "kpis": "KPIs, each with its chart",
    "escalations": "Open escalations",
    "trend": "Trend across the quarters",
}
"""The pack's sections, in their order; a cover page comes first when there is a note."""


@dataclass(frozen=True)
class Choice:
    """What goes in a pack: the sections, priorities and KPIs (empty: all), a cover note."""

    sections: tuple[str, ...] = tuple(SECTIONS)
    priorities: frozenset[str] = frozenset()
    kpis: frozenset[str] = frozenset()
    cover_note: str = ""
    name: str = ""
    layout_id: int | None = None
    version: int = 0

    @property
    def is_everything(self) -> bool:
        return self.layout_id is None

    def has(self, section: str) -> bool:
        return section in self.sections

    def shows_priority(self, ref: str) -> bool:
        return not self.priorities or ref in self.priorities

    def shows_kpi(self, ref: str) -> bool:
        return not self.kpis or ref in self.kpis

    @classmethod
    def of(cls, layout: PackLayout | None) -> Choice:
        if layout is None:
            return cls()
        return cls(sections=tuple(s for s in SECTIONS if s in layout.sections),
                   priorities=frozenset(layout.priorities), kpis=frozenset(layout.kpis),
                   cover_note=layout.cover_note, name=layout.name, layout_id=layout.id,
                   version=layout.version)

    def as_dict(self) -> dict[str, object]:
        """What a pack build keeps of its layout, as it was when the pack was asked for
        (empty for the whole pack)."""
        if self.is_everything:
            return {}
        return {"id": self.layout_id, "version": self.version, "name": self.name,
                "sections": list(self.sections), "priorities": sorted(self.priorities),
                "kpis": sorted(self.kpis), "cover_note": self.cover_note}

    @classmethod
    def from_dict(cls, kept: Mapping[str, Any]) -> Choice:
        if not kept:
            return cls()
        return cls(sections=tuple(s for s in SECTIONS if s in kept.get("sections", ())),
                   priorities=frozenset(kept.get("priorities", ())),
                   kpis=frozenset(kept.get("kpis", ())),
                   cover_note=str(kept.get("cover_note", "")), name=str(kept.get("name", "")),
                   layout_id=int(kept["id"]), version=int(kept.get("version", 0)))


EVERYTHING = Choice()


class LayoutRefused(Exception):
    """The layout cannot be saved; the message says why, for the field it names."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class StaleLayout(Exception):
    """Someone saved the layout while the form was open."""


@dataclass
class LayoutData:
    name: str
    sections: list[str]
    priorities: list[str] = field(default_factory=list)
    kpis: list[str] = field(default_factory=list)
    cover_note: str = ""
    is_for_board: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "sections": self.sections, "priorities": self.priorities,
                "kpis": self.kpis, "cover_note": self.cover_note,
                "is_for_board": self.is_for_board}


def layouts(session: Session) -> list[PackLayout]:
    return list(session.scalars(select(PackLayout).order_by(PackLayout.name)))


def find(session: Session, layout_id: int) -> PackLayout | None:
    return session.get(PackLayout, layout_id)


def for_board(session: Session) -> PackLayout | None:
    return session.scalars(select(PackLayout).where(PackLayout.is_for_board.is_(True))).first()


def options(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The priorities and KPIs a layout may choose from: (ref, what a person reads)."""
    priorities = [(p.ref, f"Priority {p.ref}: {p.display_title}") for p in session.scalars(
        select(Priority).where(Priority.retired_at.is_(None)).order_by(Priority.position))]
    kpis = [(k.ref, k.name) for k in session.scalars(
        select(KPI).where(KPI.retired_at.is_(None)).order_by(KPI.position))]
    return priorities, kpis


def save(session: Session, user: User, layout: PackLayout | None, data: LayoutData,
         seen_version: int | None) -> PackLayout:
    """Create a layout (``layout`` None) or change one; refuse a stale form or a clash."""
    name = " ".join(data.name.split())
    if not name:
        raise LayoutRefused("name", "Enter a name for the layout")
    if not data.sections:
        raise LayoutRefused("sections", "Choose at least one section")
    unknown = [s for s in data.sections if s not in SECTIONS]
    if unknown:
        raise LayoutRefused("sections", f"There is no section {unknown[0]!r}")
    clash = session.scalars(select(PackLayout).where(
        func.lower(PackLayout.name) == name.lower())).first()
    if clash is not None and clash is not layout:
        raise LayoutRefused("name", f"There is already a layout called {clash.name}: choose "
                            "another name, or change that one")
    old = None
    if layout is None:
        layout = PackLayout(name=name, version=0)
        session.add(layout)
    else:
        if seen_version is not None and layout.version != seen_version:
            raise StaleLayout(f"{layout.name} was changed while the form was open")
        old = _fields(layout)
    if data.is_for_board:
        session.execute(update(PackLayout).where(PackLayout.is_for_board.is_(True))
                        .values(is_for_board=False)
                        .execution_options(synchronize_session="fetch"))
    layout.name, layout.sections = name, [s for s in SECTIONS if s in data.sections]
    layout.priorities, layout.kpis = sorted(set(data.priorities)), sorted(set(data.kpis))
    layout.cover_note, layout.is_for_board = data.cover_note.strip(), data.is_for_board
    layout.version = (layout.version or 0) + 1
    layout.updated_at, layout.updated_by_id = utcnow(), user.id
    session.flush()
    audit.record(session, user, "layout.saved" if old else "layout.created", "pack layout",
                 name, f"version {layout.version}", old=old, new=_fields(layout))
    session.flush()
    return layout


def _fields(layout: PackLayout) -> dict[str, object]:
    return {"name": layout.name, "sections": list(layout.sections),
            "priorities": list(layout.priorities), "kpis": list(layout.kpis),
            "cover_note": layout.cover_note, "is_for_board": layout.is_for_board}
