"""pack builds: board packs built in the background, and who asked for them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pack_builds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('quarter', sa.String(length=20), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('today', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('step', sa.String(length=200), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('requested_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('mimetype', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_pack_builds_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_builds')),
    sa.UniqueConstraint('key', name=op.f('uq_pack_builds_key'))
    )
    with op.batch_alter_table('pack_builds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_builds_quarter'), ['quarter'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_builds_state'), ['state'], unique=False)

    op.create_table('pack_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('build_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['build_id'], ['pack_builds.id'], name=op.f('fk_pack_requests_build_id_pack_builds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pack_requests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_requests')),
    sa.UniqueConstraint('build_id', 'user_id', name=op.f('uq_pack_requests_build_id'))
    )
    with op.batch_alter_table('pack_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_requests_build_id'), ['build_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_requests_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pack_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_pack_requests_build_id'))

    op.drop_table('pack_requests')
    with op.batch_alter_table('pack_builds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_builds_state'))
        batch_op.drop_index(batch_op.f('ix_pack_builds_quarter'))

    op.drop_table('pack_builds')
