"""speed: a closed round's stored results

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 09:50:00
"""

import sqlalchemy as sa
from alembic import op

import feedback.core.models

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('priority_stored_results',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('computed_at', feedback.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['priority_rounds.id'], name=op.f('fk_priority_stored_results_round_id_priority_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_priority_stored_results'))
    )


def downgrade():
    op.drop_table('priority_stored_results')
