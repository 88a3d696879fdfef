"""an event type's own message on the confirmation page

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'event_type', sa.Column('confirmation_message', sa.String(length=1000), nullable=False, server_default='')
    )


def downgrade() -> None:
    with op.batch_alter_table('event_type') as batch_op:
        batch_op.drop_column('confirmation_message')
