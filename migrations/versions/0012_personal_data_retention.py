"""personal data: the suppression list keeps only a keyed hash of each address; erased
subscribers keep their row (email null) and their consent ledger gets a pseudonymous hash

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        # hmac() for feedback.core.addresses.address_hash_sql (a trusted extension).
        op.execute('CREATE EXTENSION IF NOT EXISTS pgcrypto')

    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)

    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_consent_records_address_hash'), ['address_hash'],
                              unique=False)

    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_hash', sa.String(length=64), nullable=True))
    suppressions = sa.table('suppressions', sa.column('id', sa.Integer),
                            sa.column('email', sa.String), sa.column('address_hash', sa.String))
    rows = bind.execute(sa.select(suppressions.c.id, suppressions.c.email)).all()
    if rows:
        from feedback.core.addresses import address_hash  # needs the app's keys

        seen: set[str] = set()
        for row in rows:
            digest = address_hash(row.email)
            if digest in seen:  # the same address twice: keep one
                bind.execute(suppressions.delete().where(suppressions.c.id == row.id))
                continue
            seen.add(digest)
            bind.execute(suppressions.update().where(suppressions.c.id == row.id)
                         .values(address_hash=digest))
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.alter_column('address_hash', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_suppressions_email'), type_='unique')
        batch_op.drop_column('email')
        batch_op.create_unique_constraint(batch_op.f('uq_suppressions_address_hash'),
                                          ['address_hash'])


def downgrade():
    # The addresses behind the hashes cannot be recovered: the suppression list is emptied.
    op.execute('DELETE FROM suppressions')
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_suppressions_address_hash'), type_='unique')
        batch_op.drop_column('address_hash')
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_suppressions_email'), ['email'])

    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_records_address_hash'))
        batch_op.drop_column('address_hash')

    op.execute('DELETE FROM subscribers WHERE email IS NULL')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
