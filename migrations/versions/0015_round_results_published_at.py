"""rounds remember when their results were published (the start of "days to respond")

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import feedback.core.models

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('priority_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_published_at',
                                      feedback.core.models.UTCDateTime(timezone=True),
                                      nullable=True))
    # Rounds already past voting: the planned close is the best record of when results came.
    op.execute("UPDATE priority_rounds SET results_published_at = voting_closes_at "
               "WHERE phase IN ('results', 'responses')")


def downgrade():
    with op.batch_alter_table('priority_rounds', schema=None) as batch_op:
        batch_op.drop_column('results_published_at')
