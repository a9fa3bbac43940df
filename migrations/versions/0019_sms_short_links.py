"""sms: short links for text messages (only the SHA-256 of each code is stored), and subscribers found by phone number (STOP)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'short_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.Enum('edition', 'unsubscribe', name='short_link_purpose',
                                     native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('edition_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['edition_id'], ['editions.id'],
                                name=op.f('fk_short_links_edition_id_editions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'],
                                name=op.f('fk_short_links_subscriber_id_subscribers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_short_links')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_short_links_code_hash')),
    )
    with op.batch_alter_table('short_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_short_links_edition_id'), ['edition_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_short_links_subscriber_id'), ['subscriber_id'],
                              unique=False)
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index('ix_subscribers_phone', ['phone'], unique=False)


def downgrade():
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index('ix_subscribers_phone')
    with op.batch_alter_table('short_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_short_links_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_short_links_edition_id'))
    op.drop_table('short_links')
