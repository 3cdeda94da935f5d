"""each plan load keeps the plan as parsed, frozen, beside its text

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_loads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parsed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("parsed_stamp", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_loads", schema=None) as batch_op:
        batch_op.drop_column("parsed_stamp")
        batch_op.drop_column("parsed")
