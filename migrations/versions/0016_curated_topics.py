"""topics are a curated list: a topic an editor types waits for a moderator

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Every term already public stays on the list.
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.drop_column('approved')
