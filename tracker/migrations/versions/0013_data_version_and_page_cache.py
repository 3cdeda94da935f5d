"""the data version every data write bumps, and the board pages drawn at a version

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    versions = op.create_table(
        "data_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_versions")),
    )
    op.bulk_insert(versions, [{"id": 1, "number": 0}])
    op.create_table(
        "page_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_page_cache")),
    )
    with op.batch_alter_table("page_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_cache_version"), ["version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_cache_version"))
    op.drop_table("page_cache")
    op.drop_table("data_versions")
