"""translation memory, translators and provider usage

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:40:54.069848
"""

import sqlalchemy as sa
from alembic import op

import feedback.core.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('translation_provider_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=30), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('characters', sa.Integer(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('budget_reached_at', feedback.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified_at', feedback.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('paused_until', feedback.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_provider_usage')),
    sa.UniqueConstraint('provider', 'month', name=op.f('uq_translation_provider_usage_provider_month'))
    )
    op.create_table('translation_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('source_language', sa.String(length=16), nullable=False),
    sa.Column('target_language', sa.String(length=16), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('text_format', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=30), nullable=True),
    sa.Column('status', sa.Enum('pending', 'machine_draft', 'needs_review', 'approved', name='segment_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', feedback.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', feedback.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('translated_at', feedback.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', feedback.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', feedback.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_translation_segments_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['edited_by_id'], ['users.id'], name=op.f('fk_translation_segments_edited_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_segments')),
    sa.UniqueConstraint('source_hash', 'source_language', 'target_language', name=op.f('uq_translation_segments_source_hash_source_language_target_language'))
    )
    with op.batch_alter_table('translation_segments', schema=None) as batch_op:
        batch_op.create_index('ix_translation_segments_queue', ['target_language', 'status'], unique=False)

    op.create_table('translator_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', feedback.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_translator_grants_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_translator_grants_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_translator_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translator_grants')),
    sa.UniqueConstraint('user_id', 'organisation_id', 'language', name=op.f('uq_translator_grants_user_id_organisation_id_language'))
    )
    with op.batch_alter_table('translator_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_translator_grants_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translator_grants_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('translator_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_translator_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_translator_grants_organisation_id'))

    op.drop_table('translator_grants')
    with op.batch_alter_table('translation_segments', schema=None) as batch_op:
        batch_op.drop_index('ix_translation_segments_queue')

    op.drop_table('translation_segments')
    op.drop_table('translation_provider_usage')
