"""change requests: revised due dates and KPI targets, asked for and decided

An owner asks for a revised due date (an action's or a milestone's) or a revised KPI
target, with a reason; the plan's rules say who decides. The plan file's date or target
stays the baseline; an approved request is kept here, apart from it, so that a plan load
never loses it. open_key is set while a request is open: one open request per item.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('kpi_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('baseline_date', sa.Date(), nullable=True),
    sa.Column('from_date', sa.Date(), nullable=True),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('baseline_value', sa.Double(), nullable=True),
    sa.Column('from_value', sa.Double(), nullable=True),
    sa.Column('requested_value', sa.Double(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', tracker.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('open_key', sa.String(length=40), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', tracker.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_as', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_change_requests_action_id_actions')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_change_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpis.id'], name=op.f('fk_change_requests_kpi_id_kpis')),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_change_requests_milestone_id_milestones')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_change_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_requests')),
    sa.UniqueConstraint('open_key', name=op.f('uq_change_requests_open_key'))
    )
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_requests_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_requests_kpi_id'), ['kpi_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_requests_milestone_id'), ['milestone_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_requests_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_requests_state'))
        batch_op.drop_index(batch_op.f('ix_change_requests_milestone_id'))
        batch_op.drop_index(batch_op.f('ix_change_requests_kpi_id'))
        batch_op.drop_index(batch_op.f('ix_change_requests_action_id'))

    op.drop_table('change_requests')
