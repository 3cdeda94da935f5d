"""outbox: when delivery of each email was first tried, for its day of retries

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # left empty on existing rows: the next try of a queued email starts its day of retries
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "first_attempt_at", tracker.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("first_attempt_at")
