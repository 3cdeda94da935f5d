"""statuses worked out outside the write lock: actions.revision and status_runs

A recompute of the whole plan works its statuses out without holding the write lock, then
stores them. An action's revision moves on whenever its facts change (an update, a review,
a KPI value), and each recompute of the whole plan that is stored is a row of status_runs:
together they tell the recompute what changed in between.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False,
                                      server_default="0"))
    op.create_table(
        "status_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stored_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_runs")),
    )


def downgrade() -> None:
    op.drop_table("status_runs")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("revision")
