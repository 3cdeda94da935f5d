"""the plan shape's stamp (row 2 of data_versions, new whenever the plan's shape is
written), and a quarter's statuses readable from one index

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FIGURES = ["quarter", "action_id", "colour", "rule", "has_update"]


def upgrade() -> None:
    op.execute(sa.text("INSERT INTO data_versions (id, number) VALUES (2, :stamp)")
               .bindparams(stamp=random.SystemRandom().randrange(1, 2**62)))
    with op.batch_alter_table("action_statuses") as batch:
        batch.drop_index("ix_action_statuses_quarter")
        batch.create_index("ix_action_statuses_quarter_figures", FIGURES)


def downgrade() -> None:
    with op.batch_alter_table("action_statuses") as batch:
        batch.drop_index("ix_action_statuses_quarter_figures")
        batch.create_index("ix_action_statuses_quarter", ["quarter"])
    op.execute("DELETE FROM data_versions WHERE id = 2")
