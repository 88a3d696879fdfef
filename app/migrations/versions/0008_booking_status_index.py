"""booking index by host, status and start (the upcoming list, its count and the blocking bookings)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain index, no batch: on SQLite a batch that rebuilt the table would drop the booking overlap triggers.
    # end_at is in the index so the upcoming count and the blocking-bookings filter never read a row to test it.
    op.create_index('ix_booking_host_status_start', 'booking', ['host_id', 'status', 'start_at', 'end_at'])


def downgrade() -> None:
    op.drop_index('ix_booking_host_status_start', table_name='booking')
