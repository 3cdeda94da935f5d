"""a quarter's counting updates (which actions have one, and whether it is a concern)
readable from one index, not a scan of every update ever written

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COUNTING = ["quarter", "review", "version", "action_id", "is_concern"]


def upgrade() -> None:
    op.create_index("ix_action_updates_quarter_counting", "action_updates", COUNTING)


def downgrade() -> None:
    op.drop_index("ix_action_updates_quarter_counting", table_name="action_updates")
