"""attempts counted in the database (wrong manage tokens, sign-in link requests), shared by every process

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_event')),
    )
    op.create_index('ix_rate_event_kind_key_at', 'rate_event', ['kind', 'key', 'created_at'])
    op.create_index('ix_rate_event_kind_at', 'rate_event', ['kind', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_rate_event_kind_at', table_name='rate_event')
    op.drop_index('ix_rate_event_kind_key_at', table_name='rate_event')
    op.drop_table('rate_event')
