"""12/24-hour clock: whether the host chose one, and the invitee's choice kept with the booking

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, no batch: on SQLite a batch would rebuild booking and drop its overlap triggers.
    op.add_column('host', sa.Column('clock_chosen', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('booking', sa.Column('clock24', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('host') as batch_op:
        batch_op.drop_column('clock_chosen')
    op.drop_column('booking', 'clock24')
