"""new bookings per client address (shared by every process) and released usernames kept for their owner

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'booking_rate_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_rate_event')),
    )
    op.create_index('ix_booking_rate_event_client_at', 'booking_rate_event', ['client', 'created_at'])
    op.create_index('ix_booking_rate_event_created_at', 'booking_rate_event', ['created_at'])
    op.create_table(
        'released_username',
        sa.Column('username', sa.String(length=40), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['host_id'], ['host.id'], name=op.f('fk_released_username_host_id_host'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('username', name=op.f('pk_released_username')),
    )
    op.create_index(op.f('ix_released_username_host_id'), 'released_username', ['host_id'])


def downgrade() -> None:
    op.drop_table('released_username')
    op.drop_table('booking_rate_event')
