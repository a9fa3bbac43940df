"""translation segment owners (whose content a segment is), and platform translator
grants (no organisation)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:00:00

Segments saved before this revision have no owner until
``feedback translation record-owners`` runs; until then only platform translators (and
platform admins) may review them.
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('translation_segment_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_translation_segment_owners_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_segment_owners')),
    sa.UniqueConstraint('source_hash', 'organisation_id', name=op.f('uq_translation_segment_owners_source_hash_organisation_id'))
    )
    with op.batch_alter_table('translation_segment_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_translation_segment_owners_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_segment_owners_source_hash'), ['source_hash'], unique=False)

    with op.batch_alter_table('translator_grants', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM translator_grants WHERE organisation_id IS NULL")
    with op.batch_alter_table('translator_grants', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table('translation_segment_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_translation_segment_owners_source_hash'))
        batch_op.drop_index(batch_op.f('ix_translation_segment_owners_organisation_id'))

    op.drop_table('translation_segment_owners')
