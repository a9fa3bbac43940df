"""deliveries: each edition's waiting rows in id order, and the rows being sent by
claim, so that claiming and loading a batch, and finishing an edition, read only the rows
they need, whatever the planner's statistics say just after a large edition starts

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

WAITING = "status = 'pending'"
SENDING = "status = 'sending'"


def upgrade():
    op.create_index("ix_deliveries_edition_waiting", "deliveries", ["edition_id", "id"],
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))
    op.create_index("ix_deliveries_claimed", "deliveries", ["claim_token"],
                    postgresql_where=sa.text(SENDING), sqlite_where=sa.text(SENDING))


def downgrade():
    op.drop_index("ix_deliveries_claimed", table_name="deliveries")
    op.drop_index("ix_deliveries_edition_waiting", table_name="deliveries")
