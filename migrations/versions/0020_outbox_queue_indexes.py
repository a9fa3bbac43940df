"""outbox queues: partial indexes of the waiting rows, in id order and by attempts, so a
worker's claim reads only what it could take, however many rows have been sent

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

TABLES = ("deliveries", "notifications", "subscription_confirmations")
WAITING = "status = 'pending'"


def upgrade():
    where = {"postgresql_where": sa.text(WAITING), "sqlite_where": sa.text(WAITING)}
    for table in TABLES:
        op.create_index(f"ix_{table}_waiting", table, ["id"], **where)
        op.create_index(f"ix_{table}_waiting_attempts", table, ["attempts"], **where)


def downgrade():
    for table in TABLES:
        op.drop_index(f"ix_{table}_waiting_attempts", table_name=table)
        op.drop_index(f"ix_{table}_waiting", table_name=table)
