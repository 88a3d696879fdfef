"""dashboard settings: event type colour, host clock format and avatar

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock24', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('avatar', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('avatar_type', sa.String(length=20), nullable=False, server_default=''))
    with op.batch_alter_table('event_type', schema=None) as batch_op:
        batch_op.add_column(sa.Column('color', sa.String(length=7), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('event_type', schema=None) as batch_op:
        batch_op.drop_column('color')
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.drop_column('avatar_type')
        batch_op.drop_column('avatar')
        batch_op.drop_column('clock24')
