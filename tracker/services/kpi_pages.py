"""What the KPI pages read (:mod:`tracker.views.kpis`): the KPIs with what they are linked
to, one KPI by its ref, and the actions that work towards it through its commitments.

Reads only, one query each; the values themselves are :mod:`tracker.services.kpi_values`.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.models import KPI, Action, Commitment


def current_kpis(session: Session) -> list[KPI]:
    """The KPIs still in the plan, in its order, with their commitments, themes and actions."""
    return list(session.scalars(
        select(KPI).where(KPI.retired_at.is_(None)).order_by(KPI.position)
        .options(selectinload(KPI.commitments), selectinload(KPI.themes),
                 selectinload(KPI.actions))))


def find_kpi(session: Session, ref: str) -> KPI | None:
    """A KPI by its ref, with its commitments (and their priorities), actions, themes and
    owner."""
    return session.scalars(
        select(KPI).where(KPI.ref == ref)
        .options(selectinload(KPI.commitments).joinedload(Commitment.priority),
                 selectinload(KPI.actions), selectinload(KPI.themes), joinedload(KPI.owner))
    ).first()


def commitments_actions(session: Session, commitment_ids: Collection[int]) -> list[Action]:
    """The current actions of these commitments, in the plan's order."""
    return list(session.scalars(
        select(Action).where(Action.retired_at.is_(None), Action.commitment_id.in_(
            commitment_ids)).order_by(Action.position)))
