"""commentary on each quarter, and the board pack's layouts (the briefing book), kept by
each pack build

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commentaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_commentaries_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commentaries")),
        sa.UniqueConstraint("quarter", "scope", "version",
                            name=op.f("uq_commentaries_quarter")),
    )
    with op.batch_alter_table("commentaries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commentaries_quarter"), ["quarter"], unique=False)
    op.create_table(
        "pack_layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("priorities", sa.JSON(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("cover_note", sa.Text(), nullable=False),
        sa.Column("is_for_board", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", tracker.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_pack_layouts_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_layouts")),
        sa.UniqueConstraint("name", name=op.f("uq_pack_layouts_name")),
    )
    with op.batch_alter_table("pack_builds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("layout", sa.JSON(), nullable=False,
                                      server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("pack_builds", schema=None) as batch_op:
        batch_op.drop_column("layout")
    op.drop_table("pack_layouts")
    with op.batch_alter_table("commentaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commentaries_quarter"))
    op.drop_table("commentaries")
