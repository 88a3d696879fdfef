"""host brand colour for the booking pages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand_color', sa.String(length=7), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.drop_column('brand_color')
