"""round helpers: a partner asks to help collect a round's paper ballots, an organiser answers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 11:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
# The integration branch had two heads (0010_lead and 0011_h2); this joins them.
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('priority_round_invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'role', sa.Enum('organiser', 'paper_helper', name='round_invitation_role',
                            native_enum=False, create_constraint=True, length=20),
            server_default='organiser', nullable=False))
        batch_op.add_column(sa.Column('note', sa.String(length=500), nullable=True))
        batch_op.drop_constraint('uq_priority_round_invitations_round_id_organisation_id',
                                 type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_priority_round_invitations_round_id_organisation_id_role'),
            ['round_id', 'organisation_id', 'role'])


def downgrade():
    op.execute("DELETE FROM priority_round_invitations WHERE role = 'paper_helper'")
    with op.batch_alter_table('priority_round_invitations', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_priority_round_invitations_round_id_organisation_id_role'),
            type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_priority_round_invitations_round_id_organisation_id'),
            ['round_id', 'organisation_id'])
        batch_op.drop_constraint(
            batch_op.f('ck_priority_round_invitations_round_invitation_role'), type_='check')
        batch_op.drop_column('note')
        batch_op.drop_column('role')
